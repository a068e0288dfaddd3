"""Calendar years an administrator loaded (``calendar_years`` and ``calendar_days``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import CalendarDay, CalendarYear
from workorders.calendar import YearSchedule


class CalendarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def loaded_schedules(self) -> list[YearSchedule]:
        years = {y.year: y for y in (await self._session.execute(select(CalendarYear))).scalars()}
        holidays: dict[int, set[date]] = {y: set() for y in years}
        workdays: dict[int, set[date]] = {y: set() for y in years}
        for day in (await self._session.execute(select(CalendarDay))).scalars():
            (holidays if day.kind == "holiday" else workdays)[day.year].add(day.day)
        return [
            YearSchedule(
                year=y,
                holidays=frozenset(holidays[y]),
                workdays=frozenset(workdays[y]),
                source=years[y].source,
            )
            for y in sorted(years)
        ]

    async def years(self) -> list[CalendarYear]:
        return list((await self._session.execute(select(CalendarYear).order_by(CalendarYear.year))).scalars())

    async def replace_year(self, schedule: YearSchedule, *, at: datetime, by: str) -> None:
        """Store ``schedule``, replacing whatever was loaded for that year before."""
        await self._session.execute(delete(CalendarDay).where(CalendarDay.year == schedule.year))
        await self._session.execute(delete(CalendarYear).where(CalendarYear.year == schedule.year))
        await self._session.flush()
        self._session.add(
            CalendarYear(year=schedule.year, source=schedule.source, loaded_at=at, loaded_by=by)
        )
        await self._session.flush()
        self._session.add_all(
            [
                CalendarDay(year=schedule.year, day=d, kind="holiday", name="")
                for d in sorted(schedule.holidays)
            ]
            + [
                CalendarDay(year=schedule.year, day=d, kind="workday", name="")
                for d in sorted(schedule.workdays)
            ]
        )
        await self._session.flush()
