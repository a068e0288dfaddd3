"""考核 — the monthly assessment of the network units from the orders in the database (Art. 26-29).

The rules are the pure core's (:mod:`workorders.assessment`); this module loads what a month needs
— the units with their ranking group, each unit's orders of the month with their membership
flags, the interviews of the earlier months — and keeps the result, with the deployment's policy
profile (``MINHU_POLICY_PROFILE`` / ``MINHU_POLICY_OVERRIDES``).

Stored months
    A month is stored the first time it is computed after it has ended (the bulletin's figures);
    from then on it is read back, never silently recomputed, and the escalations of later months
    count the interviews stored with it. Recomputing a stored month is a supervisor's explicit
    action (:func:`recompute_month`, audited). A month not ended yet is computed live each time
    and not stored. Before a month is stored, every ended month from the first month with orders
    up to it that is not stored yet is computed and stored first (oldest first), so that the
    rolling year behind its escalations (Art. 28(5), 29) is complete.

Large months
    On PostgreSQL the database computes every order's flags and hands each unit's orders back as
    two arrays (:meth:`~minhu.db.repositories.assessment.AssessmentRepository.memberships_sql`);
    elsewhere, or with a check-in period in working days, the orders are loaded and the pure core
    computes the flags. Both give the same flags (tested order by order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import unit_key
from minhu.db.models import WorkOrderRow
from minhu.db.repositories.assessment import AssessmentRepository
from minhu.db.repositories.assessment_store import AssessmentStore, StoredMonth
from minhu.db.repositories.audit import AuditRepository
from minhu.logging import get_logger
from minhu.policy import load_profile
from minhu.settings import Settings
from workorders.assessment import (
    DEFAULT_SETTINGS,
    AnnualResult,
    IndicatorKey,
    Month,
    MonthlyAssessment,
    UnitAssessment,
    UnitInfo,
    annual_result,
    assess_month,
    counted,
    denominator_bit,
    explain,
    numerator_bit,
    rank_month,
    unit_assessment,
)
from workorders.clock import Clock
from workorders.enums import Role, Satisfaction
from workorders.errors import InvalidInput
from workorders.model import Actor
from workorders.periods import PeriodUnit
from workorders.policy import PolicyProfile

from .calendar import CalendarProvider
from .errors import BadInput, Forbidden, NotFound

log = get_logger(__name__)

SYSTEM = "system"  # who stored a month computed on demand
CENTRE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
SETTINGS = DEFAULT_SETTINGS  # the conventions the profile does not hold yet (AssessmentSettings)


def _policy(settings: Settings) -> PolicyProfile:
    return _profile(settings.policy_profile, json.dumps(settings.policy_overrides, sort_keys=True))


@lru_cache(maxsize=16)
def _profile(name: str, overrides: str) -> PolicyProfile:
    """Profiles are read from their files once per process (the drill-down is asked often)."""
    return load_profile(name, json.loads(overrides))


def _ended(month: Month, now: datetime, policy: PolicyProfile) -> bool:
    return now >= month.period(policy.tz).end


async def _compute(
    session: AsyncSession, month: Month, *, as_of: datetime, policy: PolicyProfile
) -> MonthlyAssessment:
    """``month`` from the orders as they stand at ``as_of``, with the interviews of the stored
    earlier months of its rolling window."""
    repo = AssessmentRepository(session)
    units = await repo.units()
    period = month.period(policy.tz)
    window = [month.shift(-i) for i in range(1, SETTINGS.escalation_window_months)]
    history = await AssessmentStore(session).interview_history(window)
    if repo.dialect == "postgresql" and SETTINGS.check_in_period.unit is PeriodUnit.HOURS:
        satisfied = {Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED}
        if policy.deemed_satisfied_counts_as_satisfied:
            satisfied.add(Satisfaction.DEEMED_SATISFIED)
        memberships = await repo.memberships_sql(
            period,
            as_of=as_of,
            check_in=timedelta(hours=SETTINGS.check_in_period.amount),
            required_contacts=policy.required_contacts,
            satisfied=satisfied,
            rated=satisfied | {Satisfaction.DISSATISFIED},
        )
        assessed: dict[str, UnitAssessment] = {}
        for unit in units:
            m = memberships.get(unit.unit_id)
            assessed[unit.unit_id] = unit_assessment(
                unit,
                period,
                as_of,
                m.members if m is not None else [],
                m.flags if m is not None else [],
                policy.indicator_weights,
                SETTINGS,
            )
        return rank_month(month, units, assessed, policy=policy, interview_history=history, settings=SETTINGS)
    calendar = await CalendarProvider().get(session)
    orders = await repo.orders_for(period, policy.tz)
    return assess_month(
        month,
        units,
        orders,
        as_of=as_of,
        policy=policy,
        interview_history=history,
        settings=SETTINGS,
        calendar=calendar,
    )


async def _first_month(session: AsyncSession, policy: PolicyProfile) -> Month | None:
    """The month of the earliest assignment on record."""
    first = (await session.execute(select(func.min(WorkOrderRow.assigned_at)))).scalar_one_or_none()
    if first is None:
        return None
    local = first.astimezone(policy.tz)
    return Month(local.year, local.month)


async def _store_new(
    session: AsyncSession,
    month: Month,
    *,
    now: datetime,
    policy: PolicyProfile,
    by: str,
    recomputations: int = 0,
    note: str = "",
) -> MonthlyAssessment:
    result = await _compute(session, month, as_of=now, policy=policy)
    await AssessmentStore(session).save(
        result,
        as_of=now,
        computed_at=now,
        computed_by=by,
        policy=policy,
        recomputations=recomputations,
        note=note,
    )
    log.info("assessment.month_stored", month=str(month), by=by, recomputations=recomputations)
    return result


async def _fill_history(session: AsyncSession, month: Month, *, now: datetime, policy: PolicyProfile) -> None:
    """Store every ended month before ``month`` since the first month with orders that is not
    stored yet, oldest first (each one's escalations read the ones before it)."""
    first = await _first_month(session, policy)
    if first is None or first >= month:
        return
    months = [first.shift(i) for i in range(month.index - first.index)]
    stored = await AssessmentStore(session).stored_months(months)
    for m in months:
        if m not in stored:
            await _store_new(session, m, now=now, policy=policy, by=SYSTEM)


async def monthly_assessment(
    session: AsyncSession, settings: Settings, month: Month, *, clock: Clock
) -> MonthlyAssessment:
    """The assessment of ``month``: every unit's indicators and score, the ranking in the four
    groups, the interviews of Art. 28(4) and the escalations of Art. 28(5) and 29(2).

    A stored month is read back as stored. A month that has ended is computed from the orders as
    they stand at ``clock.now()`` and stored (committed). A month not ended yet is computed live
    and not stored.
    """
    policy = _policy(settings)
    store = AssessmentStore(session)
    stored = await store.load(month, SETTINGS)
    if stored is not None:
        return stored
    now = clock.now()
    if not _ended(month, now, policy):
        return await _compute(session, month, as_of=now, policy=policy)
    try:
        await _fill_history(session, month, now=now, policy=policy)
        result = await _store_new(session, month, now=now, policy=policy, by=SYSTEM)
        await session.commit()
    except IntegrityError:
        # Another request stored the month first: theirs is the stored one.
        await session.rollback()
        again = await store.load(month, SETTINGS)
        if again is None:
            raise
        return again
    except BaseException:
        await session.rollback()
        raise
    return result


async def stored_month_info(session: AsyncSession, month: Month) -> StoredMonth | None:
    """When and by whom ``month`` was stored (``None``: not stored, i.e. computed live)."""
    return await AssessmentStore(session).info(month)


@dataclass(frozen=True, slots=True)
class Recomputation:
    assessment: MonthlyAssessment
    previous: StoredMonth | None
    # Stored later months whose escalations counted this month's interviews (rolling window):
    # they keep their stored result; recompute them too if the interviews changed.
    later_months: tuple[Month, ...]


def require_centre(actor: Actor) -> None:
    if actor.role not in CENTRE_ROLES:
        raise Forbidden("role-not-permitted", "只有指挥中心班长或管理员可以重新计算考核结果")


async def recompute_month(
    session: AsyncSession,
    settings: Settings,
    month: Month,
    *,
    clock: Clock,
    actor: Actor,
    reason: str,
) -> Recomputation:
    """Recompute an ended month from the orders as they stand now and replace the stored result
    (a supervisor's decision, recorded in the audit trail with ``reason``)."""
    require_centre(actor)
    if not reason.strip():
        raise BadInput("reason-required", "重新计算考核结果须写明原因")
    policy = _policy(settings)
    now = clock.now()
    if not _ended(month, now, policy):
        raise BadInput("assessment-month-not-ended", f"{month}尚未结束，其考核结果为实时计算，无需重新计算")
    store = AssessmentStore(session)
    try:
        previous = await store.delete(month)
        await _fill_history(session, month, now=now, policy=policy)
        result = await _store_new(
            session,
            month,
            now=now,
            policy=policy,
            by=actor.user_id,
            recomputations=(previous.recomputations + 1) if previous is not None else 0,
            note=reason.strip(),
        )
        later_window = [month.shift(i) for i in range(1, SETTINGS.escalation_window_months)]
        later = tuple(sorted(await store.stored_months(later_window)))
        await AuditRepository(session).append_admin(
            action="assessment_recompute",
            at=now,
            actor_id=actor.user_id,
            actor_name=actor.name,
            actor_role=actor.role.value,
            via="api",
            details={
                "month": str(month),
                "reason": reason.strip(),
                "previous_as_of": None if previous is None else previous.as_of.isoformat(),
                "interviewed": ",".join(sorted(result.interviewed)),
            },
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return Recomputation(result, previous, later)


def _year_months(year: int, now: datetime, policy: PolicyProfile) -> list[Month]:
    local = now.astimezone(policy.tz)
    last = 12 if local.year > year else local.month if local.year == year else 0
    return [Month(year, m) for m in range(1, last + 1)]


async def annual_assessment(
    session: AsyncSession, settings: Settings, year: int, *, clock: Clock
) -> AnnualResult:
    """The annual result of ``year``: the mean of each unit's monthly scores over the year's
    months that have begun at ``clock.now()`` (ended months stored as for
    :func:`monthly_assessment`), ranked per group, with the awards of seed 000."""
    policy = _policy(settings)
    months = [
        await monthly_assessment(session, settings, m, clock=clock)
        for m in _year_months(year, clock.now(), policy)
    ]
    units = await AssessmentRepository(session).units()
    return annual_result(months, units, SETTINGS)


# -- the drill-down -----------------------------------------------------------------------------

Part = Literal["denominator", "numerator"]


def indicator_key(name: str) -> IndicatorKey:
    try:
        return IndicatorKey(name)
    except ValueError:
        known = "、".join(f"{k.value}（{k.label_zh}）" for k in IndicatorKey)
        raise NotFound(
            "unknown-indicator", f"没有名为“{name}”的考核指标（可选：{known}）", indicator=name
        ) from None


def parse_month(text: str) -> Month:
    try:
        return Month.parse(text)
    except InvalidInput:
        raise BadInput("bad-month", f"无法识别的月份“{text}”，应写作如 2026-10", month=text) from None


def visible_unit(actor: Actor, unit_id: int) -> None:
    """Supervisors and administrators see every unit; a unit handler only their own."""
    if actor.role in CENTRE_ROLES:
        return
    if actor.role is Role.UNIT_HANDLER:
        if actor.unit_id == unit_key(unit_id):
            return
        raise Forbidden("not-your-unit", "承办人只能查看本单位的考核结果")
    raise Forbidden("role-not-permitted", "只有指挥中心和网络单位可以查看考核结果")


@dataclass(frozen=True, slots=True)
class DrillDownItem:
    number: str
    state: str
    category: str | None
    registered_at: datetime
    assigned_at: datetime | None
    checked_in_at: datetime | None
    due_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    in_numerator: bool
    reason: str  # 计入原因, from the order as it stands
    changed_since: bool  # the order would now be counted differently (changed after ``as_of``)


@dataclass(frozen=True, slots=True)
class DrillDown:
    month: Month
    unit: UnitInfo
    indicator: IndicatorKey
    part: Part
    count: int  # the indicator's numerator
    base: int  # its denominator
    stored: bool  # False: the month is not ended, computed live
    as_of: datetime
    total: int  # orders in ``part``
    offset: int
    limit: int
    items: list[DrillDownItem]


async def drill_down(
    session: AsyncSession,
    settings: Settings,
    month: Month,
    unit_id: int,
    indicator: IndicatorKey,
    *,
    part: Part,
    offset: int,
    limit: int,
    clock: Clock,
    actor: Actor,
) -> DrillDown:
    """The orders behind ``unit_id``'s ``indicator`` in ``month`` — its denominator, or only its
    numerator — by number, a page at a time, each with what was counted and why."""
    visible_unit(actor, unit_id)
    policy = _policy(settings)
    store = AssessmentStore(session)
    info = await store.info(month)
    if info is None:  # not stored yet: computed (and stored if the month has ended)
        assessment = await monthly_assessment(session, settings, month, clock=clock)
        info = await store.info(month)
        ua = assessment.units.get(unit_key(unit_id))
        if ua is None:
            raise NotFound("unknown-unit", f"{month}的考核中没有编号为{unit_id}的单位", unit_id=unit_id)
        unit, members, flags, as_of = ua.unit, list(ua.members), list(ua.flags), ua.as_of
    else:
        stored = await store.unit(month, unit_id)
        if stored is None:
            raise NotFound("unknown-unit", f"{month}的考核中没有编号为{unit_id}的单位", unit_id=unit_id)
        unit, members, flags, as_of = stored.unit, stored.members, stored.flags, info.as_of
    den_bit, num_bit = denominator_bit(indicator), numerator_bit(indicator)
    count = sum(1 for f in flags if f & num_bit)
    bit = num_bit if part == "numerator" else den_bit
    chosen = [(n, bool(f & num_bit)) for n, f in zip(members, flags, strict=True) if f & bit]
    page = chosen[offset : offset + limit]
    orders = await AssessmentRepository(session).orders_by_number([n for n, _ in page], policy.tz)
    period = month.period(policy.tz)
    calendar = (
        await CalendarProvider().get(session)
        if SETTINGS.check_in_period.unit is PeriodUnit.WORKING_DAYS
        else None
    )
    items = []
    for number, in_numerator in page:
        order = orders[number]
        now_in = counted(
            order, unit, indicator, period, as_of=as_of, policy=policy, settings=SETTINGS, calendar=calendar
        )
        items.append(
            DrillDownItem(
                number=number,
                state=order.state.value,
                category=None if order.category is None else order.category.value,
                registered_at=order.registered_at,
                assigned_at=order.assigned_at,
                checked_in_at=order.checked_in_at,
                due_at=order.due_at,
                replied_at=order.replied_at,
                closed_at=order.closed_at,
                in_numerator=in_numerator,
                reason=explain(
                    order,
                    unit.unit_id,
                    indicator,
                    period,
                    as_of=as_of,
                    policy=policy,
                    settings=SETTINGS,
                    calendar=calendar,
                ),
                changed_since=now_in != (True, in_numerator),
            )
        )
    return DrillDown(
        month=month,
        unit=unit,
        indicator=indicator,
        part=part,
        count=count,
        base=sum(1 for f in flags if f & den_bit),
        stored=info is not None,
        as_of=as_of,
        total=len(chosen),
        offset=offset,
        limit=limit,
        items=items,
    )
