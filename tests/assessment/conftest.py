from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.calendar_source import build_calendar
from minhu.settings import Settings
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


@pytest.fixture
async def api(
    acity: AssessmentCity, client: httpx.AsyncClient, clock: FixedClock, settings: Settings
) -> AsyncIterator[ApiCaller]:
    yield ApiCaller(client, clock, settings, acity)


class ApiCaller:
    def __init__(
        self, client: httpx.AsyncClient, clock: FixedClock, settings: Settings, city: AssessmentCity
    ) -> None:
        self.client, self.clock, self.settings, self.city = client, clock, settings, city

    def headers(self, username: str) -> dict[str, str]:
        from datetime import timedelta

        from minhu.security import issue_token

        user_id, role = self.city.users[username]
        token, _ = issue_token(
            user_id=user_id,
            role=role,
            now=self.clock.now(),
            lifetime=timedelta(days=7),
            secret=self.settings.jwt_key(),
            algorithm=self.settings.jwt_algorithm,
        )
        return {"Authorization": f"Bearer {token}"}

    async def get(self, who: str, path: str, **kw: object) -> httpx.Response:
        return await self.client.get(f"/api/v1{path}", headers=self.headers(who), **kw)  # type: ignore[arg-type]

    async def post(self, who: str, path: str, json: object = None) -> httpx.Response:
        return await self.client.post(f"/api/v1{path}", json=json, headers=self.headers(who))
