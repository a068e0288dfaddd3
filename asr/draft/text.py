"""The transcript as one string with speaker turns, and Chinese numerals read as digits.

Vosk's Mandarin models put spaces between words (``你好 这里 是``); spaces between two CJK
characters are dropped. Every offset the draft reports indexes :attr:`Transcript.text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asr.draft.model import Speaker, Turn
from asr.transcript import Final

AGENT_MARKERS = ("坐席", "话务员", "受理员", "客服", "接线员", "12345", "agent")
CITIZEN_MARKERS = ("市民", "来电人", "来电者", "群众", "诉求人", "citizen", "用户")
_MARKER = re.compile(
    r"(?:^|\n)\s*(" + "|".join(re.escape(m) for m in AGENT_MARKERS + CITIZEN_MARKERS) + r")\s*[:：]"
)
_CJK = "\u3400-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}，。？！、])\s+(?=[{_CJK}，。？！、])")

DIGITS = {
    "零": 0, "〇": 0, "洞": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_NUMERAL_CHARS = "零〇一二两三四五六七八九十百"
NUMERAL_RUN = re.compile(rf"[{_NUMERAL_CHARS}]+")


def clean(text: str) -> str:
    text = text.replace("\u3000", " ").replace("\r", "")
    return _SPACE_BETWEEN_CJK.sub("", text.strip())


@dataclass(frozen=True, slots=True)
class Transcript:
    """The whole call as text, and which character ranges each side spoke."""

    text: str
    turns: tuple[tuple[Speaker, int, int], ...]

    def ranges(self, *speakers: Speaker) -> list[tuple[int, int]]:
        return [(a, b) for s, a, b in self.turns if s in speakers]

    @property
    def has_speakers(self) -> bool:
        return any(s is not Speaker.UNKNOWN for s, _, _ in self.turns)

    def citizen_ranges(self) -> list[tuple[int, int]]:
        """The citizen's turns; the whole text when the sides are not told apart."""
        found = self.ranges(Speaker.CITIZEN, Speaker.UNKNOWN)
        return found or [(0, len(self.text))]

    def speaker_at(self, pos: int) -> Speaker:
        for s, a, b in self.turns:
            if a <= pos < b:
                return s
        return Speaker.UNKNOWN


def _speaker_of(marker: str) -> Speaker:
    return Speaker.AGENT if marker in AGENT_MARKERS else Speaker.CITIZEN


def split_marked(text: str) -> list[Turn]:
    """Plain text with ``坐席：`` / ``市民：`` markers becomes turns; without markers, one unknown turn."""
    marks = list(_MARKER.finditer(text))
    if not marks:
        return [Turn(Speaker.UNKNOWN, text)]
    turns: list[Turn] = []
    if text[: marks[0].start()].strip():
        turns.append(Turn(Speaker.UNKNOWN, text[: marks[0].start()]))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        turns.append(Turn(_speaker_of(m.group(1)), text[m.end() : end]))
    return turns


def turns_from_finals(legs: Iterable[tuple[Speaker, Final]]) -> list[Turn]:
    """Recognized utterances of the two call legs, ordered by their start time, as turns."""
    ordered = sorted(legs, key=lambda leg: leg[1].start if leg[1].start is not None else 0.0)
    return [Turn(speaker, final.text) for speaker, final in ordered]


def assemble(source: str | Sequence[Turn]) -> Transcript:
    turns = split_marked(source) if isinstance(source, str) else list(source)
    parts: list[str] = []
    spans: list[tuple[Speaker, int, int]] = []
    pos = 0
    for turn in turns:
        body = clean(turn.text)
        if not body:
            continue
        if parts:
            parts.append("\n")
            pos += 1
        parts.append(body)
        spans.append((turn.speaker, pos, pos + len(body)))
        pos += len(body)
    return Transcript("".join(parts), tuple(spans))


def cn_int(s: str) -> int | None:
    """十二 → 12, 二十三 → 23, 一百零五 → 105, 三五 → 35 (digit by digit), 12 → 12."""
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if all(c in DIGITS for c in s):
        return int("".join(str(DIGITS[c]) for c in s))
    total, current = 0, 0
    for c in s:
        if c in DIGITS:
            current = DIGITS[c]
        elif c == "十":
            total += (current or 1) * 10
            current = 0
        elif c == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


@dataclass(frozen=True, slots=True)
class Mapped:
    """A rewritten copy of a text with, for each of its characters, the index it came from."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1


_NUMBERED_UNIT = "号楼栋幢单元层室月日点分年天排户组院周期座"


def numerals_to_digits(text: str, protected: Sequence[tuple[int, int]] = ()) -> Mapped:
    """Chinese numerals that count something (三号楼, 十二月, 下午两点, 二零二六年) become digits;
    numerals inside ``protected`` ranges (place names such as 五一路) and those not followed by a
    counted unit stay as they are."""
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in NUMERAL_RUN.finditer(text):
        a, b = m.span()
        nxt = text[b : b + 1]
        inside = any(pa <= a < pb for pa, pb in protected)
        value = None if inside or not nxt or nxt not in _NUMBERED_UNIT else cn_int(m.group())
        if value is None:
            continue
        out.append(text[pos:a])
        origin.extend(range(pos, a))
        digits = str(value)
        if all(c in DIGITS for c in m.group()) and len(m.group()) > 1 and nxt == "年":
            digits = "".join(str(DIGITS[c]) for c in m.group())
        out.append(digits)
        origin.extend(a + min(i, b - a - 1) for i in range(len(digits)))
        pos = b
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    return Mapped("".join(out), tuple(origin))


def in_ranges(pos: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in ranges)
