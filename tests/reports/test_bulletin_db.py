"""The monthly bulletin from the database (PostgreSQL, and SQLite with MINHU_TEST_DATABASE_URL):
the demo city seeded in the test's transaction, the bulletin built by the service as of a fixed
moment, and its figures compared with what the database holds."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import WorkOrderRow
from minhu.demo_seed import seed_demo
from minhu.policy import load_profile
from minhu.reports.service import produce_report
from minhu.settings import Settings
from workorders.analysis import Window
from workorders.clock import SHANGHAI, FixedClock

pytestmark = pytest.mark.db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


class _SameSession:
    """A session factory handing out the test's session (kept open: the test owns it)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def __call__(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        @contextlib.asynccontextmanager
        async def scope() -> AsyncIterator[AsyncSession]:
            yield self.session

        return scope()


async def test_given_the_seeded_city_when_the_october_bulletin_is_made_then_its_figures_match_the_orders(
    db_session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    await seed_demo(_SameSession(db_session), policy=load_profile(), now=NOW)  # type: ignore[arg-type]
    october = Window.month(2026, 10)
    files = await produce_report(db_session, settings, october, clock=FixedClock(NOW), out_dir=tmp_path)
    start, end = october.bounds(SHANGHAI)
    registered = WorkOrderRow.registered_at
    in_month = await db_session.scalar(
        select(func.count()).select_from(WorkOrderRow).where(registered >= start, registered < end)
    )
    a = files.analysis
    assert a.received == in_month and a.received > 100
    assert a.accepted == a.received - a.not_accepted
    assert sum((s.rate or 0 for s in a.category_table.shares()), Fraction(0)) == 1
    assert a.category_table.count("城市管理") > a.category_table.count("教育卫生")
    sewer = [d for d in a.difficult if d.topic.name == "市政管网"]
    assert sewer and sewer[0].where == "矿工路街道光明小区3号楼" and len(sewer[0].periods) >= 3

    sections = {s.title: s for s in files.bulletin.sections}
    ranking = sections["六、考核排名"]
    districts = next(t for t in ranking.tables if t.key == "ranking_district")
    assert {row[1] for row in districts.rows} == {"新华区", "卫东区", "湛河区"}
    assert next(row[0] for row in districts.rows if row[0] is not None) == 1
    leader = sections["七、领导接线日"]
    assert [row[2] for row in leader.tables[0].rows] == ["李建华", "王立新"]
    assert leader.notices == (), "October's and November's leaders were published a week ahead"
    assert files.paths["html"].is_file() and files.paths["docx"].is_file()
