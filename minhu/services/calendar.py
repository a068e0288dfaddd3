"""The working-day calendar a process uses: the package's years plus the years an administrator
loaded, cached briefly and refreshed at once after a load."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from minhu.calendar_source import CoverageReport, build_calendar, coverage, parse_schedule, warn_if_uncovered
from minhu.db.repositories.audit import AuditRepository
from minhu.db.repositories.calendar import CalendarRepository
from workorders.calendar import WorkingCalendar, YearSchedule
from workorders.clock import Clock
from workorders.enums import Role
from workorders.model import Actor

from .errors import Forbidden


class CalendarProvider:
    """Holds the current :class:`WorkingCalendar`; one per process (app state, CLI command)."""

    def __init__(self, ttl_seconds: float = 60.0) -> None:
        self._ttl = ttl_seconds
        self._calendar: WorkingCalendar | None = None
        self._built_at = 0.0

    def invalidate(self) -> None:
        self._calendar = None

    async def get(self, session: AsyncSession) -> WorkingCalendar:
        if self._calendar is None or time.monotonic() - self._built_at > self._ttl:
            loaded = await CalendarRepository(session).loaded_schedules()
            self._calendar = build_calendar(loaded)
            self._built_at = time.monotonic()
        return self._calendar


@dataclass(frozen=True, slots=True)
class YearStatus:
    year: int
    source: str
    loaded_at: datetime | None
    loaded_by: str | None


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    today: date
    years: tuple[YearStatus, ...]
    report: CoverageReport


class CalendarService:
    def __init__(self, session: AsyncSession, *, clock: Clock, provider: CalendarProvider) -> None:
        self._session = session
        self._clock = clock
        self._provider = provider

    async def status(self) -> CalendarStatus:
        """Which years are covered, and a warning for this year or the next when one is not."""
        today = self._clock.now().date()
        calendar = await self._provider.get(self._session)
        loaded = {y.year: y for y in await CalendarRepository(self._session).years()}
        years = tuple(
            YearStatus(
                year=y,
                source=calendar.years[y].source,
                loaded_at=loaded[y].loaded_at if y in loaded else None,
                loaded_by=loaded[y].loaded_by if y in loaded else None,
            )
            for y in sorted(calendar.years)
        )
        report = warn_if_uncovered(calendar, (today.year, today.year + 1))
        return CalendarStatus(today=today, years=years, report=report)

    async def load(self, text: str, filename: str, *, actor: Actor, via: str) -> YearSchedule:
        """Validate a year's official schedule (JSON or CSV) and store it, replacing an earlier load."""
        if actor.role not in (Role.ADMIN, Role.SYSTEM):
            raise Forbidden("role-not-permitted", "只有系统管理员可以导入工作日历")
        schedule = parse_schedule(text, filename)
        now = self._clock.now()
        try:
            await CalendarRepository(self._session).replace_year(schedule, at=now, by=actor.user_id)
            await AuditRepository(self._session).append_admin(
                action="calendar_load",
                at=now,
                actor_id=actor.user_id,
                actor_name=actor.name,
                actor_role=actor.role.value,
                via=via,
                details={
                    "year": schedule.year,
                    "holidays": len(schedule.holidays),
                    "workdays": len(schedule.workdays),
                    "source": schedule.source,
                },
            )
            await self._session.commit()
        except BaseException:
            await self._session.rollback()
            raise
        self._provider.invalidate()
        return schedule

    async def coverage_for(self, years: list[int]) -> CoverageReport:
        return coverage(await self._provider.get(self._session), years)
