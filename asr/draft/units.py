"""The unit most likely responsible (承办单位), from three kinds of evidence:

- the topic: each topic names the department that usually handles it; a local (属地) topic goes
  to the district when the address or the words name one (directly or through a street of it);
- mentions: the citizen names a unit (城管也不管, 找过人社局);
- history: orders assigned before whose content is like this one (BM25 over jieba tokens), each
  voting for its unit with its similarity.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from asr.draft.classify import TopicScore
from asr.draft.model import AssignedOrder, Span, Suggestion, UnitCandidate, UnitRef
from asr.draft.segment import tokens
from asr.draft.text import Transcript

W_TOPIC = 1.0
W_LOCAL = 1.0
W_MENTION = 0.6
W_HISTORY = 1.4


@lru_cache(maxsize=8192)
def _content_tokens(content: str) -> tuple[str, ...]:
    return tuple(tokens(content))


class HistoryIndex:
    """A small BM25 index over the content of assigned orders (k1=1.5, b=0.75)."""

    def __init__(self, history: Sequence[AssignedOrder], k1: float = 1.5, b: float = 0.75) -> None:
        self.units = [h.unit_id for h in history]
        self.docs = [Counter(_content_tokens(h.content)) for h in history]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / len(self.lengths) if self.lengths else 1.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(self.docs):
            for w in d:
                self.postings[w].append(i)
        self.k1, self.b = k1, b

    def search(self, query_tokens: Sequence[str], limit: int = 10) -> list[tuple[int, float]]:
        scores: dict[int, float] = defaultdict(float)
        for w in set(query_tokens):
            idf = self.idf.get(w)
            if idf is None:
                continue
            for i in self.postings[w]:
                tf = self.docs[i][w]
                norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                scores[i] += idf * tf * (self.k1 + 1) / norm
        return sorted(scores.items(), key=lambda kv: -kv[1])[:limit]

    def vote(self, query_tokens: Sequence[str], limit: int = 10) -> dict[str, float]:
        """Each unit's share of the similarity of the nearest orders, times the strength of the
        nearest match: full once the match is worth one informative word (a BM25 score of
        ``k1 + 1``, a word with idf 1 that about a third of the orders share), less below.
        History made of near-copies shares only words every order has (idf near 0), so it
        cannot outvote the request's topic."""
        hits = self.search(query_tokens, limit)
        if not hits:
            return {}
        top = hits[0][1]
        votes: dict[str, float] = defaultdict(float)
        for i, s in hits:
            if s >= 0.35 * top:
                votes[self.units[i]] += s
        total = sum(votes.values())
        strength = min(1.0, top / (self.k1 + 1))
        return {u: strength * v / total for u, v in votes.items()}


def resolve(directory: Sequence[UnitRef], name: str) -> UnitRef | None:
    """The unit one of whose names is ``name`` (or contains it)."""
    for unit in directory:
        if name in unit.names:
            return unit
    for unit in directory:
        if any(name in n for n in unit.names):
            return unit
    return None


def _district(directory: Sequence[UnitRef], text: str) -> tuple[UnitRef, int, int] | None:
    best: tuple[UnitRef, int, int] | None = None
    for unit in directory:
        if not unit.is_district:
            continue
        for n in (*unit.names, *unit.areas):
            pos = text.find(n)
            if pos != -1 and (best is None or pos < best[1]):
                best = (unit, pos, pos + len(n))
    return best


@dataclass(frozen=True, slots=True)
class UnitContext:
    directory: tuple[UnitRef, ...]
    history: HistoryIndex | None


def suggest_unit(
    tr: Transcript,
    topics: Sequence[TopicScore],
    address: str | None,
    address_span: Span | None,
    ctx: UnitContext,
) -> tuple[Suggestion[str | None], tuple[UnitCandidate, ...]]:
    text = tr.text
    scores: dict[str, float] = defaultdict(float)
    reasons: dict[str, list[str]] = defaultdict(list)
    sources: dict[str, list[Span]] = defaultdict(list)
    by_id = {u.unit_id: u for u in ctx.directory}

    # where: the district of the address, else the first district the citizen names
    district = None
    if address:
        found = _district(ctx.directory, address)
        if found and address_span is not None:
            unit, a, b = found
            district = (unit, Span(address_span.start + a, address_span.start + b, address[a:b]))
    if district is None:
        for a, b in tr.citizen_ranges():
            found = _district(ctx.directory, text[a:b])
            if found:
                unit, x, y = found
                district = (unit, Span(a + x, a + y, text[a + x : a + y]))
                break

    total = sum(t.score for t in topics) or 1.0
    for t in topics[:3]:
        share = t.score / total * min(1.0, t.score / 3)
        owner = resolve(ctx.directory, t.topic.unit)
        if t.topic.local and district is not None:
            unit, span = district
            scores[unit.unit_id] += W_LOCAL * share
            reasons[unit.unit_id].append(f"属地:{t.topic.label}")
            sources[unit.unit_id].append(span)
        elif owner is not None:
            scores[owner.unit_id] += W_TOPIC * share
            reasons[owner.unit_id].append(f"主题:{t.topic.label}")
            hit = max(t.hits, key=lambda h: h.weight)
            sources[owner.unit_id].append(Span(hit.start, hit.start + len(hit.word), hit.word))

    for a, b in tr.citizen_ranges():
        for unit in ctx.directory:
            if unit.is_district:
                continue
            for n in sorted(unit.names, key=len, reverse=True):
                pos = text.find(n, a, b)
                if pos != -1 and len(n) >= 2:
                    scores[unit.unit_id] += W_MENTION
                    reasons[unit.unit_id].append(f"提及:{n}")
                    sources[unit.unit_id].append(Span(pos, pos + len(n), n))
                    break

    if ctx.history is not None:
        citizen_text = "".join(text[a:b] for a, b in tr.citizen_ranges())
        for unit_id, share in ctx.history.vote(tokens(citizen_text)).items():
            scores[unit_id] += W_HISTORY * share
            reasons[unit_id].append(f"历史:{share:.2f}")

    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    candidates = tuple(
        UnitCandidate(u, by_id[u].name if u in by_id else u, round(s, 3), tuple(reasons[u]))
        for u, s in ranked[:5]
    )
    if not ranked:
        return Suggestion(None, 0.2), candidates
    best, s1 = ranked[0]
    s2 = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = 0.35 + 0.6 * (s1 - s2) / (s1 + 0.5)
    return Suggestion(best, round(min(0.95, confidence), 2), tuple(sources[best][:3])), candidates
