"""The periods a bulletin looks at: a day, an ISO week, a month, a year (周分析、月通报、年总结, Art. 19).

A :class:`Window` is a half-open range of local calendar days [start, end). Whole windows shift to
their neighbours (the week before, the month before); a month splits into its weeks — ISO weeks
(Monday to Sunday) clipped to the month, so the first and last may be shorter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from workorders.errors import InvalidInput

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


class WindowKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def label_zh(self) -> str:
        return {"day": "日", "week": "周", "month": "月", "year": "年"}[self.value]


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Local days [start, end) of one kind; ``whole`` is False for a week clipped to its month."""

    start: date
    end: date
    kind: WindowKind
    whole: bool = True

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise InvalidInput("bad-window", "统计期间的开始须早于结束")

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def day(cls, day: date) -> Window:
        return cls(day, day + timedelta(days=1), WindowKind.DAY)

    @classmethod
    def week(cls, iso_year: int, week: int) -> Window:
        try:
            monday = date.fromisocalendar(iso_year, week, 1)
        except ValueError as exc:
            raise InvalidInput("bad-week", f"{iso_year}年没有第{week}周") from exc
        return cls(monday, monday + timedelta(days=7), WindowKind.WEEK)

    @classmethod
    def week_of(cls, day: date) -> Window:
        iso = day.isocalendar()
        return cls.week(iso.year, iso.week)

    @classmethod
    def month(cls, year: int, month: int) -> Window:
        if not 1 <= month <= 12:
            raise InvalidInput("bad-month", f"月份须在1到12之间：{month}")
        nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(date(year, month, 1), nxt, WindowKind.MONTH)

    @classmethod
    def year(cls, year: int) -> Window:
        return cls(date(year, 1, 1), date(year + 1, 1, 1), WindowKind.YEAR)

    @classmethod
    def parse(cls, kind: WindowKind, text: str) -> Window:
        """``2026-10-19`` (day), ``2026-W43`` (week), ``2026-10`` (month), ``2026`` (year)."""
        raw = text.strip()
        try:
            if kind is WindowKind.DAY:
                return cls.day(date.fromisoformat(raw))
            if kind is WindowKind.WEEK and (m := _WEEK.match(raw)):
                return cls.week(int(m.group(1)), int(m.group(2)))
            if kind is WindowKind.MONTH and (m := _MONTH.match(raw)):
                return cls.month(int(m.group(1)), int(m.group(2)))
            if kind is WindowKind.YEAR and (m := _YEAR.match(raw)):
                return cls.year(int(m.group(1)))
        except ValueError:
            pass
        examples = {"day": "2026-10-19", "week": "2026-W43", "month": "2026-10", "year": "2026"}
        raise InvalidInput("bad-window", f"无法识别的统计期间“{text}”，应写作如 {examples[kind.value]}")

    # -- navigation ----------------------------------------------------------------------------

    def shift(self, n: int) -> Window:
        """The whole window ``n`` steps later (negative: earlier)."""
        if self.kind is WindowKind.DAY:
            return Window.day(self.start + timedelta(days=n))
        if self.kind is WindowKind.WEEK:
            return Window.week_of(self.start + timedelta(days=7 * n))
        if self.kind is WindowKind.MONTH:
            i = self.start.year * 12 + self.start.month - 1 + n
            return Window.month(i // 12, i % 12 + 1)
        return Window.year(self.start.year + n)

    def previous(self, n: int = 1) -> Window:
        return self.shift(-n)

    def trailing(self, count: int) -> tuple[Window, ...]:
        """The ``count`` windows ending with this one, oldest first."""
        return tuple(self.shift(-k) for k in range(count - 1, -1, -1))

    def split(self, kind: WindowKind) -> tuple[Window, ...]:
        """The windows of ``kind`` inside this one, clipped to it (a month's weeks, a year's months)."""
        out: list[Window] = []
        cursor = self.start
        while cursor < self.end:
            unit = _unit_of(kind, cursor)
            start, end = max(unit.start, self.start), min(unit.end, self.end)
            out.append(Window(start, end, kind, whole=(start, end) == (unit.start, unit.end)))
            cursor = end
        return tuple(out)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """00:00 of the first day to 00:00 after the last, in the deployment's timezone."""
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end, time(0), tzinfo=tz),
        )

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    # -- names ---------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """The machine name: ``2026-W43``, ``2026-10``, ``2026``, ``2026-10-19``."""
        if self.kind is WindowKind.DAY:
            return self.start.isoformat()
        if self.kind is WindowKind.WEEK:
            iso = self.start.isocalendar()
            base = f"{iso.year}-W{iso.week:02d}"
            return base if self.whole else f"{base}({self.start.isoformat()}~{self.last_day.isoformat()})"
        if self.kind is WindowKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return f"{self.start.year:04d}"

    @property
    def label_zh(self) -> str:
        """The name a reader sees: ``2026年第43周（10月19日—10月25日）``, ``2026年10月``."""
        if self.kind is WindowKind.DAY:
            return f"{self.start.month}月{self.start.day}日"
        if self.kind is WindowKind.WEEK:
            iso = self.start.isocalendar()
            span = f"{_md(self.start)}—{_md(self.last_day)}"
            return f"{iso.year}年第{iso.week}周（{span}）"
        if self.kind is WindowKind.MONTH:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年"

    @property
    def title_zh(self) -> str:
        """For a title: ``2026年第43周``, ``2026年10月``, ``2026年``, ``2026年10月19日``."""
        if self.kind is WindowKind.DAY:
            return f"{self.start.year}年{_md(self.start)}"
        if self.kind is WindowKind.WEEK:
            iso = self.start.isocalendar()
            return f"{iso.year}年第{iso.week}周"
        return self.label_zh

    @property
    def span_zh(self) -> str:
        """The days covered: ``2026年10月19日至10月25日``."""
        return f"{self.start.year}年{_md(self.start)}至{_md(self.last_day)}"

    @property
    def short_zh(self) -> str:
        """A short axis label: ``10月19日``, ``10/19—10/25``, ``10月``, ``2026年``."""
        if self.kind is WindowKind.DAY:
            return f"{self.start.month}/{self.start.day}"
        if self.kind is WindowKind.WEEK:
            return f"{self.start.month}/{self.start.day}—{self.last_day.month}/{self.last_day.day}"
        if self.kind is WindowKind.MONTH:
            return f"{self.start.month}月"
        return f"{self.start.year}年"


def _unit_of(kind: WindowKind, day: date) -> Window:
    if kind is WindowKind.DAY:
        return Window.day(day)
    if kind is WindowKind.WEEK:
        return Window.week_of(day)
    if kind is WindowKind.MONTH:
        return Window.month(day.year, day.month)
    return Window.year(day.year)


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"
