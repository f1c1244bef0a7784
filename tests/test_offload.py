"""The bounded import workers (shared/offload.py): a job runs in a thread with the caller's
context variables, its errors come back as raised, and past the workers (after the wait) a
503 problem with Retry-After; a slot that frees within the wait is taken."""

from __future__ import annotations

import asyncio
import threading

import pytest

from shared.context import request_id_var
from shared.offload import Workers
from shared.problems import Problem


def in_worker() -> tuple[str | None, bool]:
    return request_id_var.get(), threading.current_thread() is threading.main_thread()


async def test_a_job_runs_in_a_thread_with_the_request_context() -> None:
    workers = Workers(2, wait_s=0, retry_after_s=5)
    request_id_var.set("req-1")
    assert await workers.run(in_worker) == ("req-1", False)
    async with workers.slot():
        assert await workers.spawn(in_worker) == ("req-1", False)
    assert workers.running == 0


async def test_a_problem_raised_in_the_worker_is_raised_to_the_caller() -> None:
    def refuse() -> None:
        raise Problem(422, "invalid-iati", "The file cannot be read.")

    workers = Workers(1, wait_s=0, retry_after_s=5)
    with pytest.raises(Problem) as raised:
        await workers.run(refuse)
    assert raised.value.slug == "invalid-iati"
    assert await workers.run(lambda: "free again") == "free again"


@pytest.mark.parametrize("wait_s", [0, 0.05])
async def test_past_the_workers_a_503_with_retry_after(wait_s: float) -> None:
    workers = Workers(1, wait_s=wait_s, retry_after_s=9)
    async with workers.slot():
        with pytest.raises(Problem) as raised:
            await workers.run(lambda: None)
    problem = raised.value
    assert (problem.status, problem.slug) == (503, "import-workers-busy")
    assert problem.headers == {"Retry-After": "9"}
    assert await workers.run(lambda: 1) == 1  # the refused job took no slot


async def test_a_slot_freed_within_the_wait_is_taken() -> None:
    workers = Workers(1, wait_s=60, retry_after_s=5)
    held = workers.slot()
    await held.__aenter__()
    waiting = asyncio.create_task(workers.run(lambda: "ran"))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await held.__aexit__(None, None, None)
    assert await waiting == "ran"
