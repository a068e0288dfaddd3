"""Periods of the rules (4 hours, 5 working days, ...) and where they end.

Conventions (RULES.md, end): hour periods are wall-clock hours from the event that starts them;
working-day periods do not count the day they start on and end at 24:00 of their last working day
in the deployment's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from workorders.calendar import WorkingCalendar
from workorders.errors import InvalidInput, PolicyError


class PeriodUnit(StrEnum):
    HOURS = "hours"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True, slots=True)
class Period:
    amount: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise PolicyError("policy-negative-period", f"期限不能为负数：{self.amount}")
        if self.unit is PeriodUnit.WORKING_DAYS and self.amount == 0:
            raise PolicyError("policy-zero-working-days", "以工作日计的期限至少为1个工作日")

    @classmethod
    def hours(cls, amount: int) -> Period:
        return cls(amount, PeriodUnit.HOURS)

    @classmethod
    def working_days(cls, amount: int) -> Period:
        return cls(amount, PeriodUnit.WORKING_DAYS)

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"4h"`` or ``"5wd"``, the form policy files use."""
        raw = text.strip().lower()
        try:
            if raw.endswith("wd"):
                return cls.working_days(int(raw[:-2]))
            if raw.endswith("h"):
                return cls.hours(int(raw[:-1]))
        except ValueError:
            pass
        raise PolicyError("policy-bad-period", f"无法识别的期限“{text}”，应写作如 4h 或 5wd")

    def __str__(self) -> str:
        return f"{self.amount}{'h' if self.unit is PeriodUnit.HOURS else 'wd'}"

    @property
    def label_zh(self) -> str:
        return f"{self.amount}小时" if self.unit is PeriodUnit.HOURS else f"{self.amount}个工作日"


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a period ends. ``estimated`` is set when an uncovered calendar year was assumed."""

    due_at: datetime
    estimated: bool = False


def require_aware(value: datetime, name: str = "time") -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInput("naive-datetime", f"{name} 缺少时区信息（请使用带时区的时间，如 +08:00）")
    return value


def period_end(start: datetime, period: Period, calendar: WorkingCalendar, tz: tzinfo) -> Deadline:
    """The instant ``period`` started at ``start`` runs out."""
    require_aware(start, "start")
    if period.unit is PeriodUnit.HOURS:
        return Deadline(start + timedelta(hours=period.amount))
    local_day = start.astimezone(tz).date()
    answer = calendar.add_working_days(local_day, period.amount)
    # 24:00 of the last working day is 00:00 of the next calendar day.
    end = datetime.combine(answer.day + timedelta(days=1), time(0, 0), tzinfo=tz)
    return Deadline(end, estimated=answer.estimated)
