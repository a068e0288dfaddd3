"""The async engine and session factory, built from settings by each entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _json_loads(text: str) -> Any:
    """``json.loads`` with a shortcut for the empty list: most of an order's nested-record
    columns (extensions, returns, contacts, ...) are empty, and a list page decodes hundreds."""
    if text == "[]":
        return []
    return json.loads(text)


def create_engine(
    database_url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 20
) -> AsyncEngine:
    """An async engine for PostgreSQL (asyncpg) or SQLite (aiosqlite).

    For SQLite the file's folder is created, foreign keys are switched on, and the driver's own
    transaction handling is replaced by explicit ``BEGIN`` so that SAVEPOINTs work (the test
    suite rolls every test back through one).
    """
    url = make_url(database_url)
    kwargs: dict[str, Any] = {"echo": echo, "json_deserializer": _json_loads}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        # No pre-ping (a round trip on every checkout, two per order created): connections are
        # recycled after half an hour instead, before any idle timeout on the way can cut them.
        kwargs.update(pool_recycle=1800, pool_size=pool_size, max_overflow=max_overflow)
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _make_sqlite_transactional(engine)
    return engine


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
