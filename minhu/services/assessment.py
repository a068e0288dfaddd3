"""考核 — the monthly assessment of the network units from the orders in the database (Art. 26-29).

The computation is the pure core's (:mod:`workorders.assessment`); this module loads what a month
needs (the units with their ranking group, the orders assigned or returned in the month, the
interviews of the earlier months for the escalations) and hands it over, with the deployment's
policy profile (``MINHU_POLICY_PROFILE`` / ``MINHU_POLICY_OVERRIDES``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.repositories.assessment import AssessmentRepository
from minhu.policy import load_profile
from minhu.settings import Settings
from workorders.assessment import (
    DEFAULT_SETTINGS,
    AnnualResult,
    Month,
    MonthlyAssessment,
    annual_result,
    assess_month,
)
from workorders.clock import Clock
from workorders.policy import PolicyProfile

from .calendar import CalendarProvider


def _policy(settings: Settings) -> PolicyProfile:
    return load_profile(settings.policy_profile, settings.policy_overrides)


async def monthly_assessment(
    session: AsyncSession, settings: Settings, month: Month, *, clock: Clock
) -> MonthlyAssessment:
    """The assessment of ``month``: every unit's indicators and score, the ranking in the four
    groups, the interviews of Art. 28(4) and the escalations of Art. 28(5) and 29(2), as the
    orders stand at ``clock.now()``."""
    policy = _policy(settings)
    repo = AssessmentRepository(session)
    units = await repo.units()
    period = month.period(policy.tz)
    orders = await repo.orders_for(period, policy.tz)
    calendar = await CalendarProvider().get(session)
    return assess_month(
        month,
        units,
        orders,
        as_of=clock.now(),
        policy=policy,
        settings=DEFAULT_SETTINGS,
        calendar=calendar,
    )


async def annual_assessment(
    session: AsyncSession, settings: Settings, year: int, *, clock: Clock
) -> AnnualResult:
    """The annual result of ``year``: the mean of the unit's monthly scores over the year's months
    that have begun at ``clock.now()``, ranked per group, with the awards of seed 000."""
    now = clock.now()
    policy = _policy(settings)
    local = now.astimezone(policy.tz)
    last = 12 if local.year > year else local.month if local.year == year else 0
    months = [
        await monthly_assessment(session, settings, Month(year, m), clock=clock) for m in range(1, last + 1)
    ]
    units = await AssessmentRepository(session).units()
    return annual_result(months, units, DEFAULT_SETTINGS)
