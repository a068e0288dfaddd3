"""The citizen's name (诉求人称呼): 我姓王 (三横王), 我叫张建国, and how the agent addresses them
(好的王女士) for the courtesy title. A full name wins; otherwise surname + 先生/女士 when the title
is said, else the surname alone."""

from __future__ import annotations

import re

from asr.draft.model import Span, Speaker, Suggestion
from asr.draft.resources import rules
from asr.draft.text import Transcript

_ANONYMOUS = re.compile(r"匿名|不留名|不方便留|不想留|不用留|就不说了")
_PLACE_TAIL = re.compile(r"[区路街村镇院园楼市县厂号]$")
_SPELLED = r"(?:弓长|立早|木子|耳东|口天|双木|古月|言午|草头|三横|双口)"
# 我姓张，弓长张 / 姓柏，柏树的柏: the whole statement, which the summary leaves out
NAME_STATEMENT = re.compile(
    rf"(?:我|俺)?(?:免贵)?姓[\u4e00-\u9fff](?:[，,]?[\u4e00-\u9fff]{{1,4}}的[\u4e00-\u9fff]|[，,]?{_SPELLED}[\u4e00-\u9fff])?"
)


def _surname_at(text: str, pos: int) -> str | None:
    r = rules()
    for compound in r.compound_surnames:
        if text.startswith(compound, pos):
            return compound
    ch = text[pos : pos + 1]
    return ch if ch in r.surnames else None


def extract_name(tr: Transcript) -> Suggestion[str | None]:
    r = rules()
    text = tr.text
    citizen = tr.ranges(Speaker.CITIZEN, Speaker.UNKNOWN) or [(0, len(text))]
    surname: tuple[str, Span] | None = None
    full: tuple[str, Span] | None = None
    anonymous = False
    for a, b in citizen:
        turn = text[a:b]
        if _ANONYMOUS.search(turn):
            anonymous = True
        for m in re.finditer(r"(?:我|俺|本人)?(?:免贵)?姓([\u4e00-\u9fff]{1,2})", turn):
            name = _surname_at(turn, m.start(1))
            tail = turn[m.end(1) - (len(name) if name else 1) :]
            for spelling, target in r.surname_spellings.items():
                if spelling in tail[:12]:
                    name = target
                    break
            if name and surname is None:
                surname = (
                    name,
                    Span(a + m.start(), a + m.start(1) + len(name), turn[m.start() : m.start(1) + len(name)]),
                )
        for m in re.finditer(
            r"(?:我叫|我的名字叫|名字叫|我是)([\u4e00-\u9fff]{2,3})(?=[，。,.！!？?\s]|$)", turn
        ):
            cand = m.group(1)
            sn = _surname_at(cand, 0)
            if sn and not _PLACE_TAIL.search(cand) and full is None and len(cand) > len(sn):
                full = (cand, Span(a + m.start(1), a + m.end(1), cand))
    titles = [(t, "先生") for t in r.male_titles] + [(t, "女士") for t in r.female_titles]
    title_pat = "|".join(re.escape(t) for t, _ in sorted(titles, key=lambda x: -len(x[0])))
    addressed: tuple[str, str, Span] | None = None
    for a, b in tr.ranges(Speaker.AGENT):
        for m in re.finditer(title_pat, text[a:b]):
            pos = a + m.start()
            sn = None
            for width in (2, 1):
                if pos - width >= a and _surname_at(text, pos - width) == text[pos - width : pos]:
                    sn = text[pos - width : pos]
                    break
            if sn is None:
                continue
            if m.group() == "姐" and text[pos - 1 : pos] != sn:
                continue
            span = Span(pos - len(sn), a + m.end(), text[pos - len(sn) : a + m.end()])
            if addressed is None or (surname and sn == surname[0] and addressed[0] != sn):
                addressed = (sn, dict(titles)[m.group()], span)
    if full is not None:
        return Suggestion(full[0], 0.8, (full[1],))
    if surname is not None:
        if addressed is not None:
            return Suggestion(surname[0] + addressed[1], 0.85, (surname[1], addressed[2]))
        return Suggestion(surname[0], 0.75, (surname[1],))
    if addressed is not None:
        return Suggestion(addressed[0] + addressed[1], 0.65, (addressed[2],))
    return Suggestion(None, 0.7 if anonymous else 0.55)
