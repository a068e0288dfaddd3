"""Working days: weekends, the official public holidays and the make-up working days (调休).

The calendar holds data only (one :class:`YearSchedule` per covered year); where it comes from
(the ``chinesecalendar`` package, a file an administrator loaded) is the adapters' business. A year
the calendar does not cover falls back to Monday–Friday and every answer computed with it says so
(``estimated``), so that nothing crashes and the warning can be shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from workorders.errors import CalendarError


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's official schedule: days off on weekdays and working days on weekends."""

    year: int
    holidays: frozenset[date]  # 法定节假日（含放假调休的工作日）
    workdays: frozenset[date] = frozenset()  # 调休上班的周末
    source: str = ""

    def __post_init__(self) -> None:
        for d in self.holidays | self.workdays:
            if d.year != self.year:
                raise CalendarError(
                    "calendar-wrong-year", f"{d.isoformat()} 不属于 {self.year} 年", year=self.year
                )
        both = self.holidays & self.workdays
        if both:
            first = min(both).isoformat()
            raise CalendarError(
                "calendar-conflict", f"{first} 既被列为节假日又被列为调休工作日", year=self.year
            )


@dataclass(frozen=True, slots=True)
class WorkingDayAnswer:
    """A computed date, with ``estimated`` set when an uncovered year was assumed weekends-only."""

    day: date
    estimated: bool
    uncovered_years: frozenset[int] = frozenset()


@dataclass(frozen=True)
class WorkingCalendar:
    years: Mapping[int, YearSchedule] = field(default_factory=dict)

    @classmethod
    def of(cls, schedules: Iterable[YearSchedule]) -> WorkingCalendar:
        """Later schedules for the same year replace earlier ones (an admin's load wins)."""
        by_year: dict[int, YearSchedule] = {}
        for s in schedules:
            by_year[s.year] = s
        return cls(years=by_year)

    def covers(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        schedule = self.years.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            if day in schedule.holidays:
                return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> WorkingDayAnswer:
        """The n-th working day after ``start`` (the start day itself is not counted).

        This is the administrative convention 期间开始之日不计算在内: day 1 is the first working
        day after ``start``. ``n`` must be at least 1.
        """
        if n < 1:
            raise CalendarError("calendar-bad-count", f"工作日数必须为正整数，收到 {n}")
        day = start
        uncovered: set[int] = set()
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if not self.covers(day.year):
                uncovered.add(day.year)
            if self.is_working_day(day):
                counted += 1
        return WorkingDayAnswer(day=day, estimated=bool(uncovered), uncovered_years=frozenset(uncovered))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
