"""Order numbers on PostgreSQL come from one sequence per day (minhu/db/numbering.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from minhu.db.engine import create_engine
from minhu.db.migrate import upgrade
from minhu.db.numbering import sequence_name
from minhu.db.repositories.orders import OrderRepository
from minhu.policy import load_profile
from minhu.services.calendar import CalendarProvider
from minhu.services.workorders import WorkOrderService
from workorders.clock import SHANGHAI, FixedClock
from workorders.enums import Category, Channel, RequestKind, Role
from workorders.model import Actor, Citizen

from ..conftest import drop_database, private_database_url, recreate_database
from ..conftest import test_database_url as configured_database_url

pytestmark = pytest.mark.db

AGENT = Actor(user_id="9001", role=Role.INTAKE_AGENT, name="受理员")


@pytest.fixture(scope="module")
async def pg() -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL database of this module's own: its registrations commit (as the API's do),
    and the suite's other tests, which see one shared database, must not see them."""
    url = configured_database_url()
    if make_url(url).get_backend_name() != "postgresql":
        pytest.skip("per-day sequences are PostgreSQL's; SQLite counts in order_number_counters")
    private = make_url(private_database_url(url))
    url = private.set(database=f"{private.database}_numbering").render_as_string(hide_password=False)
    await recreate_database(url)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        await drop_database(url)


def _service(session: AsyncSession, at: datetime) -> WorkOrderService:
    return WorkOrderService(
        session,
        clock=FixedClock(at),
        policy=load_profile("pingdingshan-2022"),
        calendars=CalendarProvider(),
        via="api",
    )


async def _register(engine: AsyncEngine, at: datetime) -> str:
    """A registration as the API makes it: its own session, statements autocommitted."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        view = await _service(session, at).register(
            AGENT,
            channel=Channel.PHONE,
            kind=RequestKind.HELP,
            category=Category.B,
            content="小区路灯不亮已经半个月",
            citizen=Citizen(name="王先生", phone="13803750000"),
            received_at=None,
        )
        return view.order.number


async def test_concurrent_registrations_of_a_new_day_get_numbers_one_to_n(pg: AsyncEngine) -> None:
    at = datetime(2099, 3, 2, 9, 30, tzinfo=SHANGHAI)
    numbers = await asyncio.gather(*(_register(pg, at) for _ in range(30)))
    assert sorted(numbers) == [f"20990302-{i:06d}" for i in range(1, 31)]
    async with pg.connect() as conn:
        stored = await conn.execute(text("SELECT count(*) FROM work_orders WHERE number LIKE '20990302-%'"))
        assert stored.scalar_one() == 30


async def test_a_day_already_counted_in_the_counter_table_goes_on_after_its_last_number(
    pg: AsyncEngine,
) -> None:
    """A database upgraded in the middle of a day: the counter row said 41."""
    async with pg.begin() as conn:
        await conn.execute(
            text("INSERT INTO order_number_counters (day, last_value) VALUES (:d, 41)"),
            {"d": date(2099, 4, 2)},
        )
    at = datetime(2099, 4, 2, 15, 0, tzinfo=SHANGHAI)
    assert await _register(pg, at) == "20990402-000042"
    assert await _register(pg, at) == "20990402-000043"


async def test_a_sequence_dropped_by_hand_is_made_again_after_the_days_highest_number(
    pg: AsyncEngine,
) -> None:
    at = datetime(2099, 5, 2, 10, 0, tzinfo=SHANGHAI)
    assert await _register(pg, at) == "20990502-000001"
    assert await _register(pg, at) == "20990502-000002"
    async with pg.begin() as conn:
        await conn.execute(text(f"DROP SEQUENCE {sequence_name(date(2099, 5, 2))}"))
    # This process still believes the sequence exists; the registration notices and recovers.
    assert await _register(pg, at) == "20990502-000003"


async def test_sequences_of_days_long_past_are_dropped_when_a_new_day_begins(pg: AsyncEngine) -> None:
    for day in (1, 2, 3, 6):
        assert await _register(pg, datetime(2099, 6, day, 9, 0, tzinfo=SHANGHAI)) == f"2099060{day}-000001"
    async with pg.connect() as conn:
        names = (
            await conn.execute(
                text("SELECT relname FROM pg_class WHERE relname LIKE 'order_number_2099%' ORDER BY relname")
            )
        ).scalars()
        # Day 6 keeps the three days before it (yesterday's is needed by a request that began
        # before midnight); days 1 and 2 are gone, and so are the earlier tests' months.
        assert list(names) == ["order_number_20990603", "order_number_20990606"]


async def test_inside_a_callers_transaction_the_number_is_rolled_back_with_it(pg: AsyncEngine) -> None:
    """A session in a transaction (a seeding script) creates the day's sequence in that
    transaction; rolled back, the next registration starts the day again from 1."""
    async with AsyncSession(pg) as session, session.begin():
        number = await OrderRepository(session).next_number(date(2099, 7, 2))
        assert number == "20990702-000001"
        await session.rollback()
    assert await _register(pg, datetime(2099, 7, 2, 9, 0, tzinfo=SHANGHAI)) == "20990702-000001"
