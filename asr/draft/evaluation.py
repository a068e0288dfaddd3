"""Field accuracy of drafts on a labelled set of call transcripts (JSON lines), as the agent's
corrections would measure it: each labelled field is accepted when the draft got it right.

A record: ``{"id", "reference": ISO time with offset, "turns": [[speaker, text], …] | "text",
"labels": {"kind", "category", "unit", "address", "phones": [...], "dates": [...], "name"}}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asr.draft import DraftContext, draft_order
from asr.draft.accuracy import LABELLED_FIELDS, Correction, field_accuracy, review
from asr.draft.model import AssignedOrder, DraftOrder, FieldValue, Speaker, Turn, UnitRef


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    split: str
    reference: datetime
    source: str | tuple[Turn, ...]
    truth: dict[str, FieldValue]

    @property
    def citizen_text(self) -> str:
        if isinstance(self.source, str):
            return self.source
        return "".join(t.text for t in self.source if t.speaker is Speaker.CITIZEN)


def _value(v: Any) -> FieldValue:
    if isinstance(v, list):
        return tuple(str(x) for x in v)
    return None if v is None else str(v)


def parse(record: dict[str, Any]) -> Labelled:
    source: str | tuple[Turn, ...]
    if "text" in record:
        source = str(record["text"])
    else:
        source = tuple(Turn(Speaker(s), str(t)) for s, t in record["turns"])
    return Labelled(
        id=str(record["id"]),
        split=str(record.get("split", "")),
        reference=datetime.fromisoformat(record["reference"]),
        source=source,
        truth={f: _value(record["labels"][f]) for f in LABELLED_FIELDS},
    )


def load(path: Path) -> list[Labelled]:
    return [parse(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True, slots=True)
class Evaluation:
    drafts: tuple[DraftOrder, ...]
    corrections: tuple[Correction, ...]

    @property
    def accuracy(self) -> dict[str, float]:
        return field_accuracy(self.drafts, self.corrections)

    def errors(self) -> list[Correction]:
        return [c for c in self.corrections if not c.accepted]


def evaluate(
    records: Sequence[Labelled], units: Sequence[UnitRef] | None = None, with_history: bool = False
) -> Evaluation:
    """Draft every record and review it against its labels. ``with_history``: leave-one-out — the
    other records, with their labelled units, are the history of assigned orders."""
    plain = DraftContext.build(units)
    drafts: list[DraftOrder] = []
    corrections: list[Correction] = []
    for r in records:
        ctx = plain
        if with_history:
            history = [
                AssignedOrder(o.citizen_text, str(o.truth["unit"]))
                for o in records
                if o.id != r.id and o.truth["unit"]
            ]
            ctx = DraftContext.build(units, history)
        draft = draft_order(r.source, r.reference, ctx, draft_id=r.id)
        drafts.append(draft)
        corrections.extend(review(draft, r.truth))
    return Evaluation(tuple(drafts), tuple(corrections))
