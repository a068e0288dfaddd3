"""Service hours, holidays, and the call-back offer when the wait is long."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from ivr.callbacks import CallbackRequest, InMemoryCallbackRequests, RedisCallbackRequests
from ivr.hours import ServiceHours, ServiceHoursError, ServicePeriod, service_period
from pbx.simulator.citizen import CitizenScript, Press
from workorders.clock import SHANGHAI

from .harness import CALENDAR, CALLER, running_ivr

REDIS_URL = os.environ.get("MINHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
OFFICE = ServiceHours.parse("08:00-12:00,13:30-18:00", working_days_only=True)
NATIONAL_DAY = datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)
WEDNESDAY_EVENING = datetime(2026, 9, 30, 20, 0, tzinfo=SHANGHAI)


def _at(day: int, hour: int, minute: int = 0, month: int = 9) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("hours", "at", "period"),
    [
        (ServiceHours(), _at(30, 3), ServicePeriod.OPEN),  # 24h, a Wednesday night
        (ServiceHours(), _at(1, 10, month=10), ServicePeriod.HOLIDAY),  # 国庆节
        (ServiceHours(), _at(13, 10), ServicePeriod.OPEN),  # a Sunday is no official holiday
        (OFFICE, _at(30, 10), ServicePeriod.OPEN),
        (OFFICE, _at(30, 12, 30), ServicePeriod.AFTER_HOURS),  # lunch
        (OFFICE, _at(30, 18), ServicePeriod.AFTER_HOURS),  # the end is excluded
        (OFFICE, _at(1, 10, month=10), ServicePeriod.HOLIDAY_CLOSED),
        (OFFICE, _at(19, 10), ServicePeriod.AFTER_HOURS),  # Saturday
        (OFFICE, _at(10, 10, month=10), ServicePeriod.OPEN),  # Saturday, a make-up working day (调休)
    ],
)
def test_service_period(hours: ServiceHours, at: datetime, period: ServicePeriod) -> None:
    assert service_period(at, CALENDAR, hours) is period


@pytest.mark.parametrize("text", ["8-18", "18:00-08:00", "08:00-25:00", "always open"])
def test_bad_service_hours_are_refused(text: str) -> None:
    with pytest.raises(ServiceHoursError):
        ServiceHours.parse(text)


async def test_given_a_24h_line_on_an_official_holiday_then_the_holiday_greeting_comes_first() -> None:
    async with running_ivr(at=NATIONAL_DAY) as ivr:
        call = await ivr.call(CitizenScript((Press("1", at=9.0),)))
    assert call.played[:4] == [
        "minhu/holiday-greeting",
        "minhu/welcome",
        "minhu/emergency-110",
        "minhu/main-menu",
    ]
    assert call.variables["MINHU_IVR_NEXT"] == "queue"


async def test_given_a_call_after_hours_then_the_hours_and_110_are_told_and_a_call_back_is_booked() -> None:
    callbacks = InMemoryCallbackRequests()
    # after-hours 0-2, 110 notice 2-4 (not interruptible), menu 4-6, 1 at 6.5
    async with running_ivr(at=WEDNESDAY_EVENING, hours=OFFICE, callbacks=callbacks) as ivr:
        call = await ivr.call(CitizenScript((Press("1", at=6.5),)))
    assert call.played == [
        "minhu/after-hours",
        "minhu/emergency-110",
        "minhu/after-hours-menu",
        "minhu/callback-recorded",
    ]
    assert call.commands[0] == 'STREAM FILE minhu/after-hours ""'
    assert call.variables == {"MINHU_IVR_NEXT": "hangup"}
    [request] = callbacks.requests
    assert (request.caller, request.topic, request.did) == (CALLER, "after_hours", "12345")
    assert request.requested_at == WEDNESDAY_EVENING


async def test_given_a_call_after_hours_and_no_key_then_goodbye_and_a_clean_hang_up() -> None:
    async with running_ivr(at=WEDNESDAY_EVENING, hours=OFFICE) as ivr:
        call = await ivr.call(CitizenScript())
    assert call.played[-1] == "minhu/goodbye"
    assert call.variables == {"MINHU_IVR_NEXT": "hangup"}
    assert call.session.result.status == "SUCCESS"


async def test_given_an_office_hours_line_on_a_holiday_then_the_holiday_closure_is_announced() -> None:
    async with running_ivr(at=NATIONAL_DAY, hours=OFFICE) as ivr:
        call = await ivr.call(CitizenScript())
    assert call.played[:2] == ["minhu/holiday-closed", "minhu/emergency-110"]
    assert call.variables == {"MINHU_IVR_NEXT": "hangup"}


# --- the call-back offer --------------------------------------------------------------------

# 1 at 7.0 → the offer 7-9 (interruptible)
CHOOSE_1 = Press("1", at=7.0)


async def test_given_a_long_wait_when_the_caller_presses_1_then_a_call_back_is_recorded() -> None:
    callbacks = InMemoryCallbackRequests()
    async with running_ivr(wait_s=600, callbacks=callbacks) as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_1, Press("1", at=8.0))))
        recorded = ivr.events("ivr.callback_recorded")
    assert "minhu/callback-offer" in call.played
    assert call.played[-1] == "minhu/callback-recorded"
    assert call.variables == {"MINHU_IVR_NEXT": "hangup"}
    [request] = callbacks.requests
    assert request == CallbackRequest(
        caller=CALLER,
        requested_at=datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI),
        topic="consultation",
        call_id="1795360958.35",
        did="12345",
        estimated_wait_s=600,
    )
    assert recorded[0]["request_id"] == "1"


async def test_given_a_long_wait_when_the_caller_declines_then_the_call_goes_to_the_queue() -> None:
    callbacks = InMemoryCallbackRequests()
    async with running_ivr(wait_s=600, callbacks=callbacks) as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_1,)))  # says nothing to the offer
    assert "minhu/callback-offer" in call.played
    assert call.variables["MINHU_IVR_NEXT"] == "queue"
    assert callbacks.requests == []


async def test_given_a_short_wait_then_no_call_back_is_offered() -> None:
    async with running_ivr(wait_s=30) as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_1, Press("1", at=8.0))))
    assert "minhu/callback-offer" not in call.played
    assert call.variables["MINHU_IVR_NEXT"] == "queue"


class DownCallbacks:
    async def record(self, request: CallbackRequest) -> str:
        raise ConnectionError("redis down")


async def test_given_the_call_back_cannot_be_recorded_then_the_caller_is_told_and_queued() -> None:
    async with running_ivr(wait_s=600, callbacks=DownCallbacks()) as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_1, Press("1", at=8.0))))
        failed = ivr.events("ivr.callback_not_recorded")
    assert call.played[-2:] == ["minhu/callback-failed", "minhu/transfer-agent"]
    assert call.variables["MINHU_IVR_NEXT"] == "queue"
    assert failed


async def test_given_the_queue_overflows_then_the_overflow_flow_books_a_call_back() -> None:
    callbacks = InMemoryCallbackRequests()
    async with running_ivr(callbacks=callbacks) as ivr:
        booked = await ivr.call(CitizenScript((Press("1", at=1.0),)), path="overflow?reason=TIMEOUT")
        again = await ivr.call(CitizenScript(), path="overflow?reason=TIMEOUT")
    assert booked.variables == {"MINHU_OVERFLOW_NEXT": "hangup"}
    assert callbacks.requests[0].topic == "overflow"
    assert again.variables == {"MINHU_OVERFLOW_NEXT": "queue", "MINHU_IVR_TOPIC": "overflow"}


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield client
    await client.aclose()


async def test_given_redis_then_a_call_back_request_is_appended_to_the_stream(
    redis_client: aioredis.Redis,
) -> None:
    stream = f"minhu:callbacks:test-{uuid.uuid4().hex}"
    callbacks = RedisCallbackRequests(redis_client, stream=stream)
    try:
        async with running_ivr(wait_s=600, callbacks=callbacks) as ivr:
            await ivr.call(CitizenScript((CHOOSE_1, Press("1", at=8.0))))
        entries: Any = await redis_client.xrange(stream)
    finally:
        await redis_client.delete(stream)
    [(_entry_id, raw)] = entries
    fields = {bytes(k).decode(): bytes(v).decode() for k, v in raw.items()}
    assert fields["v"] == "1"
    assert CallbackRequest.from_fields(fields) == CallbackRequest(
        CALLER, datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI), "consultation", "1795360958.35", "12345", 600
    )
