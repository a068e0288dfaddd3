"""Kind (诉求类型) and category (Art. 8 class) suggestions from the citizen's words.

Cue words carry weights (``draft_rules.json``); a topic (供暖, 占道经营 …) contributes its usual
kind as a prior. The category follows Art. 8: D when the words say life or property is in danger;
A for consultations; a suggestion is C when it asks for planning or construction, else B;
otherwise the topic's usual class (noise A, street vending B, illegal building C …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asr.draft.model import Span, Suggestion
from asr.draft.resources import Topic, Weighted, rules
from asr.draft.text import Transcript
from workorders.enums import Category, RequestKind

_KIND_PRIOR = 1.2


@dataclass(frozen=True, slots=True)
class Hit:
    word: str
    weight: float
    start: int


@dataclass(frozen=True, slots=True)
class TopicScore:
    topic: Topic
    score: float
    hits: tuple[Hit, ...]


def find(text: str, ranges: Sequence[tuple[int, int]], cues: Weighted) -> list[Hit]:
    """Every occurrence of the cue words inside ``ranges``; a longer cue hides the shorter ones it
    overlaps (想问问 counts 想问 once, not 问问 as well)."""
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for word, weight in sorted(cues, key=lambda c: -len(c[0])):
        for a, b in ranges:
            pos = text.find(word, a, b)
            while pos != -1:
                end = pos + len(word)
                if not any(x < end and pos < y for x, y in taken):
                    hits.append(Hit(word, weight, pos))
                    taken.append((pos, end))
                pos = text.find(word, end, b)
    return hits


def _spans(text: str, hits: Sequence[Hit], limit: int = 4) -> tuple[Span, ...]:
    best = sorted(hits, key=lambda h: -h.weight)[:limit]
    return tuple(Span(h.start, h.start + len(h.word), h.word) for h in sorted(best, key=lambda h: h.start))


def score_topics(tr: Transcript) -> list[TopicScore]:
    ranges = tr.citizen_ranges()
    scored = []
    for topic in rules().topics:
        hits = find(tr.text, ranges, topic.keywords)
        if hits:
            # diminishing returns on repeats of one word
            seen: dict[str, int] = {}
            total = 0.0
            for h in hits:
                seen[h.word] = seen.get(h.word, 0) + 1
                total += h.weight / seen[h.word]
            scored.append(TopicScore(topic, total, tuple(hits)))
    return sorted(scored, key=lambda s: -s.score)


def suggest_kind(tr: Transcript, topics: Sequence[TopicScore]) -> Suggestion[RequestKind]:
    ranges = tr.citizen_ranges()
    scores = {k: 0.0 for k in RequestKind}
    evidence: dict[RequestKind, list[Hit]] = {k: [] for k in RequestKind}
    for name, cues in rules().kind_cues.items():
        kind = RequestKind(name)
        hits = find(tr.text, ranges, cues)
        evidence[kind] = hits
        scores[kind] = sum(h.weight for h in hits)
    if topics:
        top = topics[0]
        scores[RequestKind(top.topic.kind)] += _KIND_PRIOR * min(1.0, top.score / 4)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, s1), (_, s2) = ranked[0], ranked[1]
    if s1 <= 0:
        return Suggestion(RequestKind.COMPLAINT, 0.3)
    confidence = 0.4 + 0.55 * (s1 - s2) / (s1 + 1.0)
    return Suggestion(best, round(min(0.95, confidence), 2), _spans(tr.text, evidence[best]))


def suggest_category(tr: Transcript, kind: RequestKind, topics: Sequence[TopicScore]) -> Suggestion[Category]:
    r = rules()
    ranges = tr.citizen_ranges()
    danger = find(tr.text, ranges, r.danger_cues)
    danger_score = sum(h.weight for h in danger)
    if danger_score >= 1.0:
        return Suggestion(Category.D, round(min(0.9, 0.5 + 0.15 * danger_score), 2), _spans(tr.text, danger))
    if kind is RequestKind.CONSULTATION:
        return Suggestion(Category.A, 0.75)
    if kind is RequestKind.SUGGESTION:
        planning = find(tr.text, ranges, r.planning_cues)
        if planning or (topics and topics[0].topic.category == "C"):
            return Suggestion(Category.C, 0.6, _spans(tr.text, planning))
        return Suggestion(Category.B, 0.55)
    if not topics:
        return Suggestion(Category.B, 0.35)
    top = topics[0]
    return Suggestion(Category(top.topic.category), 0.6, _spans(tr.text, top.hits, 2))
