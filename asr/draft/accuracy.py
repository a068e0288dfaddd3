"""The agent's verdict on each field (accept or correct), and per-field accuracy over many drafts.

Corrections are the measurement: a field is right when the agent accepted it unchanged. They are
plain records (JSON-ready) so that they can be kept with the order and replayed to tune the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asr.draft.model import FIELDS, DraftOrder, FieldValue

LABELLED_FIELDS: tuple[str, ...] = ("kind", "category", "unit", "address", "phones", "dates", "name")


@dataclass(frozen=True, slots=True)
class Correction:
    """The agent's decision on one field of one draft: accepted as suggested, or corrected to
    ``corrected``. ``suggested`` keeps what the draft said, so the record stands on its own."""

    draft_id: str
    field: str
    accepted: bool
    suggested: FieldValue
    corrected: FieldValue = None
    confidence: float = 0.0

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"未知字段：{self.field}")

    @property
    def final(self) -> FieldValue:
        return self.suggested if self.accepted else self.corrected

    def to_dict(self) -> dict[str, Any]:
        def plain(v: FieldValue) -> Any:
            return list(v) if isinstance(v, tuple) else v

        return {
            "draft_id": self.draft_id,
            "field": self.field,
            "accepted": self.accepted,
            "suggested": plain(self.suggested),
            "corrected": plain(self.corrected),
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        def value(v: Any) -> FieldValue:
            return tuple(str(x) for x in v) if isinstance(v, list) else (None if v is None else str(v))

        return cls(
            draft_id=str(data["draft_id"]),
            field=str(data["field"]),
            accepted=bool(data["accepted"]),
            suggested=value(data.get("suggested")),
            corrected=value(data.get("corrected")),
            confidence=float(data.get("confidence", 0.0)),
        )


def normalize(field: str, value: FieldValue) -> FieldValue:
    """The comparable form of a value: order-free for lists, punctuation and blanks dropped."""
    if isinstance(value, tuple):
        items = {_clean(v) for v in value}
        return tuple(sorted(v for v in items if v))
    if value is None:
        return None
    return _clean(value) or None


def _clean(value: str) -> str:
    return "".join(ch for ch in value if ch not in " \t，,。.、")


def review(draft: DraftOrder, truth: dict[str, FieldValue]) -> list[Correction]:
    """What an agent who knows the true values records for the draft's fields named in ``truth``."""
    out = []
    for field, true_value in truth.items():
        suggested = draft.value_of(field)
        same = normalize(field, suggested) == normalize(field, true_value)
        out.append(
            Correction(
                draft_id=draft.draft_id,
                field=field,
                accepted=same,
                suggested=suggested,
                corrected=None if same else true_value,
                confidence=draft.confidence_of(field),
            )
        )
    return out


def field_accuracy(drafts: Sequence[DraftOrder], corrections: Iterable[Correction]) -> dict[str, float]:
    """Per field, the share of reviewed drafts whose suggestion the agent accepted; ``mean`` is the
    mean over the fields reviewed. Corrections for drafts not in ``drafts`` are ignored; when a
    field of a draft has several corrections, the last one counts."""
    ids = {d.draft_id for d in drafts}
    last: dict[tuple[str, str], bool] = {}
    for c in corrections:
        if c.draft_id in ids:
            last[(c.draft_id, c.field)] = c.accepted
    per_field: dict[str, list[bool]] = {}
    for (_, field), accepted in last.items():
        per_field.setdefault(field, []).append(accepted)
    result = {f: sum(v) / len(v) for f, v in sorted(per_field.items(), key=lambda kv: FIELDS.index(kv[0]))}
    if result:
        result["mean"] = sum(result.values()) / len(result)
    return result


def calibration(corrections: Iterable[Correction], bins: int = 5) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) per confidence bin: does a 0.9 mean right 9 times in 10?"""
    buckets: list[list[Correction]] = [[] for _ in range(bins)]
    for c in corrections:
        buckets[min(bins - 1, int(c.confidence * bins))].append(c)
    return [
        (sum(c.confidence for c in b) / len(b), sum(c.accepted for c in b) / len(b), len(b))
        for b in buckets
        if b
    ]
