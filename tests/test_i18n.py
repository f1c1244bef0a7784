"""The language of an answer: ?lang=, then Accept-Language with its q-values, then Spanish."""

from __future__ import annotations

import pytest

from shared.i18n import negotiate


@pytest.mark.parametrize(
    ("accept", "lang", "chosen"),
    [
        (None, None, "es"),
        ("", None, "es"),
        ("en-US,en;q=0.9", None, "en"),
        ("es-PE", None, "es"),
        ("fr-FR, en;q=0.5, es;q=0.4", None, "en"),
        ("en;q=0.2, es-PE;q=0.8", None, "es"),
        ("de, fr", None, "es"),
        ("*", None, "es"),
        ("en;q=0", None, "es"),  # q=0: not acceptable
        ("en;q=abc, es;q=0.1", None, "es"),  # a malformed range is skipped
        ("EN-gb", None, "en"),
        ("en", "es", "es"),  # ?lang= wins
        ("es", "EN", "en"),
        ("en", "fr", "en"),  # an unsupported ?lang= is ignored
    ],
)
def test_negotiate(accept: str | None, lang: str | None, chosen: str) -> None:
    assert negotiate(accept, lang) == chosen
