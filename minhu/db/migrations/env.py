"""Alembic environment, async-capable, for PostgreSQL and SQLite (batch mode for SQLite).

Run through ``minhu db upgrade`` (which hands in an open connection) or the ``alembic`` command
with ``-x url=...`` / ``MINHU_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from minhu.db import (  # noqa: F401  (registers the tables)
    assessment_models,
    dialer_models,
    draft_models,
    kb_models,
    models,
    report_models,
)
from minhu.db.base import Base
from minhu.db.engine import create_engine
from minhu.db.migrate import include_object_for

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("MINHU_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
        or "sqlite+aiosqlite:///./var/minhu.db"
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object_for(connection.dialect.name),
    )


def run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (conn := config.attributes.get("connection")) is not None:
    run_with(conn)
else:
    asyncio.run(_run_async())
