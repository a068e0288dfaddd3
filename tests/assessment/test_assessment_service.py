"""The monthly assessment from the orders in the database (PostgreSQL and SQLite): the figures,
ranking and interviews of the hand-computed month, stored months and the escalations they feed,
and the rules of recomputation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.assessment_models import AssessmentMonthRow
from minhu.db.models import AuditRow, WorkOrderRow
from minhu.policy import load_profile
from minhu.services.assessment import annual_assessment, monthly_assessment, recompute_month
from minhu.services.errors import BadInput, Forbidden
from minhu.settings import Settings
from workorders.assessment import Month
from workorders.calendar import WorkingCalendar
from workorders.clock import FixedClock
from workorders.enums import AssessmentGroup, Role
from workorders.model import Actor

from ..workorders.conftest import Flow
from ..workorders.test_assessment import (
    AS_OF_NOV,
    AS_OF_OCT,
    EXPECTED_NOV,
    EXPECTED_SCORES_NOV,
    NOV,
    OCT,
    ORDER,
    Scripts,
    day,
)
from .city import AssessmentCity, store_orders

pytestmark = pytest.mark.db

G = AssessmentGroup
SUPERVISOR = Actor("supervisor", Role.SUPERVISOR, name="值班长")


async def test_given_a_month_of_orders_when_assessed_then_every_figure_is_the_hand_computed_one(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    month = await monthly_assessment(db_session, settings, NOV, clock=FixedClock(AS_OF_NOV))
    for code, expected in EXPECTED_NOV.items():
        unit = month.units[acity.key(code)]
        assert tuple((unit[k].count, unit[k].base) for k in ORDER) == expected, code
        assert unit.total == EXPECTED_SCORES_NOV[code], code
    assert month.units[acity.key("dept-housing")].score_display() == Decimal("78.53")


async def test_given_a_month_when_assessed_then_ranked_in_four_groups_and_the_last_interviewed(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    month = await monthly_assessment(db_session, settings, NOV, clock=FixedClock(AS_OF_NOV))
    ranked = {g: [(acity.code_of(r.unit_id), r.rank) for r in month.rankings[g].ranked] for g in G}
    # 中兴路 and 湛南路 both score 95: they share 2nd place and the next is 4th.
    assert dict(ranked[G.STREET]) == {"st-guangming": 1, "st-zhannan": 2, "st-zhongxing": 2, "st-caozhen": 4}
    assert ranked[G.DEPARTMENT][-1] == ("dept-housing", 4)
    assert [acity.code_of(u) for u in month.rankings[G.STREET].unranked] == ["st-shuguang"]
    assert {acity.code_of(t.unit_id) for t in month.interviews} == {
        "dist-zhanhe",
        "dept-housing",
        "st-caozhen",
    }


async def test_given_the_2021_profile_when_assessed_then_its_thresholds_apply(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    s2021 = settings.model_copy(update={"policy_profile": "pingdingshan-2021"})
    month = await monthly_assessment(db_session, s2021, NOV, clock=FixedClock(AS_OF_NOV))
    assert {acity.code_of(t.unit_id) for t in month.interviews} == {
        "dist-zhanhe",
        "cty-baofeng",
        "dept-housing",
        "dept-urban",
        "st-caozhen",
    }


async def _caozhen_fails_october(
    acity: AssessmentCity, session: AsyncSession, calendar: WorkingCalendar
) -> None:
    """Two more October orders for 曹镇乡, both left dissatisfied: 77.5 < 80 % of 100 (interviewed)."""
    scripts = Scripts(Flow(load_profile("pingdingshan-2022", {"required_contacts": []}), calendar))
    unit = acity.key("st-caozhen")
    extra = [scripts.dissatisfied_open(n, unit, day("2026-10-28")) for n in ("O-CZ-3", "O-CZ-4")]
    await store_orders(session, extra)
    await session.commit()


async def test_given_two_stored_months_when_interviewed_in_both_then_the_main_leader_is_interviewed(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings, working_calendar: WorkingCalendar
) -> None:
    await _caozhen_fails_october(acity, db_session, working_calendar)
    october = await monthly_assessment(db_session, settings, OCT, clock=FixedClock(AS_OF_OCT))
    assert {acity.code_of(t.unit_id) for t in october.interviews} == {"st-zhannan", "st-caozhen"}
    assert october.escalations == ()
    november = await monthly_assessment(db_session, settings, NOV, clock=FixedClock(AS_OF_NOV))
    assert {(acity.code_of(e.unit_id), e.consequence) for e in november.escalations} == {
        ("st-caozhen", "main_leader_interview")
    }
    (caozhen,) = november.escalations
    assert caozhen.in_window == (OCT, NOV) and caozhen.by_consecutive and caozhen.consecutive == 2


async def test_given_a_stored_month_when_its_orders_change_then_it_stays_as_stored_until_recomputed(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings, working_calendar: WorkingCalendar
) -> None:
    await _caozhen_fails_october(acity, db_session, working_calendar)
    await monthly_assessment(db_session, settings, OCT, clock=FixedClock(AS_OF_OCT))
    # The two orders turn out to have been assigned in September: October would now be clean.
    await db_session.execute(
        update(WorkOrderRow)
        .where(WorkOrderRow.number.in_(["O-CZ-3", "O-CZ-4"]))
        .values(assigned_at=day("2026-09-28"))
    )
    await db_session.commit()
    later = FixedClock(AS_OF_NOV)
    october = await monthly_assessment(db_session, settings, OCT, clock=later)
    assert acity.key("st-caozhen") in october.interviewed  # read back, not recomputed
    november = await monthly_assessment(db_session, settings, NOV, clock=later)
    assert {acity.code_of(e.unit_id) for e in november.escalations} == {"st-caozhen"}  # stored history

    done = await recompute_month(
        db_session, settings, OCT, clock=later, actor=SUPERVISOR, reason="两件工单交办时间录入有误"
    )
    assert acity.key("st-caozhen") not in done.assessment.interviewed
    assert done.previous is not None and done.previous.as_of == AS_OF_OCT
    assert done.later_months == (NOV,)  # November's escalation counted the old October
    again = await monthly_assessment(db_session, settings, OCT, clock=later)
    assert acity.key("st-caozhen") not in again.interviewed
    row = (
        await db_session.execute(select(AssessmentMonthRow).where(AssessmentMonthRow.month == "2026-10"))
    ).scalar_one()
    assert (row.recomputations, row.note, row.computed_by) == (1, "两件工单交办时间录入有误", "supervisor")
    audit = (
        await db_session.execute(select(AuditRow).where(AuditRow.action == "assessment_recompute"))
    ).scalar_one()
    assert audit.details["month"] == "2026-10" and audit.actor_id == "supervisor"


async def test_recomputation_is_for_the_centre_with_a_reason_and_only_for_an_ended_month(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    clock = FixedClock(AS_OF_NOV)
    handler = Actor("h_housing", Role.UNIT_HANDLER, unit_id=acity.key("dept-housing"))
    with pytest.raises(Forbidden) as refused:
        await recompute_month(db_session, settings, NOV, clock=clock, actor=handler, reason="不服")
    assert refused.value.code == "role-not-permitted"
    with pytest.raises(BadInput) as no_reason:
        await recompute_month(db_session, settings, NOV, clock=clock, actor=SUPERVISOR, reason="  ")
    assert no_reason.value.code == "reason-required"
    with pytest.raises(BadInput) as running:
        await recompute_month(
            db_session, settings, Month(2026, 12), clock=clock, actor=SUPERVISOR, reason="核对"
        )
    assert running.value.code == "assessment-month-not-ended"


async def test_given_a_running_month_when_assessed_then_it_is_computed_live_and_not_stored(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    mid_november = FixedClock(AS_OF_NOV - timedelta(days=5))
    month = await monthly_assessment(db_session, settings, NOV, clock=mid_november)
    assert month.units[acity.key("dist-xinhua")][ORDER[0]].base == 4
    stored = (await db_session.execute(select(AssessmentMonthRow.month))).scalars().all()
    assert "2026-11" not in stored and "2026-10" not in stored  # nothing is stored before it is needed


async def test_given_stored_months_when_the_year_is_asked_then_the_mean_of_the_monthly_scores(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    await monthly_assessment(db_session, settings, OCT, clock=FixedClock(AS_OF_OCT))
    year = await annual_assessment(db_session, settings, 2026, clock=FixedClock(AS_OF_NOV))
    assert year.months[-3:] == (OCT, NOV, Month(2026, 12))
    housing = year.results[acity.key("dept-housing")]
    assert [m for m, _ in housing.monthly] == [OCT, NOV]
    assert str(housing.mean and round(float(housing.mean), 2)) == "89.26"
    assert year.awards[G.DISTRICT] == (acity.key("dist-xinhua"),)
    assert set(year.awards[G.COUNTY]) == {acity.key("cty-ruzhou"), acity.key("cty-wugang")}
