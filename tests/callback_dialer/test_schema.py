"""The dialer's migration creates exactly what ``minhu.db.dialer_models`` declares."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

import minhu.db.dialer_models  # noqa: F401  (registers the dialer's tables)
from minhu.db.base import Base
from minhu.db.migrate import include_object_for

pytestmark = pytest.mark.db

DIALER_TABLES = {"revisit_tasks", "revisit_attempt_log", "revisit_do_not_call"}


def _table_of(change: object) -> str | None:
    item = change[0] if isinstance(change, list) else change
    assert isinstance(item, tuple)
    for part in item[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name in DIALER_TABLES:
            return str(name)
        if isinstance(part, str) and part in DIALER_TABLES:
            return part
    return None


async def test_the_dialer_migration_matches_the_dialer_models(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_object": include_object_for(sync.dialect.name)}
                ),
                Base.metadata,
            )
        )
    assert [d for d in diff if _table_of(d) in DIALER_TABLES] == []
    assert not any(_table_of(d) is None for d in diff), diff
