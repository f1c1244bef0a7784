"""Per-request context shared by logging, problems and outgoing calls."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The language of the answer being made (``shared.i18n``): ``en`` outside a request.
language_var: ContextVar[str] = ContextVar("language", default="en")
