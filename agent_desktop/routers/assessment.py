"""考核 (Art. 26-29): the monthly results by group, interviews and escalations, the annual result,
the drill-down to the orders behind a figure, and a supervisor's recomputation of a stored month.

Supervisors and administrators see every unit; a unit handler sees its own unit only (its row,
rank and group size, its interviews and escalations, its drill-down). Figures are exact
fractions (``"9188/117"``) with the display value (``"78.53"``, ROUND_HALF_UP) next to them.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from minhu.db.mapping import unit_id_of
from minhu.db.repositories.assessment_store import StoredMonth
from minhu.services import assessment as service
from minhu.services.errors import Forbidden
from workorders.assessment import (
    AnnualResult,
    Escalation,
    IndicatorKey,
    InterviewTrigger,
    MonthlyAssessment,
    UnitAssessment,
    present,
)
from workorders.enums import AssessmentGroup, Role
from workorders.model import Actor

from ..deps import ActorDep, SessionDep, SettingsDep
from ..errors import responses

router = APIRouter(prefix="/assessment", tags=["assessment 考核"])

MonthPath = Annotated[str, Path(description="月份，如 2026-10", max_length=16)]
GROUP_ZH = {
    AssessmentGroup.DISTRICT: "市内五区",
    AssessmentGroup.STREET: "街道（乡、镇）",
    AssessmentGroup.COUNTY: "县（市、区）",
    AssessmentGroup.DEPARTMENT: "市直和驻平单位",
}
CONSEQUENCE_ZH = {
    "main_leader_interview": "约谈主要领导（第二十八条第五项）",
    "public_statement": "公开表态发言、取消评先资格（第二十九条）",
}


def _exact(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _shown(value: Fraction | None) -> str | None:
    return None if value is None else str(present(value))


class IndicatorOut(BaseModel):
    key: str
    label: str
    numerator: int
    denominator: int
    rate_percent: str | None = Field(description="百分比，两位小数；分母为0时为空")


class UnitResultOut(BaseModel):
    unit_id: int
    name: str
    group: str
    rank: int | None = Field(description="组内名次，同分同名次；无工单不排名")
    score: str | None = Field(description="总分（两位小数）")
    score_exact: str | None = Field(description="总分精确值（分数）")
    indicators: list[IndicatorOut]


class GroupOut(BaseModel):
    group: str
    label: str
    size: int = Field(description="参与排名的单位数")
    top_score: str | None
    units: list[UnitResultOut]


class InterviewOut(BaseModel):
    unit_id: int
    group: str
    rank: int
    group_size: int
    score: str
    top_score: str
    threshold: str | None = Field(description="触发线（本组最高分×比例）；为空表示排名最后即约谈")
    reason: str


class EscalationOut(BaseModel):
    unit_id: int
    consequence: str
    label: str
    consecutive: int
    months_in_window: list[str]
    by_consecutive: bool
    by_total: bool


class MonthOut(BaseModel):
    month: str
    stored: bool = Field(description="已保存的月度结果；否则为本月实时计算（未结束）")
    as_of: datetime | None
    computed_at: datetime | None
    computed_by: str | None
    recomputations: int
    groups: list[GroupOut]
    interviews: list[InterviewOut]
    escalations: list[EscalationOut]


class RecomputeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="重新计算的原因（记入审计）")


class RecomputeOut(MonthOut):
    previous_as_of: datetime | None
    later_months: list[str] = Field(
        description="窗口内已保存的后续月份：其升级约谈按旧结果计算，如需请一并重算"
    )


class AnnualUnitOut(BaseModel):
    unit_id: int
    name: str
    group: str
    months: int = Field(description="有得分的月份数")
    mean: str | None
    mean_exact: str | None
    rank: int | None
    award: bool
    disqualified: bool = Field(description="年内公开表态发言，取消评先资格")


class AnnualOut(BaseModel):
    year: int
    months: list[str]
    units: list[AnnualUnitOut]


class DrillDownItemOut(BaseModel):
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
    reason: str = Field(description="计入原因")
    changed_since: bool = Field(description="统计后工单有变化，按现状将不同计入")


class DrillDownOut(BaseModel):
    month: str
    unit_id: int
    unit_name: str
    indicator: str
    label: str
    part: str
    numerator: int
    denominator: int
    rate_percent: str | None
    stored: bool
    as_of: datetime
    total: int
    offset: int
    limit: int
    items: list[DrillDownItemOut]


def _indicators(u: UnitAssessment) -> list[IndicatorOut]:
    return [
        IndicatorOut(
            key=k.value,
            label=k.label_zh,
            numerator=u[k].count,
            denominator=u[k].base,
            rate_percent=None if u[k].percent() is None else str(u[k].percent()),
        )
        for k in IndicatorKey
    ]


def _sees(actor: Actor, unit_key: str) -> bool:
    return actor.role is not Role.UNIT_HANDLER or actor.unit_id == unit_key


def _interview(t: InterviewTrigger) -> InterviewOut:
    threshold = (
        ""
        if t.threshold is None
        else f"，低于本组最高分{t.rule.below_fraction_of_top}倍（{_shown(t.threshold)}）"
    )
    return InterviewOut(
        unit_id=unit_id_of(t.unit_id),
        group=t.group.value,
        rank=t.rank,
        group_size=t.group_size,
        score=_shown(t.score) or "",
        top_score=_shown(t.top_score) or "",
        threshold=_shown(t.threshold),
        reason=f"{GROUP_ZH[t.group]}第{t.rank}名（共{t.group_size}个），排名后{t.rule.last_n}位{threshold}（第二十八条第四项）",
    )


def _escalation(e: Escalation) -> EscalationOut:
    return EscalationOut(
        unit_id=unit_id_of(e.unit_id),
        consequence=e.consequence,
        label=CONSEQUENCE_ZH.get(e.consequence, e.consequence),
        consecutive=e.consecutive,
        months_in_window=[str(m) for m in e.in_window],
        by_consecutive=e.by_consecutive,
        by_total=e.by_total,
    )


def _month_out(m: MonthlyAssessment, info: StoredMonth | None, actor: Actor) -> MonthOut:
    groups = []
    for group in AssessmentGroup:
        ranking = m.rankings[group]
        members = [u for u in m.units.values() if u.unit.group is group and _sees(actor, u.unit.unit_id)]
        members.sort(key=lambda u: (ranking.rank_of(u.unit.unit_id) or 10**9, u.unit.unit_id))
        if actor.role is Role.UNIT_HANDLER and not members:
            continue
        groups.append(
            GroupOut(
                group=group.value,
                label=GROUP_ZH[group],
                size=len(ranking.ranked),
                top_score=_shown(ranking.top_score),
                units=[
                    UnitResultOut(
                        unit_id=unit_id_of(u.unit.unit_id),
                        name=u.unit.name,
                        group=group.value,
                        rank=ranking.rank_of(u.unit.unit_id),
                        score=_shown(u.total),
                        score_exact=_exact(u.total),
                        indicators=_indicators(u),
                    )
                    for u in members
                ],
            )
        )
    return MonthOut(
        month=str(m.month),
        stored=info is not None,
        as_of=None if info is None else info.as_of,
        computed_at=None if info is None else info.computed_at,
        computed_by=None if info is None else info.computed_by,
        recomputations=0 if info is None else info.recomputations,
        groups=groups,
        interviews=[_interview(t) for t in m.interviews if _sees(actor, t.unit_id)],
        escalations=[_escalation(e) for e in m.escalations if _sees(actor, e.unit_id)],
    )


def _annual_out(year: int, result: AnnualResult, actor: Actor) -> AnnualOut:
    awarded = {uid for ids in result.awards.values() for uid in ids}
    units = [
        AnnualUnitOut(
            unit_id=unit_id_of(uid),
            name=r.unit.name,
            group=r.unit.group.value,
            months=len(r.monthly),
            mean=_shown(r.mean),
            mean_exact=_exact(r.mean),
            rank=r.rank,
            award=uid in awarded,
            disqualified=bool(r.disqualified_by),
        )
        for uid, r in result.results.items()
        if _sees(actor, uid)
    ]
    units.sort(key=lambda u: (u.group, u.rank or 10**9, u.unit_id))
    return AnnualOut(year=year, months=[str(m) for m in result.months], units=units)


def _viewer(actor: Actor) -> None:
    if actor.role not in service.CENTRE_ROLES and actor.role is not Role.UNIT_HANDLER:
        raise Forbidden("role-not-permitted", "只有指挥中心和网络单位可以查看考核结果")


ERR = responses(401, 403, 404, 422)


@router.get("/months/{month}", response_model=MonthOut, responses=ERR)
async def month_results(
    request: Request, month: MonthPath, actor: ActorDep, session: SessionDep, settings: SettingsDep
) -> MonthOut:
    """月度考核：四个分组的得分与排名、各项指标、通报约谈和升级约谈（承办人只看本单位）。

    An ended month is stored the first time it is asked for and read back afterwards."""
    _viewer(actor)
    m = service.parse_month(month)
    result = await service.monthly_assessment(session, settings, m, clock=request.app.state.clock)
    return _month_out(result, await service.stored_month_info(session, m), actor)


@router.post("/months/{month}/recompute", response_model=RecomputeOut, responses=responses(401, 403, 422))
async def recompute(
    request: Request,
    month: MonthPath,
    body: RecomputeIn,
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
) -> RecomputeOut:
    """重新计算已保存的月度考核（班长、管理员；须写明原因，记入审计）。"""
    service.require_centre(actor)
    m = service.parse_month(month)
    done = await service.recompute_month(
        session, settings, m, clock=request.app.state.clock, actor=actor, reason=body.reason
    )
    out = _month_out(done.assessment, await service.stored_month_info(session, m), actor)
    return RecomputeOut(
        **out.model_dump(),
        previous_as_of=None if done.previous is None else done.previous.as_of,
        later_months=[str(x) for x in done.later_months],
    )


@router.get("/years/{year}", response_model=AnnualOut, responses=ERR)
async def annual(
    request: Request,
    year: Annotated[int, Path(ge=2000, le=2100, description="年份")],
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
) -> AnnualOut:
    """年度考核：各月得分的平均值、组内排名和优质服务热线单位（承办人只看本单位）。"""
    _viewer(actor)
    result = await service.annual_assessment(session, settings, year, clock=request.app.state.clock)
    return _annual_out(year, result, actor)


@router.get(
    "/months/{month}/units/{unit_id}/indicators/{indicator}/orders",
    response_model=DrillDownOut,
    responses=ERR,
)
async def drill_down(
    request: Request,
    month: MonthPath,
    unit_id: int,
    indicator: str,
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    part: Annotated[
        Literal["denominator", "numerator"], Query(description="分母（全部计入工单）或仅分子")
    ] = ("denominator"),
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DrillDownOut:
    """指标明细：某单位某月某项指标分子、分母所含的工单（编号、状态、时间、计入原因），分页。

    The orders behind a figure, so that a unit can contest it; a unit handler only for its own unit."""
    m = service.parse_month(month)
    key = service.indicator_key(indicator)
    d = await service.drill_down(
        session,
        settings,
        m,
        unit_id,
        key,
        part=part,
        offset=offset,
        limit=limit,
        clock=request.app.state.clock,
        actor=actor,
    )
    rate = Fraction(d.count, d.base) if d.base else None
    return DrillDownOut(
        month=str(d.month),
        unit_id=unit_id,
        unit_name=d.unit.name,
        indicator=key.value,
        label=key.label_zh,
        part=d.part,
        numerator=d.count,
        denominator=d.base,
        rate_percent=None if rate is None else str(present(rate * 100)),
        stored=d.stored,
        as_of=d.as_of,
        total=d.total,
        offset=d.offset,
        limit=d.limit,
        items=[
            DrillDownItemOut(**{f: getattr(i, f) for f in DrillDownItemOut.model_fields}) for i in d.items
        ],
    )
