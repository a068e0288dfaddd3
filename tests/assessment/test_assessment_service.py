"""The monthly assessment computed from the orders in the database (PostgreSQL and SQLite)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.services.assessment import monthly_assessment
from minhu.settings import Settings
from workorders.clock import FixedClock

from ..workorders.test_assessment import AS_OF_NOV, EXPECTED_NOV, EXPECTED_SCORES_NOV, NOV, ORDER
from .city import AssessmentCity

pytestmark = pytest.mark.db


async def test_given_a_month_of_orders_when_assessed_then_every_figure_is_the_hand_computed_one(
    acity: AssessmentCity, db_session: AsyncSession, settings: Settings
) -> None:
    month = await monthly_assessment(db_session, settings, NOV, clock=FixedClock(AS_OF_NOV))
    for code, expected in EXPECTED_NOV.items():
        unit = month.units[acity.key(code)]
        assert tuple((unit[k].count, unit[k].base) for k in ORDER) == expected, code
        assert unit.total == EXPECTED_SCORES_NOV[code], code
