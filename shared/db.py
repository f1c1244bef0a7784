"""Database helpers shared by the services: engine, sessions, naming convention, types."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from shared.sqlite_driver import inline_read_dbapi

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

log = logging.getLogger("enlace.db")

# One naming convention for every service, so Alembic's autogenerate names constraints the
# same way on SQLite and PostgreSQL and batch migrations can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData carrying the shared naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Enlace stores UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    # TypeDecorator's interface fixes the name ``dialect``; reading back is the same everywhere.
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def _sqlite_pragmas(busy_timeout_s: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # A write waits this long for another writer's lock, then "database is locked" (503).
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    timeout_s: float = 5.0,
    pool_timeout_s: float = 10.0,
    pre_ping: bool = True,
) -> AsyncEngine:
    """An async engine: asyncpg for PostgreSQL, aiosqlite for SQLite.

    At most ``pool_size + max_overflow`` connections; a request finding them all in use
    waits ``pool_timeout_s`` for one, then gets a 503 (``shared.problems``). ``timeout_s``
    bounds connecting. ``pre_ping`` (PostgreSQL) tests a pooled connection before handing
    it out, so one that died with a server restart is replaced instead of failing a request;
    not for a read session's (``READING``), which retries instead (``ReadSession``): a round
    trip per checkout would cost more than most reads.
    """
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout_s}
    if url.startswith("sqlite"):
        # Reads on the loop's thread, writes in aiosqlite's, one trip each (sqlite_driver).
        engine = create_async_engine(
            url, module=inline_read_dbapi(), connect_args={"timeout": timeout_s}, **pool
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(timeout_s))
        return engine
    engine = create_async_engine(
        url, connect_args={"timeout": timeout_s, "command_timeout": 60}, **pool
    )
    if pre_ping:
        event.listen(engine.sync_engine, "checkout", _ping_unless_reading(engine.dialect))
    return engine


# Set while a read session runs (GET and HEAD requests): its checkouts are not pinged.
READING: ContextVar[bool] = ContextVar("enlace_db_reading", default=False)


def _ping_unless_reading(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    """``pool_pre_ping`` for every checkout but a read session's: a connection that does not
    answer is replaced (the pool retries with a new one)."""

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if READING.get():
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if not dialect.is_disconnect(cast(Any, exc), dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("pooled connection did not answer its ping")

    return on_checkout


class ReadSession(Session):
    """The session of a read: when its first statement meets a pooled connection that died
    (a database restart), the statement runs again on a new one. Nothing was read nor
    written yet, and a read session has no transaction to lose (autocommit), so this is
    what a ping on checkout would have done, paid only when a connection is found dead."""

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._retrying(super().execute, args, kwargs)

    def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return self._retrying(super().scalar, args, kwargs)

    def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return self._retrying(super().scalars, args, kwargs)

    def _retrying(self, run: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        if self.info.get(_ANSWERED):
            return run(*args, **kwargs)
        try:
            result = run(*args, **kwargs)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("pooled connection found dead; reading again on a new one")
            self.rollback()
            result = run(*args, **kwargs)
        self.info[_ANSWERED] = True
        return result


_ANSWERED = "enlace.answered"
READ_METHODS = frozenset({"GET", "HEAD"})


def sqlite_sync_twin(engine: AsyncEngine, *, timeout_s: float = 5.0) -> Engine | None:
    """For a SQLite ``engine``: a synchronous engine on the same file with the same pragmas,
    so that a unit of work can run whole in one worker thread (aiosqlite hands every cursor,
    execute and fetch to its thread and back: dozens of hops for one short transaction).
    None for other databases."""
    if engine.dialect.name != "sqlite":
        return None
    twin = create_engine(engine.url.set(drivername="sqlite"), connect_args={"timeout": timeout_s})
    event.listen(twin, "connect", _sqlite_pragmas(timeout_s))
    return twin


class Database:
    """The engine and session factory of one service, opened and closed by its lifespan."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        timeout_s: float = 5.0,
        pool_timeout_s: float = 10.0,
        pre_ping: bool = True,
    ) -> None:
        self.engine = make_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            timeout_s=timeout_s,
            pool_timeout_s=pool_timeout_s,
            pre_ping=pre_ping,
        )
        self.timeout_s = timeout_s
        # expire_on_commit=False: objects stay readable after commit without a lazy reload.
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads take no transaction on PostgreSQL: no BEGIN and COMMIT round trips (in READ
        # COMMITTED every statement has its own snapshot anyway). SQLite opens none for a
        # SELECT, and its commits without a transaction are free (sqlite_driver).
        # With pre_ping, a read retries on a dead pooled connection instead of pinging.
        reader, session_class = self.engine, Session
        if self.engine.dialect.name != "sqlite":
            reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            session_class = ReadSession if pre_ping else Session
        self.read_sessions = async_sessionmaker(
            reader, expire_on_commit=False, sync_session_class=session_class
        )
        # Reads that may stream: server-side cursors need a transaction on PostgreSQL.
        self.stream_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=session_class
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Database:
        """The database of a process, its pool sized by its ``*_DB_*`` settings."""
        return cls(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            timeout_s=settings.db_timeout_s,
            pool_timeout_s=settings.db_pool_timeout_s,
            pre_ping=settings.db_pool_pre_ping,
        )

    async def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1`` within the timeout."""
        async with asyncio.timeout(self.timeout_s), self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Dispose of the connection pool."""
        await self.engine.dispose()


AFTER_COMMIT = "enlace.after_commit"


def after_commit(session: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Run ``hook`` once the request's session has committed (and before the response is
    sent), e.g. to reload an in-memory cache that must see the change. Not run on rollback."""
    session.info.setdefault(AFTER_COMMIT, []).append(hook)


async def _rollback(session: AsyncSession) -> None:
    # On a connection that died (a database restart) the rollback fails too: that failure
    # must not replace the error being raised, which says what happened (and answers 503).
    # Closing the session then gives the broken connection back to the pool, which drops it.
    try:
        await session.rollback()
    except Exception as exc:
        log.warning("rollback failed: %s", type(exc).__name__)


@asynccontextmanager
async def _request_session(
    reading: bool, factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncSession]:
    READING.set(reading)
    try:
        async with factory() as session:
            try:
                yield session
                # A read has nothing to commit (unless a GET changed objects after all).
                if not reading or session.new or session.dirty or session.deleted:
                    await session.commit()
            except BaseException:
                await _rollback(session)
                raise
            for hook in session.info.pop(AFTER_COMMIT, []):
                await hook()
    finally:
        # Not reset(): a request-scoped dependency may be closed from another context.
        READING.set(False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed on success, rolled back on error. GET and HEAD
    requests get a read session (``Database.read_sessions``): no write transaction."""
    db: Database = request.app.state.db
    reading = request.method in READ_METHODS
    async with _request_session(reading, db.read_sessions if reading else db.sessions) as s:
        yield s


async def get_streaming_session(request: Request) -> AsyncIterator[AsyncSession]:
    """``get_session`` for routes that may stream: a read's session is in a (read)
    transaction (``Database.stream_sessions``), which PostgreSQL's server-side cursors need."""
    db: Database = request.app.state.db
    reading = request.method in READ_METHODS
    async with _request_session(reading, db.stream_sessions if reading else db.sessions) as s:
        yield s


# scope="function": the commit happens before the response is sent, so a caller never gets
# a 2xx for a change that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
# For read routes that stream their answer (CSV, GeoJSON, XML): the session must live until
# the last byte is sent. Never for writes.
StreamingSessionDep = Annotated[AsyncSession, Depends(get_streaming_session, scope="request")]


class VersionedMixin:
    """Audit timestamps and an optimistic-concurrency version (the ETag of a record)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}
