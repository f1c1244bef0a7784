"""A transaction PostgreSQL aborts because of a concurrent one (a deadlock, a serialization
failure) is a 409 the client may send again, never a 500; other database errors keep their
answers."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from shared.problems import install_problem_handlers
from tests.support import assert_problem


def _app(error: BaseException) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/write")
    async def write() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
    ],
)
async def test_a_lost_race_is_a_409_to_retry(driver_error: Exception) -> None:
    error = DBAPIError("COPY pcb_items ...", None, driver_error)
    transport = httpx.ASGITransport(app=_app(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/write")
    assert_problem(answer, 409, "conflict")
    assert answer.headers["retry-after"] == "1"
    assert "COPY" not in answer.text  # no SQL in the answer


async def test_other_database_errors_are_not_conflicts() -> None:
    error = DBAPIError("SELECT 1", None, asyncpg.exceptions.DivisionByZeroError("division"))
    transport = httpx.ASGITransport(app=_app(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/write")
    assert answer.status_code == 500
