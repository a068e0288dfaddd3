"""Where the working-day calendar's data comes from.

The official schedules (holidays and make-up working days, 调休) come from the maintained
``chinesecalendar`` package; an administrator can load a year it does not cover yet
(``minhu calendar load FILE``), which then takes precedence. A year covered by neither falls back
to Monday-Friday: every deadline computed across it is marked ``estimated`` and a warning is logged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import chinese_calendar
import structlog

from workorders.calendar import WorkingCalendar, YearSchedule
from workorders.errors import CalendarError

log = structlog.get_logger(__name__)

_HOLIDAY_WORDS = {"holiday", "休", "假", "off", "rest"}
_WORKDAY_WORDS = {"workday", "班", "上班", "work", "makeup"}


def package_schedules() -> list[YearSchedule]:
    """Every year the installed ``chinesecalendar`` package covers."""
    by_year_h: dict[int, set[date]] = {}
    by_year_w: dict[int, set[date]] = {}
    for d in chinese_calendar.holidays:
        by_year_h.setdefault(d.year, set()).add(d)
    for d in chinese_calendar.workdays:
        by_year_w.setdefault(d.year, set()).add(d)
    years = sorted(set(by_year_h) | set(by_year_w))
    version = getattr(chinese_calendar, "__version__", "?")
    return [
        YearSchedule(
            year=y,
            holidays=frozenset(by_year_h.get(y, set())),
            workdays=frozenset(by_year_w.get(y, set())),
            source=f"chinesecalendar {version}",
        )
        for y in years
    ]


def build_calendar(loaded: Iterable[YearSchedule] = ()) -> WorkingCalendar:
    """The package's years, then the administrator's loaded years on top."""
    return WorkingCalendar.of([*package_schedules(), *loaded])


@dataclass(frozen=True, slots=True)
class CoverageReport:
    covered_years: tuple[int, ...]
    missing_years: tuple[int, ...]

    @property
    def warning_zh(self) -> str | None:
        if not self.missing_years:
            return None
        years = "、".join(str(y) for y in self.missing_years)
        return f"工作日历未包含 {years} 年的法定节假日安排，暂按周一至周五计算，请管理员导入当年官方安排"


def coverage(calendar: WorkingCalendar, years: Iterable[int]) -> CoverageReport:
    wanted = sorted(set(years))
    missing = tuple(y for y in wanted if not calendar.covers(y))
    return CoverageReport(covered_years=tuple(sorted(calendar.years)), missing_years=missing)


def warn_if_uncovered(calendar: WorkingCalendar, years: Iterable[int]) -> CoverageReport:
    report = coverage(calendar, years)
    if report.missing_years:
        log.warning("calendar.year_not_covered", years=list(report.missing_years), message=report.warning_zh)
    return report


def _parse_day(raw: str, where: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise CalendarError(
            "calendar-bad-date", f"{where}：无法识别的日期“{raw}”（应为 YYYY-MM-DD）"
        ) from exc


def parse_schedule(text: str, filename: str) -> YearSchedule:
    """A year's official schedule from JSON or CSV.

    JSON: ``{"year": 2027, "holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}``.
    CSV: one ``date,kind`` row per day, kind ``holiday``/``休`` or ``workday``/``班`` (a header row
    and a third column with the holiday's name are allowed).
    """
    name = Path(filename).name
    if filename.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalendarError("calendar-bad-file", f"{name} 不是有效的 JSON：{exc}") from exc
        if not isinstance(data, dict) or "year" not in data:
            raise CalendarError("calendar-bad-file", f"{name} 须包含 year、holidays、workdays 三项")
        holidays = [_parse_day(str(d), name) for d in data.get("holidays", [])]
        workdays = [_parse_day(str(d), name) for d in data.get("workdays", [])]
        year = int(data["year"])
    else:
        holidays, workdays = [], []
        for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or not row[0].strip() or row[0].strip().startswith("#"):
                continue
            if lineno == 1 and not row[0].strip()[:1].isdigit():
                continue  # header
            if len(row) < 2:
                raise CalendarError("calendar-bad-file", f"{name} 第{lineno}行须为“日期,类型”")
            day = _parse_day(row[0], f"{name} 第{lineno}行")
            kind = row[1].strip().lower()
            if kind in _HOLIDAY_WORDS:
                holidays.append(day)
            elif kind in _WORKDAY_WORDS:
                workdays.append(day)
            else:
                raise CalendarError(
                    "calendar-bad-file", f"{name} 第{lineno}行的类型“{row[1]}”应为 holiday/休 或 workday/班"
                )
        years = {d.year for d in holidays + workdays}
        if len(years) != 1:
            raise CalendarError("calendar-bad-file", f"{name} 须只包含同一年的日期（发现：{sorted(years)}）")
        year = years.pop()
    if not holidays:
        raise CalendarError("calendar-bad-file", f"{name} 未列出任何节假日")
    return YearSchedule(
        year=year, holidays=frozenset(holidays), workdays=frozenset(workdays), source=f"loaded from {name}"
    )
