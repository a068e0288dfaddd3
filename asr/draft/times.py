"""Dates and times the citizen names (今天, 明天上午十点, 下周一, 3月5号, 上个月), resolved against
the call's reference time in Asia/Shanghai.

Conventions (the labelled set follows them): a clock time without a day is on the reference day;
times said to recur (每天晚上十点, 天天) are not dates and are left out; durations (三天了) too.
A day with a time becomes one minute-precise mention; a month on its own (上个月, 三月份) is a
month-precise one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from asr.draft.model import Granularity, Span, Suggestion, TimeMention
from asr.draft.text import Mapped, Transcript, in_ranges, numerals_to_digits

SHANGHAI = ZoneInfo("Asia/Shanghai")

_REL_DAY = {
    "大前天": -3, "前天": -2, "前儿": -2, "昨天": -1, "昨日": -1, "昨儿": -1, "昨晚": -1,
    "今天": 0, "今日": 0, "今儿": 0, "今晚": 0, "今早": 0, "明天": 1, "明日": 1, "明儿": 1,
    "明早": 1, "明晚": 1, "后天": 2, "大后天": 3,
}  # fmt: skip
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_PERIOD = r"(?:早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜|凌晨|今早|今晚|明早|明晚|昨晚)"
_RECURRING = re.compile(
    r"(?:每天|每晚|天天|每到|一到|经常|每周|每个|每次|通常|平时|总是|一般)[^，。？！\n]*$|(?:到|至)$"
)
_DAY_GROUPS = ("rel", "wk", "m", "mrel", "bd", "ago")

_DAY = (
    r"(?P<rel>大前天|前天|前儿|昨天|昨日|昨儿|昨晚|今天|今日|今儿|今晚|今早|明天|明日|明儿|明早|明晚|大后天|后天)"
    r"|(?P<wk>(?:这|本|下下|下|上)?(?:个)?(?:周|星期|礼拜))(?P<wd>[一二三四五六日天1-7])"
    r"|(?:(?P<y>\d{4}|今|去|明)年)?(?P<m>\d{1,2})月(?:份)?(?:(?P<d>\d{1,2})(?:号|日))?"
    r"|(?P<mrel>上个?月|这个?月|本月|下个?月)(?:(?P<md>\d{1,2})(?:号|日))?"
    r"|(?<![\d路街道楼栋院区第])(?P<bd>\d{1,2})(?:号|日)(?![楼院线门口机码路街栋座])"
    r"|(?P<ago>\d{1,2})天(?P<dir>前|以前|之前|后|以后|之后)"
)
_CLOCK = r"(?P<h>\d{1,2})(?:点|:|：)(?:(?P<half>半)|(?P<mi>\d{1,2})分?|(?P<q>一刻))?(?:多|左右|钟)?"
_CLOCK_END = re.compile(r"$|[钟半分多左右前后之以到的来去开始了就才还，。？！,.?!\s\n]")
_PATTERN = re.compile(rf"(?:{_DAY})?(?:的|那天|那个)?(?P<per>{_PERIOD})?(?:{_CLOCK})?")


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _hour(per: str | None, hour: int) -> int:
    if per in ("下午", "傍晚", "晚上", "夜里", "今晚", "明晚", "昨晚") and hour < 12:
        return hour + 12
    if per == "中午" and hour < 6:
        return hour + 12
    if per == "半夜" and hour == 12:
        return 0
    return hour


def _resolve(m: re.Match[str], ref: datetime) -> tuple[date, Granularity] | None:
    today = ref.date()
    g = m.groupdict()
    if g["rel"]:
        return today + timedelta(days=_REL_DAY[g["rel"]]), "day"
    if g["wk"]:
        monday = today - timedelta(days=today.weekday())
        shift = {"上": -7, "下": 7, "下下": 14}.get(g["wk"].rstrip("个周星期礼拜").rstrip("个"), 0)
        wd = g["wd"]
        weekday = int(wd) - 1 if wd.isdigit() else _WEEKDAY[wd]
        return monday + timedelta(days=shift + min(weekday, 6)), "day"
    if g["m"]:
        month = int(g["m"])
        if not 1 <= month <= 12:
            return None
        # no year said: a month more than two months ahead is last year's (十二月份的工资, said in January)
        year = today.year if month - today.month <= 2 else today.year - 1
        if g["y"]:
            year = {"今": today.year, "去": today.year - 1, "明": today.year + 1}.get(g["y"]) or int(g["y"])
        if g["d"]:
            try:
                return date(year, month, int(g["d"])), "day"
            except ValueError:
                return None
        return date(year, month, 1), "month"
    if g["mrel"]:
        shift = -1 if g["mrel"].startswith("上") else 1 if g["mrel"].startswith("下") else 0
        first = _add_months(today.replace(day=1), shift)
        if g["md"]:
            try:
                return first.replace(day=int(g["md"])), "day"
            except ValueError:
                return None
        return first, "month"
    if g["bd"]:
        day = int(g["bd"])
        try:
            return today.replace(day=day), "day"
        except ValueError:
            return None
    if g["ago"]:
        n = int(g["ago"])
        return today + timedelta(days=-n if "前" in g["dir"] else n), "day"
    return None


def extract_dates(
    tr: Transcript, ref: datetime, places: Sequence[tuple[int, int]] = ()
) -> tuple[Suggestion[TimeMention], ...]:
    ref = ref.astimezone(SHANGHAI)
    mapped: Mapped = numerals_to_digits(tr.text, places)
    citizen = tr.citizen_ranges()
    found: dict[str, Suggestion[TimeMention]] = {}
    for m in _PATTERN.finditer(mapped.text):
        if m.end() == m.start():
            continue
        a, b = mapped.span(*m.span())
        while b > a + 1 and tr.text[b - 1] in "的那天个" and tr.text[a:b].endswith(("的", "那天", "那个")):
            b -= 2 if tr.text[a:b].endswith(("那天", "那个")) else 1
        if not in_ranges(a, citizen) or any(pa <= a < pb for pa, pb in places):
            continue
        day_part = _resolve(m, ref) if any(m.group(k) for k in _DAY_GROUPS) else None
        hour_s = m.group("h")
        if day_part is None and hour_s is None:
            continue
        if day_part is None:
            if m.group("per") is None and (
                not _CLOCK_END.match(mapped.text, m.end()) or tr.text[mapped.span(*m.span("h"))[0]] == "一"
            ):
                continue  # 一点水都没有, 调长一点: "a little", not one o'clock
            if _RECURRING.search(mapped.text[max(0, m.start() - 15) : m.start()]):
                continue
            resolved: tuple[date, Granularity] = (ref.date(), "day")
            confidence = 0.6
        else:
            resolved = day_part
            confidence = 0.85 if m.group("bd") is None else 0.65
        day, gran = resolved
        start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
        if hour_s is not None and gran == "day":
            hour = int(hour_s)
            per = m.group("per")
            if per is None and m.group("rel") in ("今晚", "明晚", "昨晚"):
                per = m.group("rel")
            hour = _hour(per, hour)
            minute = 30 if m.group("half") else 15 if m.group("q") else int(m.group("mi") or 0)
            if hour > 23 or minute > 59:
                continue
            start = start.replace(hour=hour, minute=minute)
            gran = "minute"
        mention = TimeMention(start, gran)
        if mention.label not in found:
            found[mention.label] = Suggestion(mention, confidence, (Span(a, b, tr.text[a:b]),))
    return tuple(found.values())
