"""The revisit dialer against the simulated PBX, real Redis, the database and an injected clock:
answers and keys, ring-outs and the Art. 17 rule, busy calls, calling hours and half-day slots,
the 2-working-day window across National Day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from callback_dialer.store import DialerStore, TaskState
from callback_dialer.survey import SurveyResult
from pbx.simulator.citizen import Citizen, HangUp, Press
from pbx.simulator.scenarios import Answers, Busy, Congested, RingsOut, Unreachable
from workorders.clock import SHANGHAI
from workorders.enums import CallOutcome, OrderState, Satisfaction

from .conftest import Rig, at

pytestmark = pytest.mark.db

PHONE = "13812345678"
# call time after the answer: intro 1 s + six digits 5.04 s + 1 s, then the question (1 s):
# keys from 8.04 s on; "you chose" 1 s and the confirmation prompt 1 s follow the key.
CHOICE_AT = 9.0
CONFIRM_AT = 11.5


def answers(*steps: Press | HangUp) -> Answers:
    return Answers(after=2.0, citizen=Citizen.scripted(*steps, number=PHONE))


@pytest.mark.parametrize(
    ("key", "state", "satisfaction"),
    [
        ("1", OrderState.CLOSED, Satisfaction.SATISFIED),
        ("2", OrderState.CLOSED, Satisfaction.BASICALLY_SATISFIED),
        ("3", OrderState.REHANDLING, Satisfaction.DISSATISFIED),
    ],
)
async def test_given_a_citizen_who_answers_when_they_press_a_key_then_the_order_gets_that_answer(
    rig: Rig, key: str, state: OrderState, satisfaction: Satisfaction
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 10:00"))
    rig.behave((PHONE, answers(Press(key, at=CHOICE_AT), Press("1", at=CONFIRM_AT))))
    assert await rig.intake().poll_replied() == 1
    assert await rig.due_at(number) == at("2026-11-24 10:00")

    assert await rig.step(rig.dialer()) == 1

    order = await rig.order(number)
    assert order.state is state
    assert order.satisfaction is satisfaction
    [attempt] = await rig.attempts(number)
    assert attempt.outcome == CallOutcome.ANSWERED.value
    assert attempt.originate_reason == 4
    assert attempt.satisfaction == satisfaction.value
    assert attempt.recorded_on_order
    task = await rig.task_of(number)
    assert task.state == TaskState.DONE.value
    assert task.result == satisfaction.value
    assert await rig.due_at(number) is None
    assert rig.dials_to(PHONE) == 1


async def test_given_an_invalid_key_then_the_survey_asks_again_and_takes_the_next_valid_one(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 10:00"))
    # "7" at 9 s → "invalid" (1 s) → the question again (1 s) → "2" at 12 s → confirm prompt ...
    rig.behave((PHONE, answers(Press("7", at=CHOICE_AT), Press("2", at=12.0))))
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())
    order = await rig.order(number)
    assert order.satisfaction is Satisfaction.BASICALLY_SATISFIED


async def test_given_an_answer_without_any_key_then_it_is_answered_no_rating_retried_later(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 10:00"))
    rig.behave((PHONE, answers(HangUp(at=30.0))))
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())
    order = await rig.order(number)
    assert order.state is OrderState.REVISITING
    [attempt] = order.revisit_attempts
    assert attempt.outcome is CallOutcome.ANSWERED_NO_RATING and not attempt.counts_for_art17
    [logged] = await rig.attempts(number)
    assert (logged.outcome, logged.originate_reason) == (CallOutcome.ANSWERED_NO_RATING.value, 4)
    # retried after revisit_retry_after_failure_minutes (30) of the profile
    assert await rig.due_at(number) == at("2026-11-24 10:30")


async def test_given_two_ring_outs_three_hours_apart_then_the_order_is_deemed_satisfied(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    dialer = rig.dialer()

    await rig.step(dialer)
    assert (await rig.order(number)).state is OrderState.REVISITING
    assert await rig.due_at(number) == at("2026-11-24 12:00")  # 3 hours, and the afternoon slot

    rig.clock.set(at("2026-11-24 11:59"))
    assert await rig.step(dialer) == 0  # not yet

    rig.clock.set(at("2026-11-24 12:00"))
    await rig.step(dialer)
    order = await rig.order(number)
    assert order.state is OrderState.CLOSED
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED
    assert [a.counts_for_art17 for a in order.revisit_attempts] == [True, True]
    assert [a.originate_reason for a in await rig.attempts(number)] == [3, 3]
    task = await rig.task_of(number)
    assert task.state == TaskState.DONE.value and task.result == "deemed_satisfied"
    assert rig.dials_to(PHONE) == 2


async def test_given_rang_out_then_busy_then_rang_out_then_only_the_ring_outs_count(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    await rig.intake().poll_replied()
    dialer = rig.dialer()

    rig.behave((PHONE, RingsOut()))
    await rig.step(dialer)
    assert await rig.due_at(number) == at("2026-11-24 12:00")

    rig.clock.set(at("2026-11-24 12:00"))
    rig.behave((PHONE, Busy()))
    await rig.step(dialer)
    assert (await rig.order(number)).state is OrderState.REVISITING
    assert await rig.due_at(number) == at("2026-11-24 12:30")  # busy: retried, not counted

    rig.clock.set(at("2026-11-24 12:30"))
    rig.behave((PHONE, RingsOut()))
    await rig.step(dialer)
    order = await rig.order(number)
    assert [a.outcome for a in order.revisit_attempts] == [
        CallOutcome.RANG_OUT,
        CallOutcome.BUSY,
        CallOutcome.RANG_OUT,
    ]
    assert [a.counts_for_art17 for a in order.revisit_attempts] == [True, False, True]
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED


@pytest.mark.parametrize(
    ("behaviour", "outcome", "reason"),
    [
        (Busy(), CallOutcome.BUSY, 5),
        (Congested(), CallOutcome.CONGESTION, 8),
        (Unreachable(), CallOutcome.UNREACHABLE, 0),
    ],
)
async def test_given_a_call_that_does_not_connect_then_its_outcome_is_told_apart_and_never_counts(
    rig: Rig, behaviour: Busy | Congested | Unreachable, outcome: CallOutcome, reason: int
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, behaviour))
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())
    [attempt] = await rig.attempts(number)
    assert (attempt.outcome, attempt.originate_reason, attempt.counts_for_art17) == (
        outcome.value,
        reason,
        False,
    )
    assert await rig.due_at(number) == at("2026-11-24 09:30")


async def test_given_a_ring_out_late_in_the_evening_then_the_next_call_waits_for_calling_hours(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 19:30"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())
    # 19:30 + 3 h = 22:30 is outside 08:30-20:00: the next morning (another half-day slot)
    assert await rig.due_at(number) == at("2026-11-25 08:30")


async def test_given_a_reply_at_night_then_the_first_call_is_at_the_start_of_calling_hours(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 21:15"))
    await rig.intake().poll_replied()
    assert await rig.due_at(number) == at("2026-11-25 08:30")
    assert await rig.step(rig.dialer()) == 0


async def test_given_a_ring_out_early_in_the_morning_then_the_next_call_is_in_the_afternoon_slot(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 08:30"))
    rig.behave((PHONE, RingsOut()))
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())
    # 08:30 + 3 h = 11:30 is still the same morning slot: "different times" pushes it to 12:00
    assert await rig.due_at(number) == at("2026-11-24 12:00")


async def test_given_a_reply_before_national_day_then_the_window_spans_the_holiday_and_then_goes_to_an_agent(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-09-30 19:50"))
    rig.behave((PHONE, Busy()))
    await rig.intake().poll_replied()
    task = await rig.task_of(number)
    # day 1 = Thu Oct 8 (Oct 1-7 holidays), day 2 = Fri Oct 9; the window ends at its 24:00
    assert task.window_end == at("2026-10-10 00:00")

    await rig.run_until_settled(rig.dialer(), number)

    attempts = await rig.attempts(number)
    starts = [a.started_at.astimezone(at("2026-10-01 00:00").tzinfo) for a in attempts]
    assert starts[0] == at("2026-09-30 19:50")
    assert all(s < at("2026-10-10 00:00") for s in starts)
    assert starts[-1].date().isoformat() == "2026-10-09"
    per_day: dict[str, int] = {}
    for s in starts:
        assert at(f"{s.date()} 08:30") <= s < at(f"{s.date()} 20:00")
        per_day[s.date().isoformat()] = per_day.get(s.date().isoformat(), 0) + 1
    assert max(per_day.values()) <= rig.policy.revisit_daily_attempt_cap
    task = await rig.task_of(number)
    assert task.state == TaskState.MANUAL.value and task.manual_reason == "window_closed"
    async with rig.lock:
        manual = await DialerStore(rig.session).manual_revisits()
    assert [(m.order_number, m.phone_masked, m.reason) for m in manual] == [
        (number, "138****5678", "window_closed")
    ]
    assert (await rig.order(number)).state is OrderState.REVISITING  # the order waits for the agent


async def test_the_answered_call_runs_the_survey_on_the_ivr_server_routed_by_its_path(rig: Rig) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 10:00"))
    rig.behave((PHONE, answers(Press("2", at=CHOICE_AT), Press("1", at=CONFIRM_AT))))
    served: list[tuple[str, dict[str, str]]] = []
    survey = rig.agi.routes["survey"]

    async def recording(channel: Any, env: Mapping[str, str], query: Mapping[str, str]) -> None:
        served.append((env["agi_network_script"], dict(query)))
        await survey(channel, env, query)

    rig.agi.routes["survey"] = recording
    await rig.intake().poll_replied()
    await rig.step(rig.dialer())

    [attempt] = await rig.attempts(number)
    assert served == [(f"survey?revisit={attempt.attempt_id}", {"revisit": attempt.attempt_id})]
    raw = await rig.redis.get(rig.keys.survey_result(attempt.attempt_id))
    assert raw is not None
    result = SurveyResult.from_json(raw)
    assert result.satisfaction is Satisfaction.BASICALLY_SATISFIED
    assert (result.key, result.confirmed) == ("2", True)
    assert (await rig.order(number)).satisfaction is Satisfaction.BASICALLY_SATISFIED


async def test_given_a_profile_without_non_working_day_calls_then_national_day_is_skipped(rig: Rig) -> None:
    rig.policy = rig.policy.with_overrides({"revisit_on_non_working_days": False})
    number = await rig.replied_order(PHONE, at("2026-09-30 19:50"))
    rig.behave((PHONE, Busy()))
    await rig.intake().poll_replied()
    dialer = rig.dialer()
    await rig.step(dialer)  # Wed Sep 30 19:50, a working day
    # 20:20 is past calling hours; Oct 1-7 are holidays: the retry is on Thu Oct 8
    assert await rig.due_at(number) == at("2026-10-08 08:30")

    await rig.run_until_settled(dialer, number)
    starts = [a.started_at.astimezone(SHANGHAI) for a in await rig.attempts(number)]
    assert starts[0] == at("2026-09-30 19:50")
    assert {s.date().isoformat() for s in starts[1:]} == {"2026-10-08", "2026-10-09"}
    task = await rig.task_of(number)
    assert (task.state, task.manual_reason) == (TaskState.MANUAL.value, "window_closed")
