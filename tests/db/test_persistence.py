"""Migrations, the append-only audit table, order numbers under concurrency, the domain mapping."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from minhu.db.base import Base
from minhu.db.codec import from_json, to_json
from minhu.db.migrate import alembic_config, current_revision, include_object_for
from minhu.db.models import HANDLING_STATES_SQL, AuditRow, OrderNumberCounter
from minhu.db.numbering import sequence_name
from minhu.db.repositories.orders import OrderRepository
from workorders.clock import SHANGHAI
from workorders.enums import CallOutcome, ContactPurpose
from workorders.model import Contact, RevisitAttempt

pytestmark = pytest.mark.db


async def test_migrations_reach_head_and_match_the_models(db_engine: AsyncEngine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None and await current_revision(db_engine) == head
    async with db_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync, opts={"compare_type": True, "include_object": include_object_for(sync.dialect.name)}
                ),
                Base.metadata,
            )
        )
    assert diff == []


async def test_the_handling_index_is_the_same_partial_index_in_migration_and_model(
    db_engine: AsyncEngine,
) -> None:
    """compare_metadata does not compare an index's WHERE clause: check the database's own."""
    name = "ix_work_orders_handling_registered_at"
    async with db_engine.connect() as conn:
        if db_engine.dialect.name == "postgresql":
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
            found = await conn.scalar(text(query), {"n": name})
            states = ", ".join(f"'{s}'::character varying" for s in ("assigned", "checked_in", "in_progress"))
            expected = f"WHERE ((state)::text = ANY ((ARRAY[{states}])::text[]))"
        else:
            found = await conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name})
            expected = f"WHERE {HANDLING_STATES_SQL}"
    assert found is not None and found.endswith(expected), found
    assert HANDLING_STATES_SQL == "state IN ('assigned', 'checked_in', 'in_progress')"


async def test_audit_entries_cannot_be_updated_or_deleted(db_session: AsyncSession) -> None:
    db_session.add(
        AuditRow(
            action="probe",
            at=datetime(2026, 9, 30, 10, tzinfo=SHANGHAI),
            actor_id="tester",
            actor_name="",
            actor_role="admin",
            via="test",
            details={},
        )
    )
    await db_session.flush()
    for stmt in (update(AuditRow).values(action="forged"), delete(AuditRow)):
        savepoint = await db_session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await db_session.execute(stmt)
        await savepoint.rollback()
    actions = (await db_session.execute(select(AuditRow.action))).scalars().all()
    assert "probe" in actions and "forged" not in actions


async def test_order_numbers_are_unique_under_concurrency(db_engine: AsyncEngine) -> None:
    day = date(2099, 12, 31)

    async def one() -> str:
        async with AsyncSession(db_engine) as session, session.begin():
            return await OrderRepository(session).next_number(day)

    try:
        numbers = await asyncio.gather(*(one() for _ in range(25)))
        assert sorted(numbers) == [f"20991231-{i:06d}" for i in range(1, 26)]
    finally:
        async with db_engine.begin() as conn:
            await conn.execute(delete(OrderNumberCounter).where(OrderNumberCounter.day == day))
            if db_engine.dialect.name == "postgresql":
                await conn.execute(text(f"DROP SEQUENCE IF EXISTS {sequence_name(day)}"))


async def test_instants_round_trip_as_utc_and_come_back_aware(db_session: AsyncSession) -> None:
    at = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    row = AuditRow(
        action="tz", at=at, actor_id="t", actor_name="", actor_role="admin", via="test", details={}
    )
    db_session.add(row)
    await db_session.flush()
    db_session.expire(row)
    loaded = (await db_session.execute(select(AuditRow).where(AuditRow.action == "tz"))).scalar_one()
    assert loaded.at == at and loaded.at.utcoffset() is not None
    naive = AuditRow(
        action="naive",
        at=datetime(2026, 9, 30, 10),
        actor_id="t",
        actor_name="",
        actor_role="admin",
        via="t",
        details={},
    )
    db_session.add(naive)
    with pytest.raises(Exception, match="naive"):
        await db_session.flush()
    await db_session.rollback()


def test_nested_records_round_trip_through_json() -> None:
    at = datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)
    contact = Contact(at=at, unit_id="3", by="h", purpose=ContactPurpose.FIRST_CONTACT, note="已联系")
    attempt = RevisitAttempt(started_at=at, outcome=CallOutcome.RANG_OUT, by="a", counts_for_art17=True)
    assert from_json(Contact, to_json(contact), SHANGHAI) == contact
    assert from_json(RevisitAttempt, to_json(attempt), SHANGHAI) == attempt
    assert to_json(contact)["at"] == "2026-09-30T02:00:00+00:00"


async def test_content_search_index_exists_on_postgresql(db_session: AsyncSession) -> None:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("trigram index is PostgreSQL-only; SQLite searches with LIKE")
    found = (
        await db_session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_work_orders_content_trgm'")
        )
    ).scalar_one()
    assert "gin_trgm_ops" in found


def test_every_work_order_field_survives_the_row_mapping() -> None:
    """Guards the mapping when the domain's WorkOrder grows a field."""
    import dataclasses

    from minhu.calendar_source import build_calendar
    from minhu.db.mapping import apply_to_row, to_domain
    from minhu.db.models import WorkOrderRow
    from minhu.policy import load_profile
    from workorders import lifecycle
    from workorders.enums import Category, Channel, RequestKind, Role
    from workorders.model import Actor, Citizen

    policy = load_profile()
    at = datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)
    ctx = lifecycle.Context(at=at, policy=policy, calendar=build_calendar())
    agent = Actor("agent", Role.INTAKE_AGENT)
    handler = Actor("h", Role.UNIT_HANDLER, unit_id="7")
    order = lifecycle.register(
        "20260930-000001",
        channel=Channel.WECHAT,
        kind=RequestKind.COMPLAINT,
        category=Category.B,
        content="噪音",
        citizen=Citizen("王", "13812341234"),
        received_at=at,
        actor=agent,
        ctx=ctx,
        address="建设路",
    ).order
    order = lifecycle.assign(
        order, Actor("s", Role.SUPERVISOR), ctx, lead_unit_id="7", cooperating_unit_ids=["8"]
    ).order
    order = lifecycle.check_in(order, handler, ctx).order
    order = lifecycle.record_contact(order, handler, ctx, purpose=ContactPurpose.RESULT_FEEDBACK).order
    order = lifecycle.reply(
        order,
        handler,
        ctx,
        content="已处理",
        handler_name="刘",
        handler_phone="13903752001",
        document_ref="x.pdf",
    ).order
    row = WorkOrderRow()
    apply_to_row(order, row)
    back = to_domain(row, SHANGHAI)
    assert back == order
    unset = [f.name for f in dataclasses.fields(order) if getattr(order, f.name) in (None, (), "")]
    assert "replies" not in unset and "contacts" not in unset and "check_ins" not in unset


def test_every_work_order_field_has_a_column() -> None:
    import dataclasses

    from minhu.db.models import WorkOrderRow
    from workorders.model import WorkOrder

    columns = set(WorkOrderRow.__table__.columns.keys())
    missing = [f.name for f in dataclasses.fields(WorkOrder) if f.name not in columns and f.name != "citizen"]
    assert missing == [], f"map these WorkOrder fields in minhu/db (model, mapping, migration): {missing}"
