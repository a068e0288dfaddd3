"""Service hours (服务时间) and the service period of a moment: pure functions over the calendar.

Many 12345 lines answer around the clock (the default, ``24h``), greeting callers on official
holidays (法定节假日) with a holiday notice; others answer only in set hours, and some only on
working days (工作日, with the make-up working days of 调休).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from workorders.calendar import WorkingCalendar

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class ServicePeriod(StrEnum):
    OPEN = "open"
    HOLIDAY = "holiday"
    """Open, on an official holiday: the holiday greeting first."""
    AFTER_HOURS = "after_hours"
    HOLIDAY_CLOSED = "holiday_closed"
    """Closed because it is an official holiday."""


class ServiceHoursError(ValueError):
    error_id = "ivr-bad-service-hours"


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """``ranges`` empty: around the clock. ``working_days_only``: closed on rest days."""

    ranges: tuple[tuple[time, time], ...] = ()
    working_days_only: bool = False

    @property
    def around_the_clock(self) -> bool:
        return not self.ranges

    def covers(self, moment: time) -> bool:
        return self.around_the_clock or any(start <= moment < end for start, end in self.ranges)

    @classmethod
    def parse(cls, text: str, *, working_days_only: bool = False) -> ServiceHours:
        """``24h`` or ``08:00-12:00,13:30-18:00`` (local time, end excluded)."""
        if text.strip().lower() in ("24h", "24/7", "always", ""):
            return cls((), working_days_only)
        ranges: list[tuple[time, time]] = []
        for part in text.split(","):
            match = _RANGE.match(part)
            if match is None:
                raise ServiceHoursError(f"服务时间“{part.strip()}”应写作 08:00-18:00，或 24h")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                start = time(h1, m1)
                end = time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else time(h2, m2)
            except ValueError as exc:
                raise ServiceHoursError(f"服务时间“{part.strip()}”中的时刻无效") from exc
            if end <= start:
                raise ServiceHoursError(f"服务时间“{part.strip()}”的结束须晚于开始")
            ranges.append((start, end))
        return cls(tuple(ranges), working_days_only)


def is_official_holiday(calendar: WorkingCalendar, at: datetime) -> bool:
    """A day off by the official schedule (not a plain weekend)."""
    schedule = calendar.years.get(at.year)
    return schedule is not None and at.date() in schedule.holidays


def service_period(at: datetime, calendar: WorkingCalendar, hours: ServiceHours) -> ServicePeriod:
    """What the line offers at ``at`` (a local, timezone-aware time)."""
    holiday = is_official_holiday(calendar, at)
    if hours.working_days_only and not calendar.is_working_day(at.date()):
        return ServicePeriod.HOLIDAY_CLOSED if holiday else ServicePeriod.AFTER_HOURS
    if not hours.covers(at.timetz().replace(tzinfo=None)):
        return ServicePeriod.AFTER_HOURS
    return ServicePeriod.HOLIDAY if holiday else ServicePeriod.OPEN
