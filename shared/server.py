"""uvicorn's httptools protocol with a bound on a request's line and headers.

httptools keeps every byte of an unfinished request head in memory and has no size limit of
its own (an 8 MB header reached the app whole). Here the bytes that arrive while a head is
unfinished are counted, and a complete head is measured; past ``max_head_bytes`` the
connection gets a 431 problem and is closed, and the app never sees the request. Memory per
connection stays within that bound plus one read.
"""

from __future__ import annotations

import json
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.problems import PROBLEM_JSON, problem_body

# After a refusal, what the client still sends is read and dropped for this long, so that it
# can read the 431 before the connection closes (closing with unread data resets it).
LINGER_S = 2.0


class _HeadTooLarge(httptools.HttpParserError):
    """Stops the parser once a complete head was found too large (already answered)."""


class BoundedHeadProtocol(HttpToolsProtocol):
    """HttpToolsProtocol refusing (431) a request head larger than ``max_head_bytes``."""

    max_head_bytes = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The next bytes parsed belong to a request line or headers (of the next request too,
        # once the last one is complete); how many came so far.
        self._in_head = True
        self._head_bytes = 0
        self._completed = False  # a request ended in the read being parsed
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._completed = False
        in_head = self._in_head
        super().data_received(data)
        # A read that began and ended inside one head is head bytes through and through. One
        # that also held the end of the request before (pipelined) is not counted: how much of
        # it was head is unknown, and one read is bounded by the event loop anyway.
        if in_head and self._in_head and not self._completed:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse()

    def on_headers_complete(self) -> None:
        self._in_head = False
        # A head that came whole in one read: measured as parsed (line, names and values).
        size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
        if size > self.max_head_bytes:
            self._refuse()
            raise _HeadTooLarge  # the app never sees this request
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a refused head has its 431 already
            super().send_400_response(msg)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._completed = True, 0, True

    def _refuse(self) -> None:
        self._refused = True
        detail = f"The request line and headers are larger than {self.max_head_bytes} bytes."
        body = json.dumps(problem_body(431, "headers-too-large", detail=detail)).encode()
        head = (
            f"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {PROBLEM_JSON}\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)


def bounded_head_protocol(max_head_bytes: int) -> type[BoundedHeadProtocol]:
    """The protocol class for uvicorn's ``http`` option, with this bound."""
    return type("BoundedHeadProtocol", (BoundedHeadProtocol,), {"max_head_bytes": max_head_bytes})
