"""What the three Alembic environments share: async engine, batch mode, own version table."""

from __future__ import annotations

import asyncio
import logging.config
from pathlib import Path
from typing import Any, Literal

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import UTCDateTime


def _render_item(type_: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application code: UTCDateTime is a timezone-aware DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(
    connection: Connection | None, url: str, metadata: MetaData, version_table: str
) -> None:
    context.configure(
        connection=connection,
        url=None if connection is not None else url,
        target_metadata=metadata,
        version_table=version_table,
        # SQLite cannot ALTER most things; batch mode rebuilds tables the same way everywhere.
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        literal_binds=connection is None,
    )


def run(*, default_url: str, metadata: MetaData, version_table: str) -> None:
    """Run this environment's migrations online (async engine) or offline (SQL script).

    The URL comes from ``config.attributes["url"]`` when a caller (the tests) sets it, else
    from the service's settings.
    """
    config = context.config
    if config.config_file_name and config.attributes.get("configure_logger", True):
        logging.config.fileConfig(Path(config.config_file_name), disable_existing_loggers=False)
    url = config.attributes.get("url") or default_url
    if context.is_offline_mode():
        _configure(None, url, metadata, version_table)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        _configure(connection, url, metadata, version_table)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    connection = config.attributes.get("connection")
    if connection is not None:
        do_run(connection)
    else:
        asyncio.run(run_async())
