"""What recognition produces: partial hypotheses and final segments with word timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Word:
    """One recognized word; times in seconds from the start of the stream."""

    text: str
    start: float
    end: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.text, "start": self.start, "end": self.end, "conf": self.confidence}

    @classmethod
    def from_vosk(cls, item: dict[str, Any]) -> Word:
        return cls(
            text=str(item["word"]),
            start=float(item["start"]),
            end=float(item["end"]),
            confidence=float(item.get("conf", 1.0)),
        )


@dataclass(frozen=True, slots=True)
class Partial:
    """The recognizer's current guess for the utterance in progress (changes as audio arrives)."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "partial", "text": self.text}


@dataclass(frozen=True, slots=True)
class Final:
    """A finished utterance (the recognizer found an end point, or the stream ended)."""

    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)

    @property
    def start(self) -> float | None:
        return self.words[0].start if self.words else None

    @property
    def end(self) -> float | None:
        return self.words[-1].end if self.words else None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "final", "text": self.text, "words": [w.to_dict() for w in self.words]}

    @classmethod
    def from_vosk(cls, result: dict[str, Any]) -> Final:
        words = tuple(Word.from_vosk(item) for item in result.get("result", []))
        return cls(text=str(result.get("text", "")), words=words)


Event = Partial | Final


def event_from_dict(data: dict[str, Any]) -> Event:
    if data["type"] == "partial":
        return Partial(text=str(data["text"]))
    return Final.from_vosk({"text": data["text"], "result": data["words"]})
