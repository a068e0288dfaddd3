"""What the bulletins read from the database: a projection of the orders registered in a range
(only the columns the analysis needs, streamed), and the units' names."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import unit_key
from minhu.db.models import Unit, WorkOrderRow
from workorders.analysis import RequestRecord
from workorders.enums import Category, Channel, OrderState, RequestKind


async def request_records(
    session: AsyncSession, start: datetime, end: datetime, tz: tzinfo
) -> list[RequestRecord]:
    """The orders registered in [start, end), as :class:`RequestRecord` values in local time."""
    o = WorkOrderRow
    stmt = (
        select(
            o.number,
            o.registered_at,
            o.channel,
            o.kind,
            o.category,
            o.state,
            o.content,
            o.address,
            o.citizen_phone,
            o.lead_unit_id,
            o.due_at,
        )
        .where(o.registered_at >= start, o.registered_at < end)
        .order_by(o.registered_at, o.number)
    )
    out: list[RequestRecord] = []
    for r in await session.execute(stmt):
        out.append(
            RequestRecord(
                number=r.number,
                registered_at=r.registered_at.astimezone(tz),
                channel=Channel(r.channel),
                kind=RequestKind(r.kind),
                category=Category(r.category) if r.category else None,
                state=OrderState(r.state),
                content=r.content,
                address=r.address or "",
                citizen_phone=r.citizen_phone,
                lead_unit_id=unit_key(r.lead_unit_id) if r.lead_unit_id is not None else None,
                due_at=r.due_at.astimezone(tz) if r.due_at is not None else None,
            )
        )
    return out


async def unit_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Unit.id, Unit.name))
    return {unit_key(r.id): r.name for r in rows}
