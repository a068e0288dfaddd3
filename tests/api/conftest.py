from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.settings import Settings
from workorders.clock import FixedClock

from .city import City, build_city


@pytest.fixture
async def city(
    db_session: AsyncSession, client: httpx.AsyncClient, clock: FixedClock, settings: Settings
) -> City:
    return await build_city(db_session, client, clock, settings)
