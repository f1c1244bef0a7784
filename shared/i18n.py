"""The language of a response: ``?lang=`` when given, else the best of ``Accept-Language``
(RFC 9110 12.5.4, q-values honoured), else a default: Spanish for the pages people read,
English (the messages' own language) for API answers to a client that asks for none."""

from __future__ import annotations

from urllib.parse import parse_qsl

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


def negotiate(
    accept_language: str | None, lang: str | None = None, default: str = DEFAULT_LANGUAGE
) -> str:
    """``es`` or ``en`` for a request with these ``Accept-Language`` and ``?lang=`` values."""
    if lang and lang.lower() in LANGUAGES:
        return lang.lower()
    best: tuple[float, str] | None = None
    for q, tag in _ranges(accept_language or ""):
        primary = tag.split("-")[0]
        if primary in LANGUAGES and (best is None or q > best[0]):
            best = (q, primary)
        elif primary == "*" and best is None:
            best = (q, default)
    return best[1] if best else default


API_DEFAULT_LANGUAGE = "en"


def request_language(headers: list[tuple[bytes, bytes]], query_string: bytes) -> str:
    """The language of an API answer to a raw ASGI request (``lang`` query, then
    ``Accept-Language``, else English)."""
    lang = None
    if b"lang=" in query_string:
        lang = next((v for k, v in parse_qsl(query_string.decode("latin-1")) if k == "lang"), None)
    accept = next((v.decode("latin-1") for k, v in headers if k == b"accept-language"), None)
    if lang is None and accept is None:
        return API_DEFAULT_LANGUAGE
    return negotiate(accept, lang, API_DEFAULT_LANGUAGE)
