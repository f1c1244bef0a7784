"""The language of a response: ``?lang=`` when given, else the best of ``Accept-Language``
(RFC 9110 12.5.4, q-values honoured), else Spanish."""

from __future__ import annotations

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"


def _ranges(accept_language: str) -> list[tuple[float, str]]:
    ranges = []
    for part in accept_language.split(",")[:50]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        if tag and 0 < q <= 1:
            ranges.append((q, tag.strip().lower()))
    return ranges


def negotiate(accept_language: str | None, lang: str | None = None) -> str:
    """``es`` or ``en`` for a request with these ``Accept-Language`` and ``?lang=`` values."""
    if lang and lang.lower() in LANGUAGES:
        return lang.lower()
    best: tuple[float, str] | None = None
    for q, tag in _ranges(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES and (best is None or q > best[0]):
            best = (q, primary)
        elif primary == "*" and best is None:
            best = (q, DEFAULT_LANGUAGE)
    return best[1] if best else DEFAULT_LANGUAGE
