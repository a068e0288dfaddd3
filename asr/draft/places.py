"""Address and place (地址): districts, streets, roads and crossings, housing estates, buildings.

The place is a chain of components read left to right — ``新华区`` ``光明路街道`` ``锦华小区``
``3号楼`` ``2单元`` ``门口`` — where each component is a name ending in a place word (区, 路,
小区, 社区 …) or a number with its unit (号楼, 单元, 室). Known names of the city (``draft_places.txt``)
are kept whole; numerals become digits (三号楼 → 3号楼). A name never contains a function
character (我, 在, 的 …), which is how the start of a place is found in unpunctuated ASR text.
Among the chains found the most specific wins; the citizen's words before the agent's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from asr.draft.model import Span, Speaker, Suggestion
from asr.draft.resources import place_names
from asr.draft.text import Mapped, Transcript, numerals_to_digits

_STOP = (
    "我你他她它们的了在是有就也都还与和跟从到去来说这那哪么呢吧啊呀嘛呃嗯哦喂给把被让叫要想能会"
    "可没不很太又再才对请问帮您好谢俺咱家住个些找打过着呗靠多始"
)
_NAME = rf"[^{_STOP}\s\d，。？！、,.?!：:；;（）()“”\"'\n]"
_ADMIN = r"(?:街道办事处|街道办|街道|社区|乡|镇|村|区|县|市)"
_ROAD = r"(?:大道|大街|胡同|路|街|巷)"
_POI = (
    r"(?:小区|家属院|家属楼|花园|家园|新村|公寓|大厦|广场|市场|商场|超市|学校|中学|小学|幼儿园|医院|"
    r"公园|宿舍|苑|园|院|城|府|庄|湾|站|厂|中心)"
)
_NUMBERED = r"(?:\d+(?:号楼|号院|号门|号|栋|幢|单元|楼|层|室|排|户|组|区)|[A-Za-z]座)"
_RELPOS = (
    r"(?:十字路口|交叉口|交汇处|路口|东门|西门|南门|北门|大门|正门|后门|门口|门前|东侧|西侧|南侧|北侧|东边|西边|"
    r"南边|北边|对面|附近|旁边|楼下|后面|东段|西段|南段|北段|中段|东头|西头|拐角|东北角|西北角|东南角|西南角)"
)
_SUFFIX = (
    "(?:"
    + "|".join(
        sorted({w for group in (_POI, _ROAD, _ADMIN) for w in group[3:-1].split("|")}, key=len, reverse=True)
    )
    + ")"
)
_KNOWN = "\ue000+\ue001"
_CROSS = rf"(?:与|和|跟)(?:{_KNOWN}|{_NAME}{{1,5}}?{_ROAD})(?:的)?(?:十字路口|交叉口|交汇处|路口|口)"
_FIRST = rf"(?:{_KNOWN}|{_NAME}{{1,7}}?{_SUFFIX}|{_NUMBERED})"
_LINK = r"(?:(?:上|边上|里)?(?:的|那个|那家|这个|那)|的)"
_NEXT = (
    rf"(?:{_CROSS}|{_LINK}?{_KNOWN}|{_LINK}(?!小区|社区|小学|中学|学校|医院|市场|超市|公园|广场|家属院|院子){_NAME}{{1,7}}?{_SUFFIX}|{_NAME}{{0,7}}?{_SUFFIX}|{_NUMBERED}|[，,]\d+(?:号楼|号院|栋|幢|单元|室)"
    rf"|的?{_RELPOS})"
)
# 绕路, 跑路, 马路, 十八路 (a bus line): words ending in 路 that are not roads
_FAKE_ROAD = re.compile(r"[^路]*?(?:[绕走修堵跑带问迷半让过满马线条]|[零一二两三四五六七八九十百\d]+)路")
_LEAD = re.compile(r"(?:投诉|举报|反映|反应|咨询|位于|就在|是在|住在|上班|一下|就|在)+")
_LINK_IN_VALUE = re.compile(r"(?<=[路街道区])(?:上|边上|里)?(?:那个|那家|这个|那)|的")
_CHAIN = re.compile(rf"{_FIRST}(?:{_NEXT})*")
_NOT_PLACE = re.compile(
    r"^(?:城管|市场监管|人社|住建|医保|社保|公积金|教育|公安|交警|12345|热线|服务中心|政务中心|办事大厅|政府|"
    r"单位|公司|老家|外地|本地|市里|区里|县里|村里|镇上|当地|咱市|我们市|全市|整个市|小孩|孩子|自己|别的|其他)"
)
# 小区附近…, 门口…: a generic word is no start of a place (小 + 区 would read as a name)
_GENERIC_START = re.compile(
    r"(?:上(?:小学|中学|大学|学校|幼儿园)|小区|社区|家属院|附近|学校|医院|公园|市场|超市|小学|中学|门口|楼下|村里|街上|路上|马路)"
)
_WEAK_ONLY = re.compile(r"^(?:\d+(?:号|楼|层|区|组|户)|[^\d]{1,2}(?:市|区|院|站|城|厂|中心|县|村))$")


@dataclass(frozen=True, slots=True)
class Place:
    value: str
    start: int
    end: int
    score: float
    speaker: Speaker


def known_place_ranges(text: str) -> list[tuple[int, int]]:
    taken: list[tuple[int, int]] = []
    for name in place_names():
        for m in re.finditer(re.escape(name), text):
            a, b = m.span()
            if not any(x < b and a < y for x, y in taken):
                taken.append((a, b))
    return sorted(taken)


def _score(value: str, known: int) -> float:
    parts = len(re.findall(rf"{_SUFFIX}|{_NUMBERED}|{_RELPOS}", value))
    score = min(parts, 5) + 0.8 * known
    if re.search(rf"{_ROAD}|{_POI}", value):
        score += 1
    if re.search(_CROSS, value):
        score += 1
    return score


def _candidates(tr: Transcript, mapped: Mapped, known: Sequence[tuple[int, int]]) -> list[Place]:
    # Known names are masked with a neutral name character so that their digits and function
    # characters (五一路, 和平路) do not break the chain.
    masked = list(mapped.text)
    for a, b in known:
        inside = [i for i, o in enumerate(mapped.origin) if a <= o < b]
        for i in inside:
            masked[i] = "\ue000"
        if inside:
            masked[inside[-1]] = "\ue001"
    text = "".join(masked)
    found: list[Place] = []
    for m in _CHAIN.finditer(text):
        start = m.start()
        lead_words = _LEAD.match(text, start, m.end())
        if lead_words:
            start = lead_words.end()
        if start >= m.end():
            continue
        a, b = mapped.span(start, m.end())
        value = _LINK_IN_VALUE.sub("", mapped.text[start : m.end()])
        if (
            _NOT_PLACE.match(value)
            or _GENERIC_START.match(value)
            or _FAKE_ROAD.match(text, start, m.end())
            or text[start - 1 : start] == "月"
        ):
            continue
        value = value.replace("，", "").replace(",", "")
        if _WEAK_ONLY.match(value) and not any(x <= a and b <= y for x, y in known):
            continue
        hits = sum(1 for x, y in known if a <= x and y <= b)
        found.append(Place(value, a, b, _score(value, hits), tr.speaker_at(a)))
    return found


def extract_address(tr: Transcript) -> tuple[Suggestion[str | None], list[tuple[int, int]]]:
    """The place of the matter, and every place range found (dates must not be read inside them)."""
    known = known_place_ranges(tr.text)
    mapped = numerals_to_digits(tr.text, known)
    places = _candidates(tr, mapped, known)
    ranges = [(p.start, p.end) for p in places]
    if not places:
        return Suggestion(None, 0.5), ranges
    citizen = [p for p in places if p.speaker is not Speaker.AGENT]
    best = max(citizen or places, key=lambda p: (p.score, -p.start))
    agent_better = [
        p for p in places if p.speaker is Speaker.AGENT and best.value in p.value and p.score > best.score
    ]
    if agent_better:
        best = agent_better[0]
    confidence = min(0.95, 0.35 + 0.12 * best.score)
    return Suggestion(
        best.value, round(confidence, 2), (Span(best.start, best.end, tr.text[best.start : best.end]),)
    ), ranges
