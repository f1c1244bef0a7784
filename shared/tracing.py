"""W3C Trace Context (``traceparent``): the trace a request belongs to, kept across processes.

A request arriving with a valid ``traceparent`` joins that trace; any other starts a new one.
Each process handling the request is a new span of the trace (its own span id), logs the
trace and span ids on every line, and sends ``traceparent`` with its span as the parent to
whatever it calls (the gateway to a service). https://www.w3.org/TR/trace-context/
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from dataclasses import dataclass

# version "-" trace-id "-" parent-id "-" trace-flags; lowercase hex only (§3.2.2). A future
# version may append fields after the flags, separated by "-" (§3.2.4.1).
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class Span:
    """This process's part of a trace: the trace id, its own span id, the caller's span id (if
    it came with the request) and the sampled flag."""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    flags: str = "01"

    def traceparent(self) -> str:
        """The ``traceparent`` to send downstream: this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


span_var: ContextVar[Span | None] = ContextVar("span", default=None)


def parse_traceparent(value: str) -> tuple[str, str, str] | None:
    """(trace id, parent id, flags) of a valid ``traceparent`` header, else None."""
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    # Version ff is forbidden; version 00 has exactly four fields; all-zero ids are invalid.
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE:
        return None
    if parent_id == _ZERO_SPAN:
        return None
    return trace_id, parent_id, flags


def span_for(headers: list[tuple[bytes, bytes]]) -> Span:
    """The span of a request with ``headers``: in the caller's trace when it sent a valid
    ``traceparent``, else in a new trace."""
    for name, value in headers:
        if name == b"traceparent":
            parsed = parse_traceparent(value.decode("latin-1"))
            if parsed is not None:
                trace_id, parent_id, flags = parsed
                return Span(trace_id, os.urandom(8).hex(), parent_id, flags)
            break
    return Span(os.urandom(16).hex(), os.urandom(8).hex())


def outgoing_traceparent() -> str | None:
    """The ``traceparent`` for a call made while handling the current request (None outside
    a request)."""
    span = span_var.get()
    return span.traceparent() if span is not None else None
