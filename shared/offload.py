"""A bounded number of worker threads for the CPU-heavy part of a request (an import's
parsing and checks), so that the event loop keeps serving every other request meanwhile.

At most ``size`` jobs hold a slot at once; a request that finds every slot taken waits up
to ``wait_s`` for one, then gets a 503 problem with ``Retry-After``. The function run in a
worker gets the request's context variables (request id and the like, for its logs) and
never touches the request's database session: it takes the uploaded bytes and what was
loaded before (read, never changed), and returns rows or raises a problem.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

from shared.problems import Problem
from shared.settings import ImportWorkerSettings

T = TypeVar("T")


class Workers:
    """Slots for worker-thread jobs: ``await workers.run(parse, data)``, or ``async with
    workers.slot():`` around ``workers.spawn(produce, ...)`` for a job that hands its
    results over while it runs."""

    def __init__(self, size: int, *, wait_s: float, retry_after_s: int) -> None:
        self.size = size
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._free = anyio.Semaphore(size)
        # Jobs whose function is running in a thread right now (starts and ends there).
        self.running = 0
        self._count = threading.Lock()

    @classmethod
    def configured(cls, settings: ImportWorkerSettings) -> Workers:
        """The import workers ``settings`` ask for."""
        return cls(
            settings.import_workers,
            wait_s=settings.import_queue_timeout_s,
            retry_after_s=settings.import_retry_after_s,
        )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the block; a 503 problem when none frees within ``wait_s``."""
        try:
            self._free.acquire_nowait()
        except anyio.WouldBlock:
            with anyio.move_on_after(self.wait_s) as waited:
                await self._free.acquire()
            if waited.cancelled_caught:
                raise Problem(
                    503,
                    "import-workers-busy",
                    f"Every import worker is busy ({self.size} at once); try again in "
                    f"{self.retry_after_s} s.",
                    title="Import workers busy",
                    headers={"Retry-After": str(self.retry_after_s)},
                ) from None
        try:
            yield
        finally:
            self._free.release()

    def _counted(self, fn: Callable[..., T]) -> Callable[..., T]:
        """``fn`` as it runs in a worker: counted in ``running`` while it runs."""

        def counted(*args: object) -> T:
            with self._count:
                self.running += 1
            try:
                return fn(*args)
            finally:
                with self._count:
                    self.running -= 1

        return counted

    def spawn(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """``fn(*args)`` started now in a thread (in a copy of the caller's context), for a
        job that talks to the loop while it runs; call it holding a slot."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, context.run, self._counted(fn), *args)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in a worker thread (in a copy of the caller's context), once a slot
        is free."""
        async with self.slot():
            return await anyio.to_thread.run_sync(self._counted(fn), *args)


def import_workers(request: Request) -> Workers:
    """The app's import workers (``app.state.import_workers``, made at start-up)."""
    workers: Workers = request.app.state.import_workers
    return workers
