"""Conditional requests: ETags on reads (304), If-Match on writes (428/412), RFC 9110 13."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi import Request, Response

from shared.problems import Problem

T = TypeVar("T")


def etag(*parts: object) -> str:
    """A strong ETag for a representation identified by ``parts`` (e.g. id and version)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def not_modified(request: Request, current: str) -> bool:
    """True when the caller's If-None-Match already names ``current`` (answer 304)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or current in tags


def require_if_match(request: Request, current: str) -> None:
    """Refuse a write without If-Match (428) or with a stale one (412): no lost updates."""
    header = request.headers.get("if-match")
    if not header:
        raise Problem(
            428,
            "precondition-required",
            "Send If-Match with the ETag you last read, so that no update is lost.",
        )
    tags = _tags(header)
    if "*" not in tags and current not in tags:
        raise Problem(
            412,
            "precondition-failed",
            "The record changed since you read it; read it again and retry.",
            headers={"ETag": current},
        )


def combined_etag(parts: Iterable[object]) -> str:
    """An ETag for a collection page (changes whenever any member changes)."""
    return etag(*parts)


def tagged(response: Response, body: T, tag: str) -> T:
    """``body`` with its ETag set on the route's injected ``response``."""
    response.headers["ETag"] = tag
    return body


def read_answer(request: Request, response: Response, body: T, tag: str) -> T | Response:
    """``body`` with its ETag, or an empty 304 when the caller already holds ``tag``.

    The 304 is a bare ``Response``: it has no body for the response model to check.
    """
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return tagged(response, body, tag)


class AnswerCache:
    """Answers already built, by their ETag (a process's own, on ``app.state.answers``).

    An ETag names the data an answer was built from (versions, change counters, the
    caller's audience), so the same tag means the same answer: a read whose inputs have
    not changed is answered with the model built the first time, without reading and
    computing it again. Bounded: the least recently used answers go first."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._answers: OrderedDict[str, Any] = OrderedDict()

    async def get(self, tag: str | None, build: Callable[[], Awaitable[T]]) -> T:
        """The answer cached for ``tag``, else ``build()``'s (then cached); ``tag`` None:
        nothing is cached."""
        if tag is None:
            return await build()
        if tag in self._answers:
            self._answers.move_to_end(tag)
            found: T = self._answers[tag]
            return found
        answer = await build()
        self._answers[tag] = answer
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return answer


def answer_cache(request: Request) -> AnswerCache:
    """The app's cache of built answers (made on first use)."""
    state = request.app.state
    cache: AnswerCache | None = getattr(state, "answers", None)
    if cache is None:
        cache = state.answers = AnswerCache()
    return cache
