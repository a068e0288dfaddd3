"""Phone numbers as citizens say them: 138 0375 1234, 幺三八零三七五幺二三四, 零三七五杠二六六一二三四.

Digits are read one by one (幺 for 1, 洞 for 0), in groups separated by pauses (spaces, commas,
呃). Groups are joined into numbers that have a valid shape: an 11-digit mobile (1[3-9]…), a fixed
line with its area code (0 + 2–3 digits + 7–8 digits), or a 7–8 digit local number when the words
around it say it is a phone (电话, 座机, 号码).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asr.draft.model import Span, Suggestion
from asr.draft.text import DIGITS, Transcript

_DIGIT = "0-9" + "".join(DIGITS)
_GROUP = re.compile(rf"[{_DIGIT}]+")
_SEPARATOR = re.compile(r"^(?:[\s,，、.。\-—－杠]|呃|嗯|啊|那个|然后是?|是){0,3}$")
_PHONE_WORDS = re.compile(r"电话|号码|座机|手机|联系|打|拨|号是")
_AREA_CODES_3 = ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029")


@dataclass(frozen=True, slots=True)
class _Group:
    digits: str
    start: int
    end: int


def _digits(s: str) -> str:
    return "".join(c if c.isdigit() else str(DIGITS[c]) for c in s)


def _runs(text: str) -> list[list[_Group]]:
    """Digit groups, chained when only a pause separates them."""
    runs: list[list[_Group]] = []
    for m in _GROUP.finditer(text):
        g = _Group(_digits(m.group()), m.start(), m.end())
        if runs and _SEPARATOR.match(text[runs[-1][-1].end : g.start]):
            runs[-1].append(g)
        else:
            runs.append([g])
    return runs


def _shape(number: str, phone_context: bool) -> str | None:
    if len(number) == 11 and number[0] == "1" and number[1] in "3456789":
        return "mobile"
    if number.startswith("0") and 10 <= len(number) <= 12:
        return "fixed"
    if phone_context and 7 <= len(number) <= 8 and number[0] not in "01":
        return "local"
    if number in ("12345", "110", "119", "120", "122", "12315", "12333", "12329"):
        return None
    return None


def _format(number: str, shape: str) -> str:
    if shape == "fixed":
        cut = 3 if number[:3] in _AREA_CODES_3 else 4
        return f"{number[:cut]}-{number[cut:]}"
    return number


def _boundary(text: str, digits: list[tuple[str, int, int]], e: int) -> bool:
    """May a number end before digit ``e``? At a pause, where spoken and written digits meet, or
    where only a word starting with a numeral follows (…1234一直打不通)."""
    if e >= len(digits) or digits[e][2] != digits[e - 1][2]:
        return True
    here, there = text[digits[e - 1][1]], text[digits[e][1]]
    if here.isdigit() != there.isdigit():
        return True
    rest = [d for d in digits[e:] if d[2] == digits[e][2]]
    return len(rest) <= 2 and not there.isdigit()


def _lengths(first: str, phone_context: bool) -> tuple[int, ...]:
    if first == "1":
        return (11,)
    if first == "0":
        return (12, 11, 10)
    return (8, 7) if phone_context else ()


def extract_phones(tr: Transcript) -> tuple[Suggestion[str], ...]:
    text = tr.text
    found: dict[str, Suggestion[str]] = {}
    for run in _runs(text):
        digits = [(d, g.start + k, gi) for gi, g in enumerate(run) for k, d in enumerate(g.digits)]
        i = 0
        matched_to = 0  # digits before this were all part of numbers (a local number needs that)
        while i < len(digits):
            if (
                i > 0
                and digits[i][2] == digits[i - 1][2]
                and text[digits[i][1]].isdigit() == text[digits[i - 1][1]].isdigit()
            ):
                i += 1
                continue
            before = text[max(0, digits[i][1] - 12) : digits[i][1]]
            context = bool(_PHONE_WORDS.search(before)) or len(run) > 1
            for n in _lengths(digits[i][0], context):
                e = i + n
                if e > len(digits) or not _boundary(text, digits, e):
                    continue
                number = "".join(d for d, _, _ in digits[i:e])
                shape = _shape(number, context)
                if shape is None or (shape == "local" and i != matched_to):
                    continue
                a, b = digits[i][1], digits[e - 1][1] + 1
                spoken = any(not c.isdigit() for c in text[a:b] if c in DIGITS)
                confidence = {"mobile": 0.95, "fixed": 0.9, "local": 0.75}[shape] - (0.05 if spoken else 0)
                if tr.speaker_at(a).value == "agent":
                    confidence -= 0.05
                value = _format(number, shape)
                if value not in found:
                    found[value] = Suggestion(value, round(confidence, 2), (Span(a, b, text[a:b]),))
                i = e - 1
                matched_to = e
                break
            i += 1
    return tuple(found.values())
