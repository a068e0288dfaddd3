"""Draft work orders from a Chinese call transcript (工单草稿).

``draft_order(transcript, reference=call_time, context=ctx)`` suggests every field of a work
order — kind, category, responsible unit, address, phone numbers, dates, the citizen's name and a
summary — each with a confidence (0..1) and the spans of the transcript it came from. The agent
accepts or corrects each field (:class:`Correction`); :func:`field_accuracy` turns those verdicts
into the accuracy figure.

Pure: no I/O beyond the small data files in ``asr/data`` (read once), jieba for segmentation
with its own tokenizer and dictionary, no network, no models.

Modules: :mod:`~asr.draft.text` (turns, numerals), :mod:`~asr.draft.phones`,
:mod:`~asr.draft.times`, :mod:`~asr.draft.places`, :mod:`~asr.draft.names`,
:mod:`~asr.draft.classify` (kind, category, topics), :mod:`~asr.draft.units`,
:mod:`~asr.draft.summary`, :mod:`~asr.draft.accuracy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from asr.draft.accuracy import LABELLED_FIELDS, Correction, calibration, field_accuracy, review
from asr.draft.classify import score_topics, suggest_category, suggest_kind
from asr.draft.model import (
    FIELDS,
    AssignedOrder,
    DraftOrder,
    FieldValue,
    Span,
    Speaker,
    Suggestion,
    TimeMention,
    Turn,
    UnitCandidate,
    UnitRef,
)
from asr.draft.names import NAME_STATEMENT, extract_name
from asr.draft.phones import extract_phones
from asr.draft.places import extract_address
from asr.draft.resources import default_units, rules
from asr.draft.summary import summarize
from asr.draft.text import Transcript, assemble, turns_from_finals
from asr.draft.times import SHANGHAI, extract_dates
from asr.draft.units import HistoryIndex, UnitContext, suggest_unit

__all__ = [
    "FIELDS",
    "LABELLED_FIELDS",
    "SHANGHAI",
    "AssignedOrder",
    "Correction",
    "DraftContext",
    "DraftOrder",
    "FieldValue",
    "Span",
    "Speaker",
    "Suggestion",
    "TimeMention",
    "Turn",
    "UnitCandidate",
    "UnitRef",
    "calibration",
    "draft_order",
    "field_accuracy",
    "review",
    "turns_from_finals",
]


@dataclass(frozen=True, slots=True)
class DraftContext:
    """What the draft knows beyond the call: the unit directory and the assigned-order history
    (indexed once; build it per directory/history change, not per call)."""

    units: tuple[UnitRef, ...]
    history: HistoryIndex | None = None

    @classmethod
    def build(
        cls, units: Sequence[UnitRef] | None = None, history: Sequence[AssignedOrder] | None = None
    ) -> DraftContext:
        return cls(
            units=tuple(units) if units is not None else default_units(),
            history=HistoryIndex(history) if history else None,
        )


def _fix_asr(tr: Transcript) -> Transcript:
    """Known recognition slips of domain words (工积金 → 公积金); same length, so offsets hold."""
    text = tr.text
    for wrong, right in rules().asr_fixes.items():
        if len(wrong) == len(right):
            text = text.replace(wrong, right)
    return replace(tr, text=text)


def _respan(original: str, spans: tuple[Span, ...]) -> tuple[Span, ...]:
    return tuple(Span(s.start, s.end, original[s.start : s.end]) for s in spans)


def draft_order(
    transcript: str | Sequence[Turn],
    reference: datetime,
    context: DraftContext | None = None,
    draft_id: str = "",
) -> DraftOrder:
    """The draft for one call. ``reference`` is when the call took place (timezone-aware; relative
    dates such as 明天 and 下周一 are resolved against it in Asia/Shanghai)."""
    if reference.tzinfo is None:
        raise ValueError("参考时间须带时区（Asia/Shanghai）")
    ctx = context or DraftContext.build()
    original = assemble(transcript)
    tr = _fix_asr(original)

    topics = score_topics(tr)
    kind = suggest_kind(tr, topics)
    category = suggest_category(tr, kind.value, topics)
    address, place_ranges = extract_address(tr)
    phones = extract_phones(tr)
    dates = extract_dates(tr, reference, place_ranges)
    name = extract_name(tr)
    unit, candidates = suggest_unit(
        tr,
        topics,
        address.value,
        address.sources[0] if address.sources else None,
        UnitContext(ctx.units, ctx.history),
    )
    weights: dict[str, float] = {}
    for t in topics[:2]:
        for word, w in t.topic.keywords:
            weights[word] = max(weights.get(word, 0.0), w)
    for cues in rules().kind_cues.values():
        for word, w in cues:
            weights[word] = max(weights.get(word, 0.0), 0.5 * w)
    anchors = [*address.sources, *(s for d in dates for s in d.sources)]
    contact = [(s.start, s.end) for p in phones for s in p.sources]
    contact += [(s.start, s.end) for s in name.sources if s.text.startswith(("我", "姓", "免贵"))]
    contact += [m.span() for m in NAME_STATEMENT.finditer(tr.text)]
    summary = summarize(tr, weights, anchors, contact)

    def fix(s: Suggestion[Any]) -> tuple[Span, ...]:
        return _respan(original.text, s.sources)

    return DraftOrder(
        text=original.text,
        kind=replace(kind, sources=fix(kind)),
        category=replace(category, sources=fix(category)),
        unit=replace(unit, sources=fix(unit)),
        address=replace(address, sources=fix(address)),
        phones=tuple(replace(p, sources=fix(p)) for p in phones),
        dates=tuple(replace(d, sources=fix(d)) for d in dates),
        name=replace(name, sources=fix(name)),
        summary=replace(summary, sources=fix(summary)),
        topics=tuple(t.topic.label for t in topics),
        unit_candidates=candidates,
        draft_id=draft_id,
    )
