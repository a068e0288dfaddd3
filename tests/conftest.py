"""Shared fixtures: a fresh test database (PostgreSQL or SQLite, from MINHU_TEST_DATABASE_URL)
migrated once per session, a session per test inside a transaction that is rolled back, and the
API app over that session with an injectable clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from minhu.db.engine import create_engine
from minhu.db.migrate import upgrade
from minhu.settings import Settings
from workorders.clock import SHANGHAI, FixedClock

DEFAULT_TEST_URL = "postgresql+asyncpg:///minhu_test?host=/var/run/postgresql"


def test_database_url() -> str:
    return os.environ.get("MINHU_TEST_DATABASE_URL") or DEFAULT_TEST_URL


def _remove_sqlite_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(path + suffix).unlink(missing_ok=True)


async def recreate_database(url: str) -> None:
    """An empty database at ``url``: dropped and created on PostgreSQL, a new file on SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _remove_sqlite_files(parsed.database)
        return
    name = parsed.database
    assert name and name.replace("_", "").isalnum(), f"refusing odd database name {name!r}"
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


def private_database_url(url: str) -> str:
    """The configured test database, made private to this pytest process (``name_<pid>``), so
    that two runs on one machine never drop each other's database."""
    parsed = make_url(url)
    suffix = f"_{os.getpid()}"
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return url
        path = Path(parsed.database)
        return parsed.set(database=str(path.with_name(path.stem + suffix + path.suffix))).render_as_string(
            hide_password=False
        )
    return parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _remove_sqlite_files(parsed.database)
        return
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
async def db_engine() -> AsyncIterator[AsyncEngine]:
    url = private_database_url(test_database_url())
    await recreate_database(url)
    engine = create_engine(url)
    await upgrade(engine)
    yield engine
    await engine.dispose()
    await drop_database(url)


@pytest.fixture
async def db_session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside one transaction, rolled back at the end."""
    async with db_engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture
def clock() -> FixedClock:
    """Wed 2026-09-30 10:00 in Shanghai: the worked example's moment of receipt (RULES.md)."""
    return FixedClock(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=test_database_url(),
        jwt_secret="test-secret-test-secret-test-secret-0123",
        access_token_minutes=7 * 24 * 60,
        log_level="WARNING",
    )


@pytest.fixture
async def app(settings: Settings, clock: FixedClock, db_session: AsyncSession) -> AsyncIterator[object]:
    from agent_desktop.app import create_app
    from agent_desktop.deps import get_session

    application = create_app(settings, clock=clock)

    async def the_test_session() -> AsyncIterator[AsyncSession]:
        yield db_session

    application.dependency_overrides[get_session] = the_test_session
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://minhu.test") as c:
        yield c
