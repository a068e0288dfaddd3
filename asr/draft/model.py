"""The draft work order's value types: what the agent sees next to each field, and the context a
draft is made in (the unit directory and the history of assigned orders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, Literal, TypeVar

from workorders.enums import Category, RequestKind

T = TypeVar("T")

Granularity = Literal["month", "day", "minute"]


class Speaker(StrEnum):
    """Who spoke a turn: the intake agent (受理人) or the citizen (诉求人)."""

    AGENT = "agent"
    CITIZEN = "citizen"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Turn:
    """One stretch of speech by one side of the call (a Vosk ``Final`` of one leg, or typed text)."""

    speaker: Speaker
    text: str


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``[start, end)`` of :attr:`DraftOrder.text` that a value came from."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Suggestion(Generic[T]):
    """One suggested value with the confidence (0..1) and the words it came from."""

    value: T
    confidence: float
    sources: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A network unit (网络单位) the draft may suggest: id, official name, the names citizens use, and
    for a district the places (streets, towns) in its area, so that an address points to it."""

    unit_id: str
    name: str
    aliases: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    is_district: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class AssignedOrder:
    """A past order and the unit it was assigned to (the history the unit suggestion learns from)."""

    content: str
    unit_id: str


@dataclass(frozen=True, slots=True)
class TimeMention:
    """A date or time the citizen named, resolved against the call's reference time (Asia/Shanghai)."""

    start: datetime
    granularity: Granularity

    @property
    def label(self) -> str:
        if self.granularity == "month":
            return self.start.strftime("%Y-%m")
        if self.granularity == "day":
            return self.start.strftime("%Y-%m-%d")
        return self.start.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True, slots=True)
class UnitCandidate:
    """One ranked unit with its score and the evidence for it (mention, topic, history)."""

    unit_id: str
    name: str
    score: float
    reasons: tuple[str, ...] = ()


FieldValue = str | tuple[str, ...] | None

FIELDS: tuple[str, ...] = ("kind", "category", "unit", "address", "phones", "dates", "name", "summary")


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """工单草稿 — what the agent checks instead of typing. Spans index into :attr:`text`."""

    text: str
    kind: Suggestion[RequestKind]
    category: Suggestion[Category]
    unit: Suggestion[str | None]
    address: Suggestion[str | None]
    phones: tuple[Suggestion[str], ...]
    dates: tuple[Suggestion[TimeMention], ...]
    name: Suggestion[str | None]
    summary: Suggestion[str]
    topics: tuple[str, ...] = ()
    unit_candidates: tuple[UnitCandidate, ...] = field(default_factory=tuple)
    draft_id: str = ""

    def value_of(self, name: str) -> FieldValue:
        """The field's value in the form a correction records (strings, tuples of strings)."""
        if name == "kind":
            return self.kind.value.value
        if name == "category":
            return self.category.value.value
        if name == "unit":
            return self.unit.value
        if name == "address":
            return self.address.value
        if name == "phones":
            return tuple(sorted(p.value for p in self.phones))
        if name == "dates":
            return tuple(sorted(d.value.label for d in self.dates))
        if name == "name":
            return self.name.value
        if name == "summary":
            return self.summary.value
        raise KeyError(name)

    def confidence_of(self, name: str) -> float:
        if name == "phones":
            return min((p.confidence for p in self.phones), default=0.9)
        if name == "dates":
            return min((d.confidence for d in self.dates), default=0.8)
        suggestion: Suggestion[object] = getattr(self, name)
        return suggestion.confidence
