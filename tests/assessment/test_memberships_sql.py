"""PostgreSQL computes each order's membership flags itself for large months: they must be
exactly the pure core's, order by order, under every profile (contacts required or not, deemed
satisfied counted or not) and at every moment (check-in pending, overdue)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.repositories.assessment import AssessmentRepository
from minhu.policy import load_profile
from workorders.assessment import DEFAULT_SETTINGS, Month, assess_units
from workorders.enums import Satisfaction
from workorders.policy import PolicyProfile

from ..workorders.conftest import t
from .city import AssessmentCity

pytestmark = pytest.mark.db

PROFILES = {
    "2022": load_profile("pingdingshan-2022"),
    "2022-no-deemed": load_profile("pingdingshan-2022", {"deemed_satisfied_counts_as_satisfied": False}),
    "2022-any-contact": load_profile("pingdingshan-2022", {"required_contacts": []}),
    "hedong": load_profile("hedong-2021"),
}


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize(
    ("month", "as_of"),
    [
        (Month(2026, 11), t("2026-12-02 09:00")),
        (Month(2026, 11), t("2026-11-16 10:30")),  # 曹镇乡's CZ-2 still within its check-in period
        (Month(2026, 11), t("2026-11-24 00:01")),  # CZ-2 and CZ-3 just overdue
        (Month(2026, 10), t("2026-11-03 09:00")),
    ],
)
async def test_given_any_profile_and_moment_when_postgresql_computes_the_flags_then_they_are_the_cores(
    acity: AssessmentCity, db_session: AsyncSession, profile: str, month: Month, as_of: datetime
) -> None:
    repo = AssessmentRepository(db_session)
    if repo.dialect != "postgresql":
        pytest.skip("the flags are computed in SQL on PostgreSQL only; SQLite runs the pure core")
    policy: PolicyProfile = PROFILES[profile]
    period = month.period(policy.tz)
    units = await repo.units()
    core = assess_units(units, await repo.orders_for(period, policy.tz), period, as_of=as_of, policy=policy)
    satisfied = {Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED}
    if policy.deemed_satisfied_counts_as_satisfied:
        satisfied.add(Satisfaction.DEEMED_SATISFIED)
    sql = await repo.memberships_sql(
        period,
        as_of=as_of,
        check_in=timedelta(hours=DEFAULT_SETTINGS.check_in_period.amount),
        required_contacts=policy.required_contacts,
        satisfied=satisfied,
        rated=satisfied | {Satisfaction.DISSATISFIED},
    )
    assert set(sql) == {uid for uid, u in core.items() if u.members}
    for uid, unit in core.items():
        if unit.members:
            got = dict(zip(sql[uid].members, sql[uid].flags, strict=True))
            want = dict(zip(unit.members, unit.flags, strict=True))
            assert got == want, acity.code_of(uid)
            assert sql[uid].members == list(unit.members)  # same order: by number
