"""Indicators per unit and period, computed from work orders (Art. 26; seed 000; Hedong).

Which orders a unit answers for
    The orders it **leads** (``lead_unit_id``; cooperating units are not assessed on them) whose
    **assignment time** ``assigned_at`` lies in the period [start, end). A re-handled order carries
    the time of its latest assignment, and an order returned with the centre's approval belongs to
    the unit it was reassigned to. Call these the unit's *assigned orders*.

What each indicator counts (numerator ⊆ denominator; both keep the order numbers)
    ``check_in_on_time`` 按时查收率
        denominator: assigned orders that were checked in, or whose check-in period
        (:attr:`AssessmentSettings.check_in_period` from ``assigned_at``) had run out at ``as_of``
        without a check-in; numerator: checked in at or before the end of that period. For a
        re-handled order this is the latest round's check-in (the order keeps no earlier one).
    ``citizen_contacted`` 联系诉求人率 (Art. 13)
        denominator: assigned orders with at least one reply; numerator: before **every** reply, in
        that reply's handling round, the citizen was contacted for each purpose the profile's
        ``required_contacts`` lists (with an empty list: at least one contact of any purpose).
    ``on_time_completion`` 按时办结率
        denominator: assigned orders with at least one reply, plus those the unit still holds past
        their deadline at ``as_of``; numerator: no reply was late (``Reply.late``: after ``due_at``
        as it stood, an approved extension included) and the order is not overdue now.
    ``completion_rate`` 办结率: closed (state ``closed``, for any closure reason) / assigned.
    ``reply_rate`` 回复率: replied at least once / assigned.
    ``satisfaction_rate`` 满意率
        The order's latest revisit result: ``satisfaction`` of the current round, else the last
        answer given in an earlier round (a re-handled order not yet revisited again stays
        "dissatisfied"). denominator: assigned orders with a result; numerator: satisfied or
        basically satisfied, plus deemed satisfied (视为满意, Art. 17) when the profile's
        ``deemed_satisfied_counts_as_satisfied`` is true. When it is false a deemed-satisfied order
        is in neither (the citizen gave no opinion).
    ``first_time_resolution`` 一次性解决率
        denominator: as for the satisfaction rate; numerator: closed, counted as satisfied, and
        never re-handled (``handling_round == 0``).
    ``returns`` 退回率
        numerator: orders the unit returned (Art. 11; accepted, refused or pending review) with the
        return filed in the period; denominator: assigned orders plus those returned orders.
    ``extensions`` 延期率: assigned orders with an approved extension (Art. 9) / assigned.
    ``rehandled`` 重办率: assigned orders re-handled at least once / assigned.

Order numbers are listed in the order the orders were given (no sort, for speed on large months).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from workorders.calendar import WorkingCalendar
from workorders.enums import ContactPurpose, ExtensionStatus, OrderState, Satisfaction
from workorders.errors import InvalidInput, PolicyError
from workorders.model import WorkOrder
from workorders.periods import PeriodUnit, period_end, require_aware
from workorders.policy import PolicyProfile

from .scoring import ScoreBreakdown, total_score
from .settings import DEFAULT_SETTINGS, AssessmentSettings
from .values import AssessmentPeriod, Indicator, IndicatorKey, UnitInfo, present

_SATISFIED = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})


@dataclass(frozen=True)
class UnitAssessment:
    """One unit's indicators and total score for one period."""

    unit: UnitInfo
    period: AssessmentPeriod
    as_of: datetime
    orders: tuple[str, ...]  # the unit's assigned orders
    indicators: Mapping[IndicatorKey, Indicator]
    score: ScoreBreakdown | None  # None: nothing to assess (no order at all)

    def __getitem__(self, key: IndicatorKey) -> Indicator:
        """The drill-down: ``assessment[IndicatorKey.REPLY_RATE].denominator``."""
        return self.indicators[key]

    @property
    def total(self) -> Fraction | None:
        return None if self.score is None else self.score.total

    def score_display(self, places: int = 2) -> Decimal | None:
        return None if self.score is None else present(self.score.total, places)


class _Tally:
    __slots__ = ("den", "num")

    def __init__(self) -> None:
        self.num: list[str] = []
        self.den: list[str] = []

    def add(self, number: str, hit: bool) -> None:
        self.den.append(number)
        if hit:
            self.num.append(number)


def latest_result(order: WorkOrder) -> Satisfaction | None:
    """The order's latest revisit result (see the module docstring)."""
    if order.satisfaction is not None:
        return order.satisfaction
    for attempt in reversed(order.revisit_attempts):
        if attempt.satisfaction is not None:
            return attempt.satisfaction
    return None


def assess_units(
    units: Sequence[UnitInfo],
    orders: Iterable[WorkOrder],
    period: AssessmentPeriod,
    *,
    as_of: datetime,
    policy: PolicyProfile,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> dict[str, UnitAssessment]:
    """Every unit's indicators and score for ``period``, as the orders stood at ``as_of``.

    ``as_of`` is the moment the order values were read (the snapshot), used only to tell orders
    still within a period (left out) from those past it (counted as late). Orders led by units not
    in ``units`` are ignored; a unit without orders gets empty indicators and no score.
    """
    require_aware(as_of, "as_of")
    if settings.check_in_period.unit is PeriodUnit.WORKING_DAYS and calendar is None:
        raise PolicyError("assessment-calendar-required", "以工作日计的查收时限需要工作日历")
    check_in_hours = timedelta(hours=settings.check_in_period.amount)
    by_id = {u.unit_id: u for u in units}
    if len(by_id) != len(units):
        raise InvalidInput("duplicate-unit", "考核单位重复")
    tallies = {uid: {key: _Tally() for key in IndicatorKey} for uid in by_id}
    assigned: dict[str, list[str]] = {uid: [] for uid in by_id}
    seen: set[str] = set()
    satisfied = _SATISFIED | (
        {Satisfaction.DEEMED_SATISFIED} if policy.deemed_satisfied_counts_as_satisfied else set()
    )
    rated = satisfied | {Satisfaction.DISSATISFIED}
    required = frozenset(policy.required_contacts)

    for order in orders:
        if order.number in seen:
            raise InvalidInput("duplicate-order", f"工单{order.number}重复出现", number=order.number)
        seen.add(order.number)
        number = order.number
        returners = {r.unit_id for r in order.returns if r.unit_id in tallies and r.returned_at in period}
        for uid in returners:
            tallies[uid][IndicatorKey.RETURNS].add(number, True)
        lead, assigned_at = order.lead_unit_id, order.assigned_at
        if lead is None or assigned_at is None or lead not in tallies or assigned_at not in period:
            continue
        unit_tallies = tallies[lead]
        assigned[lead].append(number)
        if lead not in returners:
            unit_tallies[IndicatorKey.RETURNS].add(number, False)
        if calendar is not None and settings.check_in_period.unit is PeriodUnit.WORKING_DAYS:
            check_in_due = period_end(assigned_at, settings.check_in_period, calendar, policy.tz).due_at
        else:
            check_in_due = assigned_at + check_in_hours
        if order.checked_in_at is not None:
            unit_tallies[IndicatorKey.CHECK_IN_ON_TIME].add(number, order.checked_in_at <= check_in_due)
        elif as_of > check_in_due:
            unit_tallies[IndicatorKey.CHECK_IN_ON_TIME].add(number, False)
        replied = bool(order.replies)
        if replied:
            unit_tallies[IndicatorKey.CITIZEN_CONTACTED].add(number, _contacted(order, required))
        overdue = order.is_overdue(as_of)
        if replied or overdue:
            late = overdue or any(r.late for r in order.replies)
            unit_tallies[IndicatorKey.ON_TIME_COMPLETION].add(number, not late)
        closed = order.state is OrderState.CLOSED
        unit_tallies[IndicatorKey.COMPLETION_RATE].add(number, closed)
        unit_tallies[IndicatorKey.REPLY_RATE].add(number, replied)
        result = latest_result(order)
        if result in rated:
            ok = result in satisfied
            unit_tallies[IndicatorKey.SATISFACTION_RATE].add(number, ok)
            unit_tallies[IndicatorKey.FIRST_TIME_RESOLUTION].add(
                number, ok and closed and order.handling_round == 0
            )
        unit_tallies[IndicatorKey.EXTENSIONS].add(
            number, any(e.status is ExtensionStatus.APPROVED for e in order.extensions)
        )
        unit_tallies[IndicatorKey.REHANDLED].add(number, order.handling_round > 0)

    out: dict[str, UnitAssessment] = {}
    for uid, unit in by_id.items():
        indicators = MappingProxyType(
            {key: Indicator(key, tuple(t.num), tuple(t.den)) for key, t in tallies[uid].items()}
        )
        has_orders = bool(assigned[uid]) or bool(indicators[IndicatorKey.RETURNS].denominator)
        score = total_score(indicators, policy.indicator_weights, settings) if has_orders else None
        out[uid] = UnitAssessment(unit, period, as_of, tuple(assigned[uid]), indicators, score)
    return out


def _contacted(order: WorkOrder, required: frozenset[ContactPurpose]) -> bool:
    for reply in order.replies:
        purposes = {c.purpose for c in order.contacts if c.round == reply.round and c.at <= reply.at}
        if required:
            if not required <= purposes:
                return False
        elif not purposes:
            return False
    return True
