"""What the assessment reads: the units with their ranking group and the orders of a month."""

from __future__ import annotations

from datetime import tzinfo

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import to_domain, unit_key
from minhu.db.models import Unit, WorkOrderRow
from workorders.assessment import AssessmentPeriod, UnitInfo
from workorders.enums import AssessmentGroup
from workorders.model import WorkOrder


class AssessmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def units(self) -> list[UnitInfo]:
        rows = await self._session.execute(
            select(Unit.id, Unit.name, Unit.assessment_group).order_by(Unit.id)
        )
        return [UnitInfo(unit_key(r.id), r.name, AssessmentGroup(r.assessment_group)) for r in rows]

    async def orders_for(self, period: AssessmentPeriod, tz: tzinfo) -> list[WorkOrder]:
        """The orders assigned in ``period``, and those with a return on record registered before
        its end (the core keeps the returns filed in the period), by number."""
        has_returns = cast(WorkOrderRow.returns, String) != "[]"
        stmt = (
            select(WorkOrderRow)
            .where(
                or_(
                    (WorkOrderRow.assigned_at >= period.start) & (WorkOrderRow.assigned_at < period.end),
                    has_returns & (WorkOrderRow.registered_at < period.end),
                )
            )
            .order_by(WorkOrderRow.number)
        )
        rows = (await self._session.execute(stmt)).scalars()
        return [to_domain(r, tz) for r in rows]
