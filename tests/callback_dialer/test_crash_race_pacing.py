"""Crash-safety, two dialers at once, pacing, the do-not-call list, IVR call-back requests."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from callback_dialer.pacing import QueueCallersLoad
from callback_dialer.store import DialerStore, TaskState
from pbx.call_model import CallModel, QueueCaller
from pbx.simulator.citizen import Press
from pbx.simulator.scenarios import RingsOut
from workorders.enums import CallOutcome, OrderState, Satisfaction
from workorders.revisit import half_day_slot

from .conftest import Rig, at
from .test_revisit_calls import CHOICE_AT, CONFIRM_AT, PHONE, answers

pytestmark = pytest.mark.db


async def eventually(predicate: object, within: float = 30.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = predicate() if callable(predicate) else predicate
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.005)


async def test_given_the_dialer_killed_between_originate_and_result_when_restarted_then_no_double_dial(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    first = rig.dialer("dialer-a", ring_timeout=600.0)  # rings for 3 s of real time at this scale
    await first.tick()
    await eventually(lambda: rig.dials_to(PHONE) == 1, 5, "the citizen's phone rings")
    [attempt] = await rig.attempts(number)
    assert attempt.outcome is None and attempt.started_at == at("2026-11-24 09:00")  # on record first

    for job in list(first._jobs.values()):  # kill -9: no clean-up of any kind
        job.cancel()
    await asyncio.gather(*first._jobs.values(), return_exceptions=True)

    # another process, its own AMI connection; the lease has not expired: nothing happens
    second = rig.dialer("dialer-b", ami=await rig.new_ami())
    rig.clock.set(at("2026-11-24 09:05"))
    assert await rig.step(second) == 0
    assert rig.dials_to(PHONE) == 1

    # the lease expires (600 s of business time): the task is recovered, the lost call resolved
    await eventually(lambda: not rig.ami.model.channels, 30, "the lost call ends")
    rig.clock.set(at("2026-11-24 09:11"))
    assert await rig.step(second) == 1
    assert rig.dials_to(PHONE) == 1  # resolved, not dialled again
    [attempt] = await rig.attempts(number)
    assert attempt.outcome == "unknown"
    order = await rig.order(number)
    [recorded] = order.revisit_attempts
    assert recorded.outcome is CallOutcome.FAILED and not recorded.counts_for_art17
    assert recorded.started_at == at("2026-11-24 09:00")
    # planned as if it had rung out: 3 hours after the lost call's start, another half-day slot
    due = await rig.due_at(number)
    assert due == at("2026-11-24 12:00")

    rig.clock.set(due)
    await rig.step(second)
    order = await rig.order(number)
    starts = [a.started_at for a in order.revisit_attempts]
    assert starts == [at("2026-11-24 09:00"), at("2026-11-24 12:00")]
    for earlier, later in itertools.pairwise(starts):
        assert later - earlier >= timedelta(hours=3)
        assert half_day_slot(later, rig.policy) != half_day_slot(earlier, rig.policy)
    assert await rig.due_at(number) == at("2026-11-25 08:30")
    assert rig.dials_to(PHONE) == len(starts)


async def test_given_a_kill_after_the_citizen_answered_then_the_survey_result_is_recovered(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 10:00"))
    rig.behave((PHONE, answers(Press("1", at=CHOICE_AT), Press("1", at=CONFIRM_AT))))
    await rig.intake().poll_replied()
    first = rig.dialer("dialer-a")
    await first.tick()
    await eventually(lambda: rig.dials_to(PHONE) == 1, 5)
    for job in list(first._jobs.values()):
        job.cancel()
    await asyncio.gather(*first._jobs.values(), return_exceptions=True)
    # the survey goes on without the dialer and leaves its result in Redis
    await eventually(lambda: not rig.ami.model.channels, 30, "the call ends")
    second = rig.dialer("dialer-b", ami=await rig.new_ami())
    rig.clock.set(at("2026-11-24 10:11"))
    await rig.step(second)
    order = await rig.order(number)
    assert order.state is OrderState.CLOSED and order.satisfaction is Satisfaction.SATISFIED
    assert order.revisit_attempts[0].started_at == at("2026-11-24 10:00")
    assert rig.dials_to(PHONE) == 1


async def test_given_two_dialers_racing_over_the_same_tasks_then_each_citizen_is_dialled_once(
    rig: Rig,
) -> None:
    phones = [f"1390000{i:04d}" for i in range(12)]
    numbers = [await rig.replied_order(p, at("2026-11-24 09:00")) for p in phones]
    rig.behave(*[(p, RingsOut()) for p in phones])
    await asyncio.gather(rig.intake().poll_replied(), rig.intake().poll_replied())
    a, b = rig.dialer("dialer-a", batch_size=3), rig.dialer("dialer-b", batch_size=3)
    stop = asyncio.Event()
    runs = [asyncio.create_task(d.run(stop)) for d in (a, b)]
    try:
        await eventually(lambda: a.dialled + b.dialled >= len(phones), 30, "every citizen called")
        await eventually(lambda: a.in_flight + b.in_flight == 0, 30, "the calls end")
    finally:
        stop.set()
        await asyncio.gather(*runs)
    assert a.dialled > 0 and b.dialled > 0
    assert [rig.dials_to(p) for p in phones] == [1] * len(phones)
    for number in numbers:
        [attempt] = await rig.attempts(number)
        assert attempt.outcome == CallOutcome.RANG_OUT.value
        assert await rig.due_at(number) == at("2026-11-24 12:00")


async def test_given_one_citizen_with_two_orders_then_the_calls_never_overlap(rig: Rig) -> None:
    first = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    second = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    dialer = rig.dialer()
    assert await rig.step(dialer) == 1  # the other order waits for the citizen's line
    dues = sorted([await rig.due_at(first), await rig.due_at(second)], key=str)
    assert at("2026-11-24 09:05") in dues  # busy_citizen_delay (300 s)
    rig.clock.set(at("2026-11-24 09:05"))
    assert await rig.step(dialer) == 1
    assert rig.dials_to(PHONE) == 2


async def test_given_a_supervisor_pause_and_waiting_citizens_then_the_dialer_holds_back(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    model = CallModel()
    dialer = rig.dialer(inbound=QueueCallersLoad(model), inbound_waiting_threshold=1)

    await dialer.pacer.pause("sup-1")
    assert await rig.step(dialer) == 0
    await dialer.pacer.resume()

    for i in range(2):
        model.queue_callers[("citizens", f"u{i}")] = QueueCaller(
            "citizens", f"u{i}", f"PJSIP/c{i}", i + 1, "1", "x"
        )
    assert await rig.step(dialer) == 0  # inbound first
    model.queue_callers.clear()
    assert await rig.step(dialer) == 1
    assert len(await rig.attempts(number)) == 1


async def test_given_a_calls_per_minute_cap_then_the_token_bucket_limits_new_calls(rig: Rig) -> None:
    phones = [f"1370000{i:04d}" for i in range(5)]
    for p in phones:
        await rig.replied_order(p, at("2026-11-24 09:00"))
    rig.behave(*[(p, RingsOut()) for p in phones])
    await rig.intake().poll_replied()
    dialer = rig.dialer(calls_per_minute=1, bucket_burst=2)
    assert await rig.step(dialer) == 2
    assert await rig.step(dialer) == 0


async def test_given_a_number_on_the_do_not_call_list_then_it_is_never_dialled_and_goes_to_an_agent(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    async with rig.lock:
        await DialerStore(rig.session).add_do_not_call(
            PHONE, at=rig.clock.now(), by="sup-1", reason="市民要求"
        )
        await rig.session.commit()
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())
    assert rig.dials_to(PHONE) == 0
    task = await rig.task_of(number)
    assert (task.state, task.manual_reason) == (TaskState.MANUAL.value, "do_not_call")


async def test_given_a_citizen_over_the_daily_cap_then_the_next_call_is_tomorrow(rig: Rig) -> None:
    # the cap is the profile's (a rule of the centre, over all of the citizen's orders)
    rig.policy = rig.policy.with_overrides({"revisit_citizen_daily_call_cap": 1})
    first = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    second = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    dialer = rig.dialer()
    await rig.step(dialer)  # one call; the citizen's lock holds the other order's task back
    assert rig.dials_to(PHONE) == 1
    rig.clock.set(at("2026-11-24 09:10"))
    await rig.step(dialer)
    assert rig.dials_to(PHONE) == 1
    called, waiting = (first, second) if await rig.attempts(first) else (second, first)
    assert await rig.attempts(waiting) == []
    assert await rig.due_at(waiting) == at("2026-11-25 08:30")
    assert await rig.due_at(called) == at("2026-11-24 12:00")


async def test_given_an_ivr_callback_request_then_the_order_is_revisited_and_orderless_ones_go_to_an_agent(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    stream = rig.settings.callbacks_stream
    await rig.redis.xadd(
        stream, {"order_number": number, "caller": PHONE, "requested_at": "2026-11-24T09:30:00+08:00"}
    )
    await rig.redis.xadd(stream, {"caller": "13698765432", "requested_at": "2026-11-24T09:31:00"})
    rig.clock.set(at("2026-11-24 09:32"))
    intake = rig.intake()
    assert await intake.consume_callbacks() == 2
    task = await rig.task_of(number)
    assert task.callback_requested_at == at("2026-11-24 09:30")
    assert await rig.due_at(number) == at("2026-11-24 09:32")
    async with rig.lock:
        manual = await DialerStore(rig.session).manual_revisits()
    assert [(m.order_number, m.phone_masked, m.reason) for m in manual] == [
        (None, "136****5432", "callback_without_order")
    ]
    assert await intake.consume_callbacks() == 0  # acknowledged


async def test_given_tasks_lost_from_redis_then_reconcile_restores_them(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 19:30"))
    intake = rig.intake()
    await intake.poll_replied()
    task = await rig.task_of(number)
    await rig.redis.zrem(rig.keys.due, str(task.id))
    await rig.redis.delete(rig.keys.task(task.id))
    assert await intake.reconcile() == 1
    assert await rig.due_at(number) == at("2026-11-24 19:30")
    assert await intake.reconcile() == 0


async def test_the_health_key_is_written(rig: Rig) -> None:
    dialer = rig.dialer("dialer-h")
    await dialer.tick()
    assert await rig.redis.ttl(rig.keys.health("dialer-h")) > 0
