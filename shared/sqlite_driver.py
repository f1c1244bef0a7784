"""aiosqlite with fewer trips to its thread: reads run at once, writes go to the thread.

SQLAlchemy's aiosqlite adapter hands every step of a statement to aiosqlite's worker thread
and waits for the answer: making the cursor, executing, fetching, closing — four trips per
SELECT, plus a commit and a rollback per request even when nothing was written. Each trip
wakes the thread and then the event loop (tens of µs of CPU each, more than a small query).

Here, on the same aiosqlite connections (same pool, pragmas and error types):

- a read (``SELECT``, or a ``WITH`` query that writes nothing) runs on the event loop's
  thread, fetched whole: in WAL mode a reader never waits for a writer's lock, so this
  never blocks on another connection;
- everything else (``INSERT``/``UPDATE``/``DELETE``, DDL, ``executemany``) runs in
  aiosqlite's thread in one trip (execute and fetch together): a write may wait up to the
  busy timeout for another writer's lock, and must not stall the loop meanwhile;
- ``commit``/``rollback`` with no transaction open (every read-only request) cost nothing;
- server-side cursors (streamed exports) keep aiosqlite's own cursor, fetch by fetch.

SQLite connections are opened with ``check_same_thread=False`` (SQLAlchemy's default for
file databases), and one connection serves one session at a time, its statements awaited
in turn, so the loop's thread and the worker never use a connection at once.
"""

from __future__ import annotations

import collections
import re
import sqlite3
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# Statements that only read; a WITH query that writes (WITH ... INSERT) is not one.
_READ = re.compile(r"\s*(SELECT\b|WITH\b)", re.IGNORECASE)
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def is_read(sql: str) -> bool:
    """True for a statement that cannot write (so never waits for a lock in WAL mode)."""
    match = _READ.match(sql)
    if match is None:
        return False
    return match.group(1).upper() == "SELECT" or _WRITES.search(sql) is None


def _run(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any] | None:
    """Execute and fetch every row (None when the statement returns none)."""
    if parameters is None:
        cursor.execute(sql)
    else:
        cursor.execute(sql, parameters)
    return cursor.fetchall() if cursor.description else None


async def _run_here(cursor: sqlite3.Cursor, sql: str, parameters: Any) -> list[Any] | None:
    """``_run`` as a coroutine that never suspends: awaited from SQLAlchemy's greenlet it
    runs at once on the loop's thread (and the async engine sees the await it expects)."""
    return _run(cursor, sql, parameters)


class InlineReadCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor over a plain ``sqlite3`` cursor: reads on the loop's thread, other
    statements in aiosqlite's thread, one trip each."""

    __slots__ = ()

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        try:
            self._cursor = self._connection._conn.cursor()
        except Exception as error:  # a closed connection: as aiosqlite would raise it
            adapt_connection._handle_exception(error)
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    @property
    def _plain(self) -> sqlite3.Cursor:
        return cast(sqlite3.Cursor, self._cursor)

    async def _async_soft_close(self) -> None:
        """Nothing to await: closing a plain cursor is immediate."""

    def close(self) -> None:
        self._rows.clear()
        self._plain.close()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            if is_read(operation) and not self._adapt_connection._execute_mutex.locked():
                rows = await_(_run_here(self._plain, operation, parameters))
            else:
                rows = await_(self._connection._execute(_run, self._plain, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(rows or ())

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            many = self._plain.executemany
            await_(self._connection._execute(many, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def nextset(self) -> None:
        raise NotImplementedError("sqlite3 has no nextset")

    def setinputsizes(self, *inputsizes: Any) -> None:
        """sqlite3 ignores input sizes."""


class InlineReadConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's adapted connection with :class:`InlineReadCursor` and free commits and
    rollbacks when no transaction is open."""

    __slots__ = ()
    _cursor_cls = InlineReadCursor  # type: ignore[assignment]

    def _in_transaction(self) -> bool:
        conn = self._connection._connection
        return conn is not None and conn.in_transaction

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


class InlineReadDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI adapter, its connections :class:`InlineReadConnection`."""

    def connect(self, *arg: Any, **kw: Any) -> InlineReadConnection:
        adapted = super().connect(*arg, **kw)
        return InlineReadConnection(self, adapted._connection)


def inline_read_dbapi() -> InlineReadDBAPI:
    """The DBAPI module to give ``create_async_engine(module=...)`` for SQLite."""
    return InlineReadDBAPI(aiosqlite, sqlite3)
