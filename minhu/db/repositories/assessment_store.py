"""The stored monthly assessments (:mod:`minhu.db.assessment_models`): saving a computed month,
reading it back as the pure core's :class:`~workorders.assessment.MonthlyAssessment`, the
interviews of earlier months for the escalations, one unit's orders for the drill-down."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.assessment_models import (
    AssessmentEscalationRow,
    AssessmentInterviewRow,
    AssessmentMonthRow,
    AssessmentUnitResultRow,
)
from minhu.db.mapping import unit_id_of, unit_key
from workorders.assessment import (
    MEMBERSHIP_KEYS,
    AssessmentSettings,
    Escalation,
    GroupRanking,
    InterviewTrigger,
    Month,
    MonthlyAssessment,
    UnitAssessment,
    UnitInfo,
    rank_group,
    unit_assessment,
)
from workorders.enums import AssessmentGroup
from workorders.errors import InvalidInput
from workorders.policy import EscalationRule, InterviewRule, PolicyProfile


def _fraction(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _parse_fraction(value: str | None) -> Fraction | None:
    return None if value is None else Fraction(value)


def policy_snapshot(policy: PolicyProfile) -> dict[str, Any]:
    """The profile's settings the assessment used, as stored with the month."""
    full = policy.to_mapping()
    keys = (
        "name",
        "timezone",
        "indicator_weights",
        "interview_rules",
        "escalation_rules",
        "deemed_satisfied_counts_as_satisfied",
        "required_contacts",
    )
    return {k: full[k] for k in keys}


@dataclass(frozen=True, slots=True)
class StoredMonth:
    month: Month
    as_of: datetime
    computed_at: datetime
    computed_by: str
    policy_profile: str
    recomputations: int
    note: str


@dataclass(frozen=True, slots=True)
class StoredUnit:
    """One unit's row of a stored month, for the drill-down."""

    unit: UnitInfo
    members: list[str]
    flags: list[int]


def _stored(row: AssessmentMonthRow) -> StoredMonth:
    return StoredMonth(
        Month.parse(row.month),
        row.as_of,
        row.computed_at,
        row.computed_by,
        row.policy_profile,
        row.recomputations,
        row.note,
    )


class AssessmentStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _row(self, month: Month) -> AssessmentMonthRow | None:
        stmt = select(AssessmentMonthRow).where(AssessmentMonthRow.month == str(month))
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def info(self, month: Month) -> StoredMonth | None:
        row = await self._row(month)
        return None if row is None else _stored(row)

    async def stored_months(self, months: Iterable[Month]) -> set[Month]:
        names = [str(m) for m in months]
        if not names:
            return set()
        stmt = select(AssessmentMonthRow.month).where(AssessmentMonthRow.month.in_(names))
        return {Month.parse(m) for m in (await self._session.execute(stmt)).scalars()}

    async def interview_history(self, months: Iterable[Month]) -> dict[str, list[Month]]:
        """unit key -> the months among ``months`` (stored ones) it was interviewed in."""
        names = [str(m) for m in months]
        if not names:
            return {}
        stmt = (
            select(AssessmentInterviewRow.unit_id, AssessmentMonthRow.month)
            .join(AssessmentMonthRow, AssessmentMonthRow.id == AssessmentInterviewRow.month_id)
            .where(AssessmentMonthRow.month.in_(names))
        )
        out: dict[str, list[Month]] = {}
        for unit_id, month in await self._session.execute(stmt):
            out.setdefault(unit_key(unit_id), []).append(Month.parse(month))
        return out

    async def delete(self, month: Month) -> StoredMonth | None:
        row = await self._row(month)
        if row is None:
            return None
        info = _stored(row)
        await self._session.execute(delete(AssessmentMonthRow).where(AssessmentMonthRow.id == row.id))
        return info

    async def save(
        self,
        assessment: MonthlyAssessment,
        *,
        as_of: datetime,
        computed_at: datetime,
        computed_by: str,
        policy: PolicyProfile,
        recomputations: int = 0,
        note: str = "",
    ) -> None:
        month_row = AssessmentMonthRow(
            month=str(assessment.month),
            as_of=as_of,
            computed_at=computed_at,
            computed_by=computed_by,
            policy_profile=policy.name,
            policy=policy_snapshot(policy),
            membership_keys=[k.value for k in MEMBERSHIP_KEYS],
            recomputations=recomputations,
            note=note,
        )
        self._session.add(month_row)
        await self._session.flush()
        ranks = {r.unit_id: r.rank for g in assessment.rankings.values() for r in g.ranked}
        await self._session.execute(
            insert(AssessmentUnitResultRow),
            [
                {
                    "month_id": month_row.id,
                    "unit_id": unit_id_of(uid),
                    "unit_name": u.unit.name,
                    "assessment_group": u.unit.group.value,
                    "score": _fraction(u.total),
                    "rank": ranks.get(uid),
                    "counts": {k.value: [i.count, i.base] for k, i in u.indicators.items()},
                    "members": list(u.members),
                    "flags": list(u.flags),
                }
                for uid, u in assessment.units.items()
            ],
        )
        if assessment.interviews:
            await self._session.execute(
                insert(AssessmentInterviewRow),
                [
                    {
                        "month_id": month_row.id,
                        "unit_id": unit_id_of(t.unit_id),
                        "assessment_group": t.group.value,
                        "rank": t.rank,
                        "group_size": t.group_size,
                        "score": _fraction(t.score),
                        "top_score": _fraction(t.top_score),
                        "threshold": _fraction(t.threshold),
                        "last_n": t.rule.last_n,
                        "below_fraction_of_top": None
                        if t.rule.below_fraction_of_top is None
                        else str(t.rule.below_fraction_of_top),
                    }
                    for t in assessment.interviews
                ],
            )
        if assessment.escalations:
            await self._session.execute(
                insert(AssessmentEscalationRow),
                [
                    {
                        "month_id": month_row.id,
                        "unit_id": unit_id_of(e.unit_id),
                        "consequence": e.consequence,
                        "consecutive": e.consecutive,
                        "in_window": [str(m) for m in e.in_window],
                        "by_consecutive": e.by_consecutive,
                        "by_total": e.by_total,
                        "rule_consecutive": e.rule.consecutive,
                        "rule_total_in_year": e.rule.total_in_year,
                    }
                    for e in assessment.escalations
                ],
            )
        await self._session.flush()

    async def load(self, month: Month, settings: AssessmentSettings) -> MonthlyAssessment | None:
        """The stored month rebuilt: indicators and scores from the members' flags with the
        weights stored with it, the ranking from the scores, interviews and escalations as
        decided then."""
        row = await self._row(month)
        if row is None:
            return None
        self._check_keys(row)
        policy = row.policy
        weights = {str(k): Decimal(str(v)) for k, v in dict(policy["indicator_weights"]).items()}
        period = month.period(ZoneInfo(str(policy["timezone"])))
        results = (
            await self._session.execute(
                select(AssessmentUnitResultRow)
                .where(AssessmentUnitResultRow.month_id == row.id)
                .order_by(AssessmentUnitResultRow.unit_id)
            )
        ).scalars()
        units: dict[str, UnitAssessment] = {}
        for r in results:
            info = UnitInfo(unit_key(r.unit_id), r.unit_name, AssessmentGroup(r.assessment_group))
            units[info.unit_id] = unit_assessment(
                info, period, row.as_of, r.members, r.flags, weights, settings
            )
        rankings: dict[AssessmentGroup, GroupRanking] = {
            group: rank_group(group, {uid: u.total for uid, u in units.items() if u.unit.group is group})
            for group in AssessmentGroup
        }
        interviews = tuple(
            InterviewTrigger(
                unit_key(i.unit_id),
                AssessmentGroup(i.assessment_group),
                i.rank,
                i.group_size,
                Fraction(i.score),
                Fraction(i.top_score),
                _parse_fraction(i.threshold),
                InterviewRule(
                    AssessmentGroup(i.assessment_group),
                    i.last_n,
                    None if i.below_fraction_of_top is None else Decimal(i.below_fraction_of_top),
                ),
            )
            for i in (
                await self._session.execute(
                    select(AssessmentInterviewRow)
                    .where(AssessmentInterviewRow.month_id == row.id)
                    .order_by(AssessmentInterviewRow.id)
                )
            ).scalars()
        )
        escalations = tuple(
            Escalation(
                unit_key(e.unit_id),
                month,
                e.consequence,
                e.consecutive,
                tuple(Month.parse(m) for m in e.in_window),
                e.by_consecutive,
                e.by_total,
                EscalationRule(e.consequence, e.rule_consecutive, e.rule_total_in_year),
            )
            for e in (
                await self._session.execute(
                    select(AssessmentEscalationRow)
                    .where(AssessmentEscalationRow.month_id == row.id)
                    .order_by(AssessmentEscalationRow.id)
                )
            ).scalars()
        )
        return MonthlyAssessment(
            month, MappingProxyType(units), MappingProxyType(rankings), interviews, escalations
        )

    async def unit(self, month: Month, unit_id: int) -> StoredUnit | None:
        """One unit's orders and flags in a stored month (``None``: month or unit not stored)."""
        stmt = (
            select(
                AssessmentMonthRow.membership_keys,
                AssessmentUnitResultRow.unit_id,
                AssessmentUnitResultRow.unit_name,
                AssessmentUnitResultRow.assessment_group,
                AssessmentUnitResultRow.members,
                AssessmentUnitResultRow.flags,
            )
            .join(AssessmentMonthRow, AssessmentMonthRow.id == AssessmentUnitResultRow.month_id)
            .where(AssessmentMonthRow.month == str(month), AssessmentUnitResultRow.unit_id == unit_id)
        )
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return None
        _check_key_list(row.membership_keys, month)
        info = UnitInfo(unit_key(row.unit_id), row.unit_name, AssessmentGroup(row.assessment_group))
        return StoredUnit(info, row.members, row.flags)

    def _check_keys(self, row: AssessmentMonthRow) -> None:
        _check_key_list(row.membership_keys, Month.parse(row.month))


def _check_key_list(keys: list[str], month: Month) -> None:
    if keys != [k.value for k in MEMBERSHIP_KEYS]:
        raise InvalidInput(
            "assessment-stored-layout-changed",
            f"{month}的考核结果按旧的指标列表保存，请重新计算该月考核",
            month=str(month),
        )
