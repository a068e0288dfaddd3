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

Membership flags
    :func:`memberships` applies these definitions order by order and records, for each unit, every
    order counted for it with one integer of flags: which denominators and numerators it is in
    and whether it is one of the unit's assigned orders (layout: ``MEMBERSHIP_KEYS``). The
    indicators and the score are built from the flags alone (:func:`unit_assessment`), so a store
    may keep a month as its members and flags and rebuild exactly what was published, and a
    database may compute the flags of a million orders itself (:func:`membership_bits`) as long
    as it gives the same flags as :func:`memberships`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import compress
from types import MappingProxyType
from typing import NamedTuple

from workorders.calendar import WorkingCalendar
from workorders.enums import Satisfaction
from workorders.errors import InvalidInput, PolicyError
from workorders.model import WorkOrder
from workorders.periods import PeriodUnit, period_end, require_aware
from workorders.policy import PolicyProfile

from .facts import OrderFacts, order_facts
from .scoring import ScoreBreakdown, total_score
from .settings import DEFAULT_SETTINGS, AssessmentSettings
from .values import AssessmentPeriod, Indicator, IndicatorKey, UnitInfo, present

_SATISFIED = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})


# -- membership: which of a unit's indicators an order is counted in, as one integer ------------
#
# Bit i (i = position of the key in ``MEMBERSHIP_KEYS``) set: in that indicator's denominator;
# bit i + len(MEMBERSHIP_KEYS): in its numerator; bit 2 × len(MEMBERSHIP_KEYS): one of the unit's
# assigned orders. A store keeps a unit's orders and their flags, and rebuilds the unit's
# indicators from them with :func:`unit_assessment` (what a unit contests is what was counted).
MEMBERSHIP_KEYS: tuple[IndicatorKey, ...] = tuple(IndicatorKey)
_N = len(MEMBERSHIP_KEYS)
ASSIGNED_BIT = 1 << (2 * _N)


def denominator_bit(key: IndicatorKey) -> int:
    return 1 << MEMBERSHIP_KEYS.index(key)


def numerator_bit(key: IndicatorKey) -> int:
    return 1 << (MEMBERSHIP_KEYS.index(key) + _N)


@dataclass(frozen=True)
class UnitAssessment:
    """One unit's indicators and total score for one period."""

    unit: UnitInfo
    period: AssessmentPeriod
    as_of: datetime
    orders: tuple[str, ...]  # the unit's assigned orders
    indicators: Mapping[IndicatorKey, Indicator]
    score: ScoreBreakdown | None  # None: nothing to assess (no order at all)
    # Every order counted anywhere for the unit (assigned, or returned by it) and its membership
    # flags (see ``MEMBERSHIP_KEYS``), in the order the orders were given.
    members: tuple[str, ...] = ()
    flags: tuple[int, ...] = ()

    def __getitem__(self, key: IndicatorKey) -> Indicator:
        """The drill-down: ``assessment[IndicatorKey.REPLY_RATE].denominator``."""
        return self.indicators[key]

    @property
    def total(self) -> Fraction | None:
        return None if self.score is None else self.score.total

    def score_display(self, places: int = 2) -> Decimal | None:
        return None if self.score is None else present(self.score.total, places)


def unit_assessment(
    unit: UnitInfo,
    period: AssessmentPeriod,
    as_of: datetime,
    members: Sequence[str],
    flags: Sequence[int],
    weights: Mapping[str, Decimal],
    settings: AssessmentSettings = DEFAULT_SETTINGS,
) -> UnitAssessment:
    """A unit's indicators and score from its orders' membership flags (computed by
    :func:`assess_units` or by a store's own query, or read back from a stored month)."""
    if len(members) != len(flags):
        raise InvalidInput("bad-membership", "考核明细的工单与标记数量不一致")
    members, flags = tuple(members), tuple(flags)
    by_value = Counter(flags)  # few distinct values: counting is cheap however many orders
    indicators: dict[IndicatorKey, Indicator] = {}
    for i, key in enumerate(MEMBERSHIP_KEYS):
        den_bit, num_bit = 1 << i, 1 << (i + _N)
        indicators[key] = Indicator.of_members(
            key,
            members,
            flags,
            num_bit=num_bit,
            den_bit=den_bit,
            count=sum(n for value, n in by_value.items() if value & num_bit),
            base=sum(n for value, n in by_value.items() if value & den_bit),
        )
    view = MappingProxyType(indicators)
    score = total_score(view, weights, settings) if members else None
    assigned = tuple(compress(members, map(ASSIGNED_BIT.__and__, flags)))
    return UnitAssessment(unit, period, as_of, assigned, view, score, members, flags)


class MembershipBits(NamedTuple):
    """The flags an order gets (see ``MEMBERSHIP_KEYS``), for a store that computes them itself."""

    assigned_base: int  # every assigned order: assigned, and in these denominators
    returned_only: int  # returned by a unit that does not lead it in the period
    returns_num: int
    check_den: int
    check_num: int
    contact_den: int
    contact_num: int
    on_time_den: int
    on_time_num: int
    closed_num: int
    reply_num: int
    sat_den: int
    sat_num: int
    first_den: int
    first_num: int
    extended_num: int
    rehandled_num: int


def membership_bits() -> MembershipBits:
    k = IndicatorKey
    base = ASSIGNED_BIT
    for key in (k.RETURNS, k.COMPLETION_RATE, k.REPLY_RATE, k.EXTENSIONS, k.REHANDLED):
        base |= denominator_bit(key)
    return MembershipBits(
        assigned_base=base,
        returned_only=denominator_bit(k.RETURNS) | numerator_bit(k.RETURNS),
        returns_num=numerator_bit(k.RETURNS),
        check_den=denominator_bit(k.CHECK_IN_ON_TIME),
        check_num=numerator_bit(k.CHECK_IN_ON_TIME),
        contact_den=denominator_bit(k.CITIZEN_CONTACTED),
        contact_num=numerator_bit(k.CITIZEN_CONTACTED),
        on_time_den=denominator_bit(k.ON_TIME_COMPLETION),
        on_time_num=numerator_bit(k.ON_TIME_COMPLETION),
        closed_num=numerator_bit(k.COMPLETION_RATE),
        reply_num=numerator_bit(k.REPLY_RATE),
        sat_den=denominator_bit(k.SATISFACTION_RATE),
        sat_num=numerator_bit(k.SATISFACTION_RATE),
        first_den=denominator_bit(k.FIRST_TIME_RESOLUTION),
        first_num=numerator_bit(k.FIRST_TIME_RESOLUTION),
        extended_num=numerator_bit(k.EXTENSIONS),
        rehandled_num=numerator_bit(k.REHANDLED),
    )


def check_in_due(
    assigned_at: datetime,
    policy: PolicyProfile,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> datetime:
    """The end of the check-in period (查收时限) of an order assigned at ``assigned_at``."""
    if settings.check_in_period.unit is PeriodUnit.WORKING_DAYS:
        if calendar is None:
            raise PolicyError("assessment-calendar-required", "以工作日计的查收时限需要工作日历")
        return period_end(assigned_at, settings.check_in_period, calendar, policy.tz).due_at
    return assigned_at + timedelta(hours=settings.check_in_period.amount)


def assess_units(
    units: Sequence[UnitInfo],
    orders: Iterable[WorkOrder | OrderFacts],
    period: AssessmentPeriod,
    *,
    as_of: datetime,
    policy: PolicyProfile,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> dict[str, UnitAssessment]:
    """Every unit's indicators and score for ``period``, as the orders stood at ``as_of``.

    ``orders`` are work orders or their :class:`~.facts.OrderFacts` (what a store computes for a
    large month). ``as_of`` is the moment the order values were read (the snapshot), used only to
    tell orders still within a period (left out) from those past it (counted as late). Orders led
    by units not in ``units`` are ignored; a unit without orders gets empty indicators and no score.
    """
    members, flags = memberships(
        units, orders, period, as_of=as_of, policy=policy, settings=settings, calendar=calendar
    )
    return {
        uid: unit_assessment(
            unit, period, as_of, members[uid], flags[uid], policy.indicator_weights, settings
        )
        for uid, unit in ((u.unit_id, u) for u in units)
    }


def memberships(
    units: Sequence[UnitInfo],
    orders: Iterable[WorkOrder | OrderFacts],
    period: AssessmentPeriod,
    *,
    as_of: datetime,
    policy: PolicyProfile,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> tuple[dict[str, list[str]], dict[str, list[int]]]:
    """Per unit, the orders counted for it (in the order given) and their membership flags: the
    definition of every indicator (module docstring), applied order by order."""
    require_aware(as_of, "as_of")
    if settings.check_in_period.unit is PeriodUnit.WORKING_DAYS and calendar is None:
        raise PolicyError("assessment-calendar-required", "以工作日计的查收时限需要工作日历")
    hours_period = settings.check_in_period.unit is PeriodUnit.HOURS
    check_in_hours = timedelta(hours=settings.check_in_period.amount)
    by_id = {u.unit_id: u for u in units}
    if len(by_id) != len(units):
        raise InvalidInput("duplicate-unit", "考核单位重复")
    members: dict[str, list[str]] = {uid: [] for uid in by_id}
    flags: dict[str, list[int]] = {uid: [] for uid in by_id}
    seen: set[str] = set()
    satisfied = _SATISFIED | (
        {Satisfaction.DEEMED_SATISFIED} if policy.deemed_satisfied_counts_as_satisfied else set()
    )
    rated = satisfied | {Satisfaction.DISSATISFIED}
    required = tuple(policy.required_contacts)
    start, end = period.start, period.end
    b = membership_bits()
    assigned_base, returned_only, returns_num = b.assigned_base, b.returned_only, b.returns_num
    check_den, check_num, contact_den, contact_num = b.check_den, b.check_num, b.contact_den, b.contact_num
    on_time_den, on_time_num, closed_num, reply_num = b.on_time_den, b.on_time_num, b.closed_num, b.reply_num
    sat_den, sat_num, first_den, first_num = b.sat_den, b.sat_num, b.first_den, b.first_num
    extended_num, rehandled_num = b.extended_num, b.rehandled_num

    for item in orders:
        f = item if isinstance(item, OrderFacts) else order_facts(item, required)
        number = f.number
        if number in seen:
            raise InvalidInput("duplicate-order", f"工单{number}重复出现", number=number)
        seen.add(number)
        lead, assigned_at = f.lead_unit_id, f.assigned_at
        led = lead is not None and assigned_at is not None and lead in members and start <= assigned_at < end
        m = assigned_base
        if f.returns:
            for uid in {
                r.unit_id for r in f.returns if r.unit_id in members and start <= r.returned_at < end
            }:
                if led and uid == lead:
                    m |= returns_num
                else:
                    members[uid].append(number)
                    flags[uid].append(returned_only)
        if not led:
            continue
        assert lead is not None and assigned_at is not None
        due = (
            assigned_at + check_in_hours
            if hours_period
            else check_in_due(assigned_at, policy, settings, calendar)
        )
        checked_in_at = f.checked_in_at
        if checked_in_at is not None:
            m |= check_num | check_den if checked_in_at <= due else check_den
        elif as_of > due:
            m |= check_den
        replied = f.replied
        if replied:
            m |= reply_num | contact_num | contact_den if f.contacted else reply_num | contact_den
        overdue = f.handling and f.due_at is not None and as_of > f.due_at
        if replied or overdue:
            m |= on_time_den if overdue or f.reply_late else on_time_den | on_time_num
        closed = f.closed
        if closed:
            m |= closed_num
        result = f.result
        if result in rated:
            m |= sat_den | first_den
            if result in satisfied:
                m |= sat_num
                if closed and f.handling_round == 0:
                    m |= first_num
        if f.extended:
            m |= extended_num
        if f.handling_round > 0:
            m |= rehandled_num
        members[lead].append(number)
        flags[lead].append(m)

    return members, flags
