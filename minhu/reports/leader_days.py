"""领导接线日 (Art. 6): the schedule kept in ``leader_hotline_days``, its publication and rule check."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.report_models import LeaderHotlineDayRow
from workorders.analysis import LeaderDayIssue, LeaderDayRules, LeaderHotlineDay, Window, check_schedule
from workorders.clock import Clock
from workorders.errors import InvalidInput, RuleViolation


def _domain(row: LeaderHotlineDayRow, tz: tzinfo) -> LeaderHotlineDay:
    return LeaderHotlineDay(
        starts_at=row.starts_at.astimezone(tz),
        ends_at=row.ends_at.astimezone(tz),
        leader_name=row.leader_name,
        leader_title=row.leader_title,
        venue=row.venue,
        focus=row.focus,
        published_at=row.published_at.astimezone(tz) if row.published_at else None,
    )


class LeaderDayService:
    """Services own the transaction: each changing method commits."""

    def __init__(self, session: AsyncSession, *, clock: Clock, rules: LeaderDayRules) -> None:
        self._session = session
        self._clock = clock
        self.rules = rules

    async def add(
        self,
        *,
        starts_at: datetime,
        minutes: int,
        leader_name: str,
        leader_title: str,
        venue: str,
        focus: str = "",
        created_by: str,
    ) -> LeaderHotlineDay:
        """Schedules a session; refuses one shorter than the rule's minimum or in the past."""
        if minutes < self.rules.min_minutes:
            raise RuleViolation(
                "leader-day-too-short",
                f"接线互动时间不少于{self.rules.min_minutes // 60}小时，当前为{minutes}分钟",
                "第六条",
            )
        now = self._clock.now()
        day = LeaderHotlineDay(
            starts_at, starts_at + timedelta(minutes=minutes), leader_name, leader_title, venue, focus
        )
        if starts_at <= now:
            raise InvalidInput("leader-day-in-past", "接线时间须晚于当前时间")
        self._session.add(
            LeaderHotlineDayRow(
                starts_at=day.starts_at,
                ends_at=day.ends_at,
                leader_name=day.leader_name,
                leader_title=day.leader_title,
                venue=day.venue,
                focus=day.focus,
                published_at=None,
                created_at=now,
                created_by=created_by,
            )
        )
        await self._session.commit()
        return day

    async def _rows(self, start: datetime, end: datetime) -> Sequence[LeaderHotlineDayRow]:
        stmt = (
            select(LeaderHotlineDayRow)
            .where(LeaderHotlineDayRow.starts_at >= start, LeaderHotlineDayRow.starts_at < end)
            .order_by(LeaderHotlineDayRow.starts_at)
        )
        return (await self._session.execute(stmt)).scalars().all()

    async def schedule(self, first: Window, last: Window | None = None) -> list[LeaderHotlineDay]:
        """The sessions from the first day of ``first`` to the end of ``last`` (default ``first``)."""
        tz = self._clock.now().tzinfo
        assert tz is not None
        start = first.bounds(tz)[0]
        end = (last or first).bounds(tz)[1]
        return [_domain(r, tz) for r in await self._rows(start, end)]

    async def check(self, month: Window) -> tuple[LeaderDayIssue, ...]:
        return check_schedule(month, await self.schedule(month), self.rules, now=self._clock.now())

    async def publish(self, month: Window) -> tuple[list[LeaderHotlineDay], tuple[LeaderDayIssue, ...]]:
        """Marks the month's unpublished sessions as published now; returns the month's schedule and
        what still breaks Art. 6 (e.g. published less than a week ahead)."""
        now = self._clock.now()
        tz = now.tzinfo
        assert tz is not None
        start, end = month.bounds(tz)
        rows = await self._rows(start, end)
        if not rows:
            raise InvalidInput("leader-day-none", f"{month.label_zh}尚未安排领导接线日，无可公布的安排")
        for row in rows:
            if row.published_at is None:
                row.published_at = now
        await self._session.commit()
        days = [_domain(r, tz) for r in rows]
        return days, check_schedule(month, days, self.rules, now=now)
