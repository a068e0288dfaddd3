"""A one-paragraph summary (诉求内容): the citizen's key sentences, fillers removed, in call order.

Sentences are cut at punctuation, or — for unpunctuated ASR text — at pauses the recognizer left
and every ~30 characters at a word boundary. A sentence scores by the topic and kind cue words and
the places, phones and dates it holds; greetings and small talk score nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from asr.draft.model import Span, Suggestion
from asr.draft.resources import rules
from asr.draft.segment import tokenizer
from asr.draft.text import Transcript

_CUT = re.compile(r"[。！？!?；;\n]|[，,](?=.{12,})")
_MAX_CHARS = 160
_SOFT_LEN = 30


def _sentences(text: str, a: int, b: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = a
    for m in re.finditer(r"[。！？!?；;\n，,、]", text[a:b]):
        end = a + m.start()
        if end > start:
            out.append((start, end))
        start = a + m.end()
    if start < b:
        out.append((start, b))
    # long unpunctuated stretches: cut at word boundaries
    final: list[tuple[int, int]] = []
    for x, y in out:
        if y - x <= _SOFT_LEN * 2:
            final.append((x, y))
            continue
        pos, cur = x, x
        for w in tokenizer().lcut(text[x:y]):
            pos += len(w)
            if pos - cur >= _SOFT_LEN:
                final.append((cur, pos))
                cur = pos
        if cur < y:
            final.append((cur, y))
    return final


_GREETING = re.compile(r"^(?:(?:喂|你好|您好|哎|嗯|啊|呃)[，,\s]*)+")


def strip_fillers(s: str) -> str:
    r = rules()
    for f in r.fillers:
        s = s.replace(f, "")
    s = _GREETING.sub("", s)
    return re.sub(r"\s+", "", s).strip("，,、。 ")


_CONTACT_LEAD = re.compile(r"(?:我的|我)?(?:联系)?(?:电话|手机|号码)(?:号码|号)?(?:是|就是)?[，,：:\s]*$")


def _without(text: str, x: int, y: int, exclude: Sequence[tuple[int, int]]) -> str:
    """``text[x:y]`` without the excluded ranges (phone numbers, the name) and the words that
    introduce them (电话是 …)."""
    out = ""
    pos = x
    for a, b in sorted(exclude):
        if b <= x or a >= y:
            continue
        out += text[pos:a]
        out = _CONTACT_LEAD.sub("", out)
        pos = max(pos, b)
    return out + text[pos:y]


def summarize(
    tr: Transcript,
    weights: dict[str, float],
    anchors: Sequence[Span],
    exclude: Sequence[tuple[int, int]] = (),
) -> Suggestion[str]:
    r = rules()
    text = tr.text
    sentences: list[tuple[float, int, int, str]] = []
    for a, b in tr.citizen_ranges():
        for x, y in _sentences(text, a, b):
            clean = strip_fillers(_without(text, x, y, exclude))
            if len(clean) < 3 or clean in r.smalltalk:
                continue
            score = sum(w for word, w in weights.items() if word in clean)
            score += sum(1.5 for s in anchors if x <= s.start < y)
            if re.search(r"^(?:喂|你好|您好)", clean) and score == 0:
                continue
            sentences.append((score, x, y, clean))
    if not sentences:
        return Suggestion("", 0.2)
    ranked = sorted(sentences, key=lambda s: (-s[0], s[1]))
    chosen: list[tuple[float, int, int, str]] = []
    length = 0
    for s in ranked:
        if s[0] <= 0 and chosen:
            break
        if length + len(s[3]) > _MAX_CHARS and chosen:
            continue
        chosen.append(s)
        length += len(s[3])
    chosen.sort(key=lambda s: s[1])
    body = ""
    for i, s in enumerate(chosen):
        joined = i > 0 and chosen[i - 1][2] == s[1]  # a long stretch cut in pieces: no comma
        body += ("" if i == 0 or joined else "，") + s[3]
    body = body.rstrip("，") + "。"
    confidence = 0.5 if len(chosen) > 1 else 0.4
    return Suggestion(body, confidence, tuple(Span(s[1], s[2], text[s[1] : s[2]]) for s in chosen))
