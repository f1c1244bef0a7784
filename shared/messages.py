"""Message catalogues (gettext ``.po`` files read with Babel): the problems the suite sends,
in the caller's language.

The code writes its messages in English, as plain strings or f-strings. The Spanish catalogue
``shared/locale/es/LC_MESSAGES/messages.po`` has one entry per message, its ``msgid`` the
English text with each f-string field written ``{name}``; a message is translated where it
leaves the process (``shared.problems.problem_body``), by exact match or, for a message with
fields, by its pattern. ``python3 manage.py messages`` extracts every message of a problem
from the code (``shared.message_extract``) and adds the new ones to the catalogue, to be
translated; ``tests/test_messages.py`` fails while one lacks its translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalogue(language: str) -> Catalog:
    """The ``.po`` catalogue of ``language`` as Babel reads it."""
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    translation: str


@dataclass(frozen=True)
class Translations:
    """One language's messages: exact ones, and patterns of those with fields."""

    exact: dict[str, str]
    patterns: tuple[_Pattern, ...]

    def translate(self, text: str) -> str:
        """``text`` in this language, or as it is when the catalogue does not know it."""
        found = self.exact.get(text)
        if found is not None:
            return found
        for pattern in self.patterns:
            match = pattern.regex.fullmatch(text)
            if match is not None:
                return _fill(pattern.translation, match.groupdict())
        return text


def _fill(template: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _regex(msgid: str) -> re.Pattern[str]:
    parts, last, seen = [], 0, set()
    for match in _FIELD.finditer(msgid):
        parts.append(re.escape(msgid[last : match.start()]))
        name = match.group(1)
        # A field named twice matches anything the second time (its value is the first's).
        parts.append(f"(?P<{name}>.+?)" if name not in seen else "(?:.+?)")
        seen.add(name)
        last = match.end()
    parts.append(re.escape(msgid[last:]))
    return re.compile("".join(parts), re.DOTALL)


@cache
def translations(language: str) -> Translations:
    """The messages of ``language`` (English, the code's own, has none)."""
    if not catalogue_path(language).exists():
        return Translations({}, ())
    exact: dict[str, str] = {}
    patterns: list[_Pattern] = []
    for message in read_catalogue(language):
        if not message.id or not message.string or message.fuzzy:
            continue
        msgid, msgstr = str(message.id), str(message.string)
        if _FIELD.search(msgid):
            patterns.append(_Pattern(_regex(msgid), msgstr))
        else:
            exact[msgid] = msgstr
    # The most specific pattern first: the longest literal text.
    patterns.sort(key=lambda p: -len(_FIELD.sub("", p.regex.pattern)))
    return Translations(exact, tuple(patterns))


def translate(text: str, language: str) -> str:
    """``text`` in ``language`` (``en``: unchanged)."""
    if language == "en" or not text:
        return text
    return translations(language).translate(text)


def fields(text: str) -> set[str]:
    """The ``{name}`` fields of a message."""
    return set(_FIELD.findall(text))
