from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.calendar_source import build_calendar
from workorders.calendar import WorkingCalendar
from workorders.clock import FixedClock

from .city import AssessmentCity, build_assessment_city


@pytest.fixture(scope="session")
def working_calendar() -> WorkingCalendar:
    return build_calendar()


@pytest.fixture
async def acity(
    db_session: AsyncSession, working_calendar: WorkingCalendar, clock: FixedClock
) -> AssessmentCity:
    return await build_assessment_city(db_session, working_calendar, clock.now())
