"""Highlighted, HTML-escaped snippets: ``<em>…</em>`` around the words a query matched."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache

from knowledge_base.analysis import normalize

_SENTENCE_END = "。！？；;!?\n"


@lru_cache(maxsize=4096)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def _match_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans of ``terms`` in ``text`` (longest term first at each position)."""
    words = tuple(sorted({t for t in terms if t}))
    if not words or not text:
        return []
    haystack = normalize(text)
    if len(haystack) != len(text):  # NFKC changed the length: match the original, case-folded
        haystack = text.lower()
    return [(m.start(), m.end()) for m in _pattern(words).finditer(haystack)]


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<em>{html.escape(text[s:e])}</em>")
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def highlight(text: str, terms: Iterable[str]) -> str:
    """The whole of ``text``, escaped, with every matched term wrapped in ``<em>``."""
    return _render(text, _match_spans(text, terms), 0, len(text))


def snippet(text: str, terms: Iterable[str], length: int = 90) -> str:
    """The ``length``-character window of ``text`` holding the most distinct matched terms (ties: the
    most matches, then the earliest), started at a sentence boundary when one is near, escaped and
    highlighted; ``…`` marks cut ends."""
    text = " ".join(text.split()) if "\n" in text else text
    spans = _match_spans(text, terms)
    if len(text) <= length:
        return _render(text, spans, 0, len(text))
    best_start, best_key = 0, (-1, -1, 0)
    for i, (s, _) in enumerate(spans):
        start = max(0, s - 12)
        boundary = max(text.rfind(ch, max(0, s - 30), s) for ch in _SENTENCE_END)
        if boundary >= 0:
            start = boundary + 1
        start = min(start, max(0, len(text) - length))
        inside = [text[a:b].lower() for a, b in spans[i:] if a >= start and b <= start + length]
        key = (len(set(inside)), len(inside), -start)
        if key > best_key:
            best_start, best_key = start, key
        if i >= 40:  # enough candidate windows for any article of knowledge-base length
            break
    end = min(len(text), best_start + length)
    body = _render(text, spans, best_start, end).strip()
    return ("…" if best_start > 0 else "") + body + ("…" if end < len(text) else "")
