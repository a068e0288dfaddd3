"""Draft work orders from call transcripts (工单草稿) and the agent's decision on each field.

An intake agent (or supervisor) posts a transcript; :mod:`asr.draft` suggests every field, with the
unit chosen from the *database's* unit directory (names from ``units``, the names citizens use and
the streets of each district from the shipped default directory where a unit matches it by code or
name, the streets that are units of their own under a district) and from the history of assigned
orders (their content and lead unit). The draft is stored; when the agent saves the order, the
decision on each field (accepted as suggested, or corrected to another value) is stored with who,
when and the order number. Accuracy per field is counted from those decisions with exact fractions.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from asr.draft import FIELDS, AssignedOrder, DraftContext, DraftOrder, UnitRef, draft_order
from asr.draft.accuracy import normalize
from asr.draft.model import FieldValue
from asr.draft.resources import default_units
from minhu.db.draft_models import DraftDecisionRow, OrderDraftRow
from minhu.db.models import Unit, WorkOrderRow
from workorders.clock import Clock
from workorders.enums import AssessmentGroup, Role
from workorders.model import Actor

from .errors import BadInput, Forbidden, NotFound, UnknownReference

FIELD_LABELS: dict[str, str] = {
    "kind": "诉求类型",
    "category": "分类",
    "unit": "承办单位",
    "address": "地址",
    "phones": "联系电话",
    "dates": "日期时间",
    "name": "市民姓名",
    "summary": "诉求内容",
}
LIST_FIELDS = frozenset({"phones", "dates"})
MAX_TRANSCRIPT_CHARS = 20_000

_DRAFTERS = (Role.INTAKE_AGENT, Role.SUPERVISOR, Role.ADMIN)
_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
_LOCAL_GROUPS = (AssessmentGroup.DISTRICT.value, AssessmentGroup.COUNTY.value)


@dataclass(frozen=True, slots=True)
class StoredDraft:
    id: int
    linkedid: str | None
    created_at: datetime
    created_by: str
    order_number: str | None
    draft: DraftOrder
    units: dict[str, tuple[str, str]]  # unit id (str of units.id) -> (code, name)


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """One field of a decision request: ``accepted`` keeps the suggestion; otherwise ``value`` is
    the final value (``corrected``, or ``None``: the service compares it with the suggestion)."""

    field: str
    decision: str | None  # "accepted" | "corrected" | None
    value: FieldValue
    has_value: bool


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    field: str
    suggested: FieldValue
    final: FieldValue
    accepted: bool
    decided_by: str
    decided_at: datetime
    order_number: str | None


@dataclass(frozen=True, slots=True)
class FieldAccuracy:
    field: str
    accepted: int
    decided: int

    @property
    def corrected(self) -> int:
        return self.decided - self.accepted

    @property
    def accuracy(self) -> Fraction | None:
        return Fraction(self.accepted, self.decided) if self.decided else None


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    date_from: date
    date_to: date
    drafts: int
    fields: tuple[FieldAccuracy, ...]

    @property
    def overall(self) -> FieldAccuracy:
        return FieldAccuracy("all", sum(f.accepted for f in self.fields), sum(f.decided for f in self.fields))

    @property
    def mean(self) -> Fraction | None:
        """The mean of the per-field accuracies (each field decided at least once weighs the same)."""
        values = [f.accuracy for f in self.fields if f.accuracy is not None]
        return sum(values, Fraction(0)) / len(values) if values else None


def decimal_of(value: Fraction | None, places: int = 4) -> str | None:
    """A fraction as a decimal string rounded half up (``Fraction(2, 3)`` → ``"0.6667"``)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _plain(value: FieldValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _value(raw: Any) -> FieldValue:
    if isinstance(raw, list):
        return tuple(str(x) for x in raw)
    return None if raw is None else str(raw)


def _strip_parent(name: str, parent: str) -> str:
    return name[len(parent) :] if name.startswith(parent) and len(name) > len(parent) else name


_CONTEXTS: OrderedDict[tuple[tuple[UnitRef, ...], tuple[AssignedOrder, ...]], DraftContext] = OrderedDict()
_CONTEXTS_LOCK = threading.Lock()
_CONTEXTS_KEPT = 4


def _context(units: tuple[UnitRef, ...], history: tuple[AssignedOrder, ...]) -> DraftContext:
    """The draft context of this directory and history; the history's index is built once per
    process for as long as neither changes (the last few are kept)."""
    key = (units, history)
    with _CONTEXTS_LOCK:
        found = _CONTEXTS.get(key)
        if found is not None:
            _CONTEXTS.move_to_end(key)
            return found
    built = DraftContext.build(units, history)
    with _CONTEXTS_LOCK:
        _CONTEXTS[key] = built
        while len(_CONTEXTS) > _CONTEXTS_KEPT:
            _CONTEXTS.popitem(last=False)
    return built


class DraftService:
    def __init__(
        self, session: AsyncSession, *, clock: Clock, tz: tzinfo, history_orders: int = 2000
    ) -> None:
        self._session = session
        self._clock = clock
        self._tz = tz
        self._history_orders = history_orders

    # --- the directory and history the unit suggestion uses --------------------------------------

    async def unit_directory(self) -> tuple[tuple[UnitRef, ...], dict[str, tuple[str, str]]]:
        """The active units of the database as the draft sees them, and id -> (code, name)."""
        stmt = select(Unit.id, Unit.code, Unit.name, Unit.assessment_group, Unit.parent_id).where(
            Unit.active.is_(True)
        )
        rows = (await self._session.execute(stmt)).all()
        by_code = {u.unit_id: u for u in default_units()}
        by_name = {u.name: u for u in default_units()}
        names = {r.id: r.name for r in rows}
        streets: dict[int, list[str]] = defaultdict(list)
        for r in rows:
            if r.parent_id is not None and r.parent_id in names:
                streets[r.parent_id].append(_strip_parent(r.name, names[r.parent_id]))
        refs: list[UnitRef] = []
        for r in rows:
            base = by_code.get(r.code) or by_name.get(r.name)
            aliases: list[str] = list(base.aliases) if base else []
            if base is not None and base.name != r.name:
                aliases.append(base.name)
            if r.name.startswith("市") and len(r.name) > 3:
                aliases.append(r.name[1:])
            local = r.assessment_group in _LOCAL_GROUPS
            areas = [*(base.areas if base and local else ()), *streets.get(r.id, ())]
            refs.append(
                UnitRef(
                    unit_id=str(r.id),
                    name=r.name,
                    aliases=tuple(dict.fromkeys(a for a in aliases if a and a != r.name)),
                    areas=tuple(dict.fromkeys(areas)),
                    is_district=local,
                )
            )
        return tuple(refs), {str(r.id): (r.code, r.name) for r in rows}

    async def history(self, unit_ids: set[str]) -> list[AssignedOrder]:
        """The latest assigned orders (content and lead unit) of units still in the directory."""
        if self._history_orders <= 0:
            return []
        stmt = (
            select(WorkOrderRow.content, WorkOrderRow.lead_unit_id)
            .where(WorkOrderRow.lead_unit_id.is_not(None))
            .order_by(WorkOrderRow.registered_at.desc())
            .limit(self._history_orders)
        )
        rows = (await self._session.execute(stmt)).all()
        return [
            AssignedOrder(r.content, str(r.lead_unit_id))
            for r in rows
            if str(r.lead_unit_id) in unit_ids and r.content
        ]

    # --- drafts --------------------------------------------------------------------------------

    async def create(
        self, actor: Actor, *, text: str, linkedid: str | None = None, reference: datetime | None = None
    ) -> StoredDraft:
        if actor.role not in _DRAFTERS:
            raise Forbidden(
                "role-not-permitted", "只有受理人、指挥中心或管理员可以生成工单草稿", role=str(actor.role)
            )
        text = text.strip()
        if not text:
            raise BadInput("empty-transcript", "转写文本为空，无法生成草稿")
        if len(text) > MAX_TRANSCRIPT_CHARS:
            raise BadInput("transcript-too-long", f"转写文本超过{MAX_TRANSCRIPT_CHARS}字上限")
        if reference is not None and reference.tzinfo is None:
            raise BadInput("naive-datetime", "通话时间须带时区")
        now = self._clock.now()
        at = reference or now
        units, names = await self.unit_directory()
        history = await self.history(set(names))

        def make() -> DraftOrder:
            return draft_order(text, at.astimezone(self._tz), _context(units, tuple(history)))

        # Segmenting the transcript and indexing the history is CPU work (tens of milliseconds
        # with thousands of orders, a second for the segmenter's first load): off the event loop.
        draft = await asyncio.to_thread(make)
        row = OrderDraftRow(
            linkedid=linkedid or None,
            transcript=text,
            reference_at=at,
            created_at=now,
            created_by=actor.user_id,
            suggestions={
                f: {"value": _plain(draft.value_of(f)), "confidence": draft.confidence_of(f)} for f in FIELDS
            },
            order_number=None,
        )
        self._session.add(row)
        await self._session.flush()
        await self._session.commit()
        draft = replace(draft, draft_id=str(row.id))
        return StoredDraft(row.id, row.linkedid, now, actor.user_id, None, draft, names)

    async def _row(self, draft_id: int) -> OrderDraftRow:
        row = await self._session.get(OrderDraftRow, draft_id)
        if row is None:
            raise NotFound("draft-not-found", f"工单草稿 {draft_id} 不存在", draft_id=draft_id)
        return row

    async def decide(
        self,
        actor: Actor,
        draft_id: int,
        fields: Sequence[FieldDecision],
        order_number: str | None = None,
    ) -> list[RecordedDecision]:
        """Keep the agent's decision on each named field (a later decision on a field replaces the
        earlier one). A field counts as accepted when its final value equals the suggestion once
        blanks, punctuation and the order of list items are set aside."""
        if actor.role not in _DRAFTERS:
            raise Forbidden(
                "role-not-permitted", "只有受理人、指挥中心或管理员可以确认草稿", role=str(actor.role)
            )
        row = await self._row(draft_id)
        if actor.role is Role.INTAKE_AGENT and row.created_by != actor.user_id:
            raise Forbidden("not-your-draft", "只能确认本人生成的工单草稿", draft_id=draft_id)
        if not fields:
            raise BadInput("no-decisions", "请至少提交一个字段的确认结果")
        seen: set[str] = set()
        for f in fields:
            if f.field not in FIELDS:
                raise BadInput("unknown-field", f"未知的草稿字段：{f.field}", field=f.field)
            if f.field in seen:
                raise BadInput("duplicate-field", f"字段重复提交：{FIELD_LABELS[f.field]}", field=f.field)
            seen.add(f.field)
            if f.decision != "accepted" and not f.has_value:
                raise BadInput(
                    "correction-without-value",
                    f"修改字段须提交修改后的值：{FIELD_LABELS[f.field]}",
                    field=f.field,
                )
            if f.has_value and f.value is not None and isinstance(f.value, tuple) != (f.field in LIST_FIELDS):
                kind = "列表" if f.field in LIST_FIELDS else "文本"
                raise BadInput("bad-field-value", f"{FIELD_LABELS[f.field]}的值应为{kind}", field=f.field)
        if order_number is not None:
            found = await self._session.scalar(
                select(WorkOrderRow.id).where(WorkOrderRow.number == order_number)
            )
            if found is None:
                raise UnknownReference(
                    "unknown-order", f"工单 {order_number} 不存在", order_number=order_number
                )
            row.order_number = order_number
        now = self._clock.now()
        existing = {
            d.field: d
            for d in (
                await self._session.scalars(
                    select(DraftDecisionRow).where(DraftDecisionRow.draft_id == draft_id)
                )
            ).all()
        }
        out: list[RecordedDecision] = []
        for f in fields:
            suggested = _value(row.suggestions.get(f.field, {}).get("value"))
            final = suggested if f.decision == "accepted" else f.value
            accepted = normalize(f.field, final) == normalize(f.field, suggested)
            decision = existing.get(f.field)
            if decision is None:
                decision = DraftDecisionRow(draft_id=draft_id, field=f.field)
                self._session.add(decision)
            decision.suggested = _plain(suggested)
            decision.final = _plain(final)
            decision.accepted = accepted
            decision.decided_by = actor.user_id
            decision.decided_at = now
            decision.order_number = order_number or row.order_number
            out.append(
                RecordedDecision(
                    f.field, suggested, final, accepted, actor.user_id, now, decision.order_number
                )
            )
        await self._session.commit()
        return out

    async def decisions(self, actor: Actor, draft_id: int) -> list[RecordedDecision]:
        if actor.role not in _DRAFTERS:
            raise Forbidden(
                "role-not-permitted", "只有受理人、指挥中心或管理员可以查看草稿", role=str(actor.role)
            )
        row = await self._row(draft_id)
        if actor.role is Role.INTAKE_AGENT and row.created_by != actor.user_id:
            raise Forbidden("not-your-draft", "只能查看本人生成的工单草稿", draft_id=draft_id)
        rows = (
            await self._session.scalars(
                select(DraftDecisionRow)
                .where(DraftDecisionRow.draft_id == draft_id)
                .order_by(DraftDecisionRow.id)
            )
        ).all()
        return [
            RecordedDecision(
                r.field,
                _value(r.suggested),
                _value(r.final),
                r.accepted,
                r.decided_by,
                r.decided_at,
                r.order_number,
            )
            for r in rows
        ]

    # --- accuracy --------------------------------------------------------------------------------

    async def accuracy(self, actor: Actor, date_from: date, date_to: date) -> AccuracyReport:
        """Per field, the share of decisions made on the local days ``date_from``..``date_to``
        (inclusive) that accepted the suggestion."""
        if actor.role not in _READERS:
            raise Forbidden(
                "role-not-permitted", "只有指挥中心或管理员可以查看草稿准确率", role=str(actor.role)
            )
        if date_to < date_from:
            raise BadInput("bad-date-range", "结束日期早于开始日期")
        start = datetime.combine(date_from, time(0), self._tz)
        end = datetime.combine(date_to + timedelta(days=1), time(0), self._tz)
        stmt = select(DraftDecisionRow.draft_id, DraftDecisionRow.field, DraftDecisionRow.accepted).where(
            DraftDecisionRow.decided_at >= start, DraftDecisionRow.decided_at < end
        )
        accepted: dict[str, int] = defaultdict(int)
        decided: dict[str, int] = defaultdict(int)
        drafts: set[int] = set()
        for r in (await self._session.execute(stmt)).all():
            decided[r.field] += 1
            accepted[r.field] += 1 if r.accepted else 0
            drafts.add(r.draft_id)
        fields = tuple(FieldAccuracy(f, accepted[f], decided[f]) for f in FIELDS if decided[f])
        return AccuracyReport(date_from, date_to, len(drafts), fields)
