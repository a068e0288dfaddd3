"""The monthly bulletin's assessment (月通报, Art. 26) and the annual result with its awards (seed 000).

Annual result
    A unit's annual result is the **mean of its monthly scores** (所有月考核的总平均值), over the
    months in which it had a score; months without orders are left out of the mean, not counted
    as 0. Units are ranked per group like the months (equal means share a rank). The awards
    (优质服务热线单位) go to the units ranked within ``AssessmentSettings.award_places`` of their
    group — with a tie at the last awarded place, every unit of the tie — after leaving out the
    units that lost award eligibility in the year (an escalation in
    ``award_disqualifying_consequences``, Art. 29), who are then not ranked for the award.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from types import MappingProxyType

from workorders.calendar import WorkingCalendar
from workorders.enums import AssessmentGroup
from workorders.errors import InvalidInput
from workorders.model import WorkOrder
from workorders.policy import PolicyProfile

from .facts import OrderFacts
from .indicators import UnitAssessment, assess_units
from .ranking import (
    Escalation,
    GroupRanking,
    InterviewTrigger,
    escalations,
    interview_triggers,
    rank_group,
)
from .settings import DEFAULT_SETTINGS, AssessmentSettings
from .values import Month, UnitInfo


@dataclass(frozen=True)
class MonthlyAssessment:
    month: Month
    units: Mapping[str, UnitAssessment]
    rankings: Mapping[AssessmentGroup, GroupRanking]
    interviews: tuple[InterviewTrigger, ...]
    escalations: tuple[Escalation, ...]

    def score(self, unit_id: str) -> Fraction | None:
        return self.units[unit_id].total

    @property
    def interviewed(self) -> frozenset[str]:
        return frozenset(t.unit_id for t in self.interviews)


def assess_month(
    month: Month,
    units: Sequence[UnitInfo],
    orders: Iterable[WorkOrder | OrderFacts],
    *,
    as_of: datetime,
    policy: PolicyProfile,
    interview_history: Mapping[str, Iterable[Month]] | None = None,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> MonthlyAssessment:
    """Indicators, scores, group rankings, Art. 28(4) interviews and their escalations for ``month``.

    ``interview_history`` maps a unit to the earlier months it was interviewed in; this month's
    interviews are added to it for the escalations.
    """
    assessed = assess_units(
        units,
        orders,
        month.period(policy.tz),
        as_of=as_of,
        policy=policy,
        settings=settings,
        calendar=calendar,
    )
    return rank_month(
        month, units, assessed, policy=policy, interview_history=interview_history, settings=settings
    )


def rank_month(
    month: Month,
    units: Sequence[UnitInfo],
    assessed: Mapping[str, UnitAssessment],
    *,
    policy: PolicyProfile,
    interview_history: Mapping[str, Iterable[Month]] | None = None,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
) -> MonthlyAssessment:
    """The ranking, interviews and escalations of ``month`` for units already assessed (by
    :func:`~.indicators.assess_units`, or :func:`~.indicators.unit_assessment` from flags a store
    computed)."""
    rankings = {
        group: rank_group(group, {u.unit_id: assessed[u.unit_id].total for u in units if u.group is group})
        for group in AssessmentGroup
    }
    triggers: list[InterviewTrigger] = []
    for rule in policy.interview_rules:
        triggers.extend(interview_triggers(rankings[rule.group], rule))
    interviewed = {t.unit_id for t in triggers}
    due = escalations(month, interviewed, interview_history or {}, policy.escalation_rules, settings)
    return MonthlyAssessment(
        month, MappingProxyType(dict(assessed)), MappingProxyType(rankings), tuple(triggers), due
    )


@dataclass(frozen=True, slots=True)
class AnnualUnitResult:
    unit: UnitInfo
    monthly: tuple[tuple[Month, Fraction], ...]  # the months with a score, in order
    mean: Fraction | None
    rank: int | None
    disqualified_by: tuple[Escalation, ...]  # escalations that took away award eligibility


@dataclass(frozen=True)
class AnnualResult:
    months: tuple[Month, ...]
    results: Mapping[str, AnnualUnitResult]
    rankings: Mapping[AssessmentGroup, GroupRanking]
    awards: Mapping[AssessmentGroup, tuple[str, ...]]


def annual_result(
    months: Sequence[MonthlyAssessment],
    units: Sequence[UnitInfo],
    settings: AssessmentSettings = DEFAULT_SETTINGS,
) -> AnnualResult:
    """The annual result of the given monthly assessments (normally the year's twelve)."""
    order = sorted(months, key=lambda m: m.month)
    if len({m.month for m in order}) != len(order):
        raise InvalidInput("duplicate-month", "同一月份的考核结果重复")
    results: dict[str, AnnualUnitResult] = {}
    means: dict[str, Fraction | None] = {}
    for unit in units:
        monthly = tuple(
            (m.month, score)
            for m in order
            if unit.unit_id in m.units and (score := m.units[unit.unit_id].total) is not None
        )
        mean = sum((s for _, s in monthly), Fraction(0)) / len(monthly) if monthly else None
        lost = tuple(
            e
            for m in order
            for e in m.escalations
            if e.unit_id == unit.unit_id and e.consequence in settings.award_disqualifying_consequences
        )
        means[unit.unit_id] = mean
        results[unit.unit_id] = AnnualUnitResult(unit, monthly, mean, None, lost)
    rankings: dict[AssessmentGroup, GroupRanking] = {}
    awards: dict[AssessmentGroup, tuple[str, ...]] = {}
    for group in AssessmentGroup:
        members = [u.unit_id for u in units if u.group is group]
        ranking = rank_group(group, {uid: means[uid] for uid in members})
        rankings[group] = ranking
        eligible = rank_group(group, {uid: means[uid] for uid in members if not results[uid].disqualified_by})
        places = settings.award_places.get(group, 0)
        awards[group] = tuple(r.unit_id for r in eligible.ranked if r.rank <= places)
    ranked = {r.unit_id: r.rank for ranking in rankings.values() for r in ranking.ranked}
    final = {
        uid: AnnualUnitResult(r.unit, r.monthly, r.mean, ranked.get(uid), r.disqualified_by)
        for uid, r in results.items()
    }
    return AnnualResult(
        tuple(m.month for m in order),
        MappingProxyType(final),
        MappingProxyType(rankings),
        MappingProxyType(awards),
    )
