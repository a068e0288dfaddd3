"""工单查询 over FastAGI: key the number, hear state and deadline — and nothing else."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.orders import DbOrderStatusLookup, InMemoryOrderStatusLookup, OrderStatus, parse_order_number
from minhu.db.models import WorkOrderRow
from pbx.simulator.citizen import CitizenScript, Press
from workorders.clock import SHANGHAI
from workorders.enums import OrderState

from .harness import running_ivr

NUMBER = "20261122-000123"
KEYED = "20261122000123#"
DUE = datetime(2026, 12, 7, 18, 0, tzinfo=SHANGHAI)
# menu: 2 at 7.0 → GET DATA: prompt 7-9, then keys (6 s between keys)
CHOOSE_2 = Press("2", at=7.0)
KEYS_AT = 9.5

READBACK = [
    'STREAM FILE minhu/order-state-is ""',
    'STREAM FILE minhu/order-state-in_progress ""',
    'STREAM FILE minhu/order-due-is ""',
    'SAY DIGITS 2026 ""',
    'STREAM FILE minhu/date-year ""',
    'SAY NUMBER 12 ""',
    'STREAM FILE minhu/date-month ""',
    'SAY NUMBER 7 ""',
    'STREAM FILE minhu/date-day ""',
    'SAY NUMBER 18 ""',
    'STREAM FILE minhu/date-hour ""',
]


def _readback(commands: list[str]) -> list[str]:
    start = commands.index('STREAM FILE minhu/order-state-is ""')
    return commands[start : start + len(READBACK)]


@pytest.mark.parametrize(
    ("keyed", "number"),
    [
        ("20261122000123", NUMBER),
        ("20261122*000123", NUMBER),
        ("2026112200012", None),
        ("20261322000123", None),  # month 13
        ("202611220001234", None),
        ("", None),
    ],
)
def test_order_numbers_as_keyed(keyed: str, number: str | None) -> None:
    assert parse_order_number(keyed) == number


async def test_given_a_known_order_then_its_state_and_deadline_are_read_back() -> None:
    orders = InMemoryOrderStatusLookup({NUMBER: (OrderState.IN_PROGRESS, DUE)})
    async with running_ivr(orders=orders) as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_2, Press(KEYED, at=KEYS_AT))))
    assert "GET DATA minhu/order-number-entry 6000 14" in call.commands
    assert orders.asked == [NUMBER]
    assert _readback(call.commands) == READBACK
    assert "minhu/order-after-menu" in call.played
    # silence after the read-back: a clear goodbye and a clean hang-up
    assert call.played[-1] == "minhu/goodbye"
    assert call.variables == {"MINHU_IVR_NEXT": "hangup"}


async def test_given_the_number_keyed_during_the_prompt_then_it_is_taken_whole() -> None:
    orders = InMemoryOrderStatusLookup({NUMBER: (OrderState.ASSIGNED, DUE)})
    async with running_ivr(orders=orders) as ivr:
        call = await ivr.call(CitizenScript((Press("2", at=0.5), Press(KEYED, at=1.0))))
    assert orders.asked == [NUMBER]
    assert "minhu/order-state-assigned" in call.played


async def test_given_an_unknown_order_then_the_caller_is_told_and_after_three_tries_reaches_an_agent() -> (
    None
):
    # each try: prompt 2 s, keys 3.5 s from 0.5 s after it, "未查询到" 2 s → 8 s per try
    keys = tuple(Press("20261122999999#", at=KEYS_AT + 8.0 * i) for i in range(3))
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_2, *keys)))
        unknown = ivr.events("ivr.order_unknown")
    assert call.played.count("minhu/order-unknown") == 3
    assert [e["order"] for e in unknown] == ["20261122-999999"] * 3
    assert "minhu/order-state-is" not in call.played
    assert call.variables["MINHU_IVR_NEXT"] == "queue"
    assert call.variables["MINHU_IVR_TOPIC"] == "agent"


async def test_given_a_malformed_number_then_it_is_refused_and_may_be_keyed_again() -> None:
    orders = InMemoryOrderStatusLookup({NUMBER: (OrderState.CLOSED, None)})
    script = CitizenScript((CHOOSE_2, Press("123#", at=KEYS_AT), Press(KEYED, at=KEYS_AT + 5.5)))
    async with running_ivr(orders=orders) as ivr:
        call = await ivr.call(script)
    assert "minhu/order-number-invalid" in call.played
    assert orders.asked == [NUMBER]
    # a closed order has no running deadline: the state only
    assert "minhu/order-state-closed" in call.played
    assert "minhu/order-due-is" not in call.played


async def test_given_no_number_keyed_then_after_the_retries_the_caller_reaches_an_agent() -> None:
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_2,)))
    assert call.played.count("minhu/order-number-entry") == 3
    assert call.variables["MINHU_IVR_TOPIC"] == "agent"


class BrokenLookup:
    async def status(self, number: str) -> OrderStatus | None:
        raise ConnectionError("database down")


async def test_given_the_lookup_fails_then_the_caller_is_told_and_goes_to_an_agent() -> None:
    async with running_ivr(orders=BrokenLookup()) as ivr:
        call = await ivr.call(CitizenScript((CHOOSE_2, Press(KEYED, at=KEYS_AT))))
        failed = ivr.events("ivr.order_lookup_failed")
    assert "minhu/order-lookup-failed" in call.played
    assert call.variables["MINHU_IVR_TOPIC"] == "agent"
    assert failed and failed[0]["order"] == NUMBER


# --- the database lookup, and another citizen's order ---------------------------------------


def _order_of_someone_else() -> WorkOrderRow:
    at = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
    return WorkOrderRow(
        number=NUMBER,
        channel="phone",
        kind="complaint",
        category="B",
        state=OrderState.IN_PROGRESS.value,
        content="小区门口路灯损坏三天无人维修",
        address="金水区文化路88号",
        citizen_name="李四",
        citizen_phone="13911112222",
        received_at=at,
        registered_at=at,
        registered_by="agent-1001",
        due_at=DUE,
    )


@pytest.mark.db
async def test_given_another_citizens_order_then_only_its_state_and_deadline_are_heard(
    db_session: AsyncSession,
) -> None:
    db_session.add(_order_of_someone_else())
    await db_session.commit()

    @contextlib.asynccontextmanager
    async def sessions() -> AsyncIterator[AsyncSession]:
        yield db_session

    lookup = DbOrderStatusLookup(sessions)
    assert await lookup.status(NUMBER) == OrderStatus("办理中", DUE, OrderState.IN_PROGRESS)
    assert await lookup.status("20261122-000999") is None

    script = CitizenScript((CHOOSE_2, Press(KEYED, at=KEYS_AT)))
    async with running_ivr(orders=lookup) as ivr:
        stranger = await ivr.call(script, caller="13800138000")
        owner = await ivr.call(script, caller="13911112222")
        logged = repr(ivr.logs)
    assert _readback(stranger.commands) == READBACK
    # nothing of the order but state and deadline reaches the line, whoever calls
    assert stranger.commands == owner.commands
    spoken = " ".join(stranger.commands)
    for personal in ("李四", "13911112222", "1391111", "金水区", "路灯", "complaint"):
        assert personal not in spoken
        assert personal not in logged
