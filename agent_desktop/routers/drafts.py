"""``/api/v1/drafts``: draft work orders from a call transcript (工单草稿), the agent's decision on
each suggested field, and the drafts' accuracy for supervisors.

A thin layer over :class:`minhu.services.drafts.DraftService`. Each field of a draft comes back as
``{"value", "label", "confidence", "sources": [{"start", "end", "text"}]}``; ``sources`` index into
the draft's ``text``. The unit is one of the database's units (``value`` is its id).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from asr.draft import FIELDS, Span, Suggestion
from minhu.services.drafts import (
    FIELD_LABELS,
    MAX_TRANSCRIPT_CHARS,
    DraftService,
    FieldDecision,
    RecordedDecision,
    StoredDraft,
    decimal_of,
)
from minhu.services.drafts import FieldAccuracy as Counted

from ..deps import ActorDep, SessionDep
from ..errors import responses

router = APIRouter(prefix="/drafts", tags=["drafts 工单草稿"])

DraftId = Annotated[int, Path(ge=1, le=2**62, description="草稿编号")]
KIND_LABELS = {"consultation": "咨询", "help": "求助", "complaint": "投诉", "suggestion": "意见建议"}
CATEGORY_LABELS = {"A": "A 类", "B": "B 类", "C": "C 类", "D": "D 类"}


async def draft_service(request: Request, session: SessionDep) -> DraftService:
    state = request.app.state
    return DraftService(
        session,
        clock=state.clock,
        tz=state.settings.tz,
        history_orders=state.settings.draft_history_orders,
    )


DraftsDep = Annotated[DraftService, Depends(draft_service)]


class DraftIn(BaseModel):
    text: str = Field(
        min_length=1, max_length=MAX_TRANSCRIPT_CHARS, description="通话转写文本（或粘贴的文字）"
    )
    linkedid: str | None = Field(default=None, max_length=64, description="通话标识（关联通话）")
    reference: AwareDatetime | None = Field(default=None, description="通话时间；不填为当前时间")


class FieldDecisionIn(BaseModel):
    field: str = Field(min_length=1, max_length=16, description="字段：" + "、".join(FIELDS))
    decision: Literal["accepted", "corrected"] | None = Field(
        default=None, description="accepted 采纳；corrected 修改（须填 value）；不填则按 value 与建议值比较"
    )
    value: str | list[str] | None = Field(default=None, description="最终值（电话、日期为列表）")


class DecisionsIn(BaseModel):
    order_number: str | None = Field(default=None, pattern=r"^\d{8}-\d{6}$", description="保存后的工单编号")
    fields: list[FieldDecisionIn] = Field(min_length=1, max_length=len(FIELDS))


def _spans(spans: tuple[Span, ...]) -> list[dict[str, Any]]:
    return [{"start": s.start, "end": s.end, "text": s.text} for s in spans]


def _field(value: Any, label: str | None, confidence: float, sources: tuple[Span, ...]) -> dict[str, Any]:
    return {"value": value, "label": label, "confidence": confidence, "sources": _spans(sources)}


def _one(s: Suggestion[Any], value: Any, label: str | None = None) -> dict[str, Any]:
    return _field(value, label if label is not None else value, s.confidence, s.sources)


def _draft(stored: StoredDraft) -> dict[str, Any]:
    d = stored.draft
    unit = d.unit.value
    code, name = stored.units.get(unit, ("", "")) if unit else ("", "")
    unit_field = _one(d.unit, unit, name or None)
    unit_field["code"] = code or None
    phones = sorted(d.phones, key=lambda p: p.value)
    dates = sorted(d.dates, key=lambda m: m.value.label)
    fields = {
        "kind": _one(d.kind, d.kind.value.value, KIND_LABELS.get(d.kind.value.value)),
        "category": _one(d.category, d.category.value.value, CATEGORY_LABELS.get(d.category.value.value)),
        "unit": unit_field,
        "address": _one(d.address, d.address.value),
        "phones": _field(
            [p.value for p in phones],
            "、".join(p.value for p in phones) or None,
            d.confidence_of("phones"),
            tuple(s for p in phones for s in p.sources),
        ),
        "dates": _field(
            [m.value.label for m in dates],
            "、".join(m.value.label for m in dates) or None,
            d.confidence_of("dates"),
            tuple(s for m in dates for s in m.sources),
        ),
        "name": _one(d.name, d.name.value),
        "summary": _one(d.summary, d.summary.value),
    }
    for key, value in fields.items():
        value["field_label"] = FIELD_LABELS[key]
    return {
        "id": stored.id,
        "linkedid": stored.linkedid,
        "created_at": stored.created_at.isoformat(),
        "created_by": stored.created_by,
        "text": d.text,
        "fields": fields,
        "topics": list(d.topics),
        "unit_candidates": [
            {
                "unit_id": c.unit_id,
                "name": stored.units.get(c.unit_id, ("", c.name))[1],
                "score": c.score,
                "reasons": list(c.reasons),
            }
            for c in d.unit_candidates
        ],
    }


def _decision(r: RecordedDecision) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {
        "field": r.field,
        "field_label": FIELD_LABELS[r.field],
        "suggested": plain(r.suggested),
        "final": plain(r.final),
        "decision": "accepted" if r.accepted else "corrected",
        "decided_by": r.decided_by,
        "decided_at": r.decided_at.isoformat(),
        "order_number": r.order_number,
    }


def _counted(f: Counted, label: str) -> dict[str, Any]:
    acc = f.accuracy
    return {
        "field": f.field,
        "field_label": label,
        "accepted": f.accepted,
        "corrected": f.corrected,
        "decided": f.decided,
        "accuracy": decimal_of(acc),
        "accuracy_fraction": None if acc is None else f"{acc.numerator}/{acc.denominator}",
    }


@router.post("", status_code=201, responses=responses(401, 403, 413, 422))
async def create_draft(body: DraftIn, actor: ActorDep, drafts: DraftsDep) -> dict[str, Any]:
    """生成工单草稿：由通话转写文本给出各字段的建议值、置信度与依据原文 (draft an order from a transcript)."""
    stored = await drafts.create(actor, text=body.text, linkedid=body.linkedid, reference=body.reference)
    return _draft(stored)


@router.get("/accuracy", responses=responses(401, 403, 422))
async def accuracy(
    actor: ActorDep,
    drafts: DraftsDep,
    date_from: Annotated[date, Query(description="开始日期（含）")],
    date_to: Annotated[date, Query(description="结束日期（含）")],
) -> dict[str, Any]:
    """草稿准确率：按字段统计坐席采纳建议值的比例 (per-field accuracy)."""
    report = await drafts.accuracy(actor, date_from, date_to)
    mean = report.mean
    return {
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "drafts": report.drafts,
        "fields": [_counted(f, FIELD_LABELS[f.field]) for f in report.fields],
        "overall": _counted(report.overall, "全部字段"),
        "mean_of_fields": decimal_of(mean),
        "mean_of_fields_fraction": None if mean is None else f"{mean.numerator}/{mean.denominator}",
    }


@router.post("/{draft_id}/decisions", responses=responses(401, 403, 404, 422))
async def decide(draft_id: DraftId, body: DecisionsIn, actor: ActorDep, drafts: DraftsDep) -> dict[str, Any]:
    """记录坐席对各字段的处理：采纳或修改（含修改后的值），可关联工单编号 (keep the decisions)."""
    fields = [
        FieldDecision(
            field=f.field,
            decision=f.decision,
            value=tuple(f.value) if isinstance(f.value, list) else f.value,
            has_value="value" in f.model_fields_set,
        )
        for f in body.fields
    ]
    recorded = await drafts.decide(actor, draft_id, fields, body.order_number)
    return {"draft_id": draft_id, "decisions": [_decision(r) for r in recorded]}


@router.get("/{draft_id}/decisions", responses=responses(401, 403, 404, 422))
async def list_decisions(draft_id: DraftId, actor: ActorDep, drafts: DraftsDep) -> dict[str, Any]:
    """草稿各字段的处理记录 (the decisions kept for a draft)."""
    recorded = await drafts.decisions(actor, draft_id)
    return {"draft_id": draft_id, "decisions": [_decision(r) for r in recorded]}
