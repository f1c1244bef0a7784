"""Logs: one line per record, carrying the service, the request id and the W3C trace.

Two formats (``LOG_FORMAT``): ``json``, one JSON object per line with an RFC 3339 time and
its UTC offset, for collectors; ``console``, local time, the level in colour and the fields
as ``key=value``, for a person at a terminal. ``auto`` (the default) is ``console`` when
standard output is a terminal and ``json`` otherwise. No JSON line carries an ANSI escape.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from shared.context import request_id_var
from shared.tracing import span_var

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Fields every line gets from the context, and extras never written (uvicorn's coloured copy
# of its message).
_CONTEXT = ("service", "request_id", "trace_id", "span_id")
_DROPPED = frozenset({"color_message"})
_STANDARD = frozenset(RESERVED_ATTRS) | frozenset(_CONTEXT) | _DROPPED | {"message"}
_COLOURS = {"DEBUG": "36", "INFO": "32", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}


def rfc3339(created: float) -> str:
    """``created`` (seconds since the epoch) as RFC 3339 local time with its offset."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        span = span_var.get()
        record.trace_id = span.trace_id if span is not None else None
        record.span_id = span.span_id if span is not None else None
        for name in _DROPPED:
            record.__dict__.pop(name, None)
        return True


class JsonLines(JsonFormatter):
    """JSON with an RFC 3339 time and no terminal escapes in the message."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """Always RFC 3339 (``datefmt`` is ignored)."""
        del datefmt
        return rfc3339(record.created)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        message = log_data.get("message")
        if isinstance(message, str):
            log_data["message"] = _ANSI.sub("", message)
        return log_data


class Console(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL service logger: message key=value ...`` in local time; the level
    coloured when ``colour`` is on."""

    def __init__(self, *, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        clock = datetime.fromtimestamp(record.created).astimezone().strftime("%H:%M:%S.%f")[:-3]
        level = f"{record.levelname:<7}"
        if self.colour:
            level = f"\x1b[{_COLOURS.get(record.levelname, '0')}m{level}\x1b[0m"
        fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and v is not None}
        if record.request_id is not None:  # type: ignore[attr-defined]
            fields["request_id"] = record.request_id  # type: ignore[attr-defined]
        text = " ".join([clock, level, f"{record.service}", f"{record.name}:", record.getMessage()])  # type: ignore[attr-defined]
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def formatter_for(log_format: str, stream: Any = None) -> logging.Formatter:
    """The formatter of ``log_format`` (``auto`` decides by whether ``stream`` is a terminal)."""
    stream = stream if stream is not None else sys.stdout
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if log_format == "console" or (log_format == "auto" and tty):
        return Console(colour=tty)
    return JsonLines(
        "%(asctime)s %(levelname)s %(name)s %(message)s "
        "%(service)s %(request_id)s %(trace_id)s %(span_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )


def configure_logging(service: str, level: str = "INFO", log_format: str = "auto") -> None:
    """Send every log record of the process to stdout, one line each (module docstring)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter(service))
    handler.setFormatter(formatter_for(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request it sends at INFO (httpcore each step at DEBUG): the services'
    # revocation fetches every few seconds would fill the log, and a gateway process must
    # write one access line per request. Failures are logged where they are handled.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Uvicorn's own access log is replaced by ours (one structured line per request).
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
