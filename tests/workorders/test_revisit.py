"""Revisits (Art. 16-18): the 2-working-day window, the 3-hour rule and 视为满意."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workorders import lifecycle as lc
from workorders.enums import CallOutcome, Category, ClosureReason, OrderState, Satisfaction
from workorders.errors import InvalidInput, RuleViolation
from workorders.model import RevisitAttempt
from workorders.revisit import (
    deemed_satisfied,
    half_day_slot,
    in_calling_hours,
    next_attempt_at,
    revisit_window,
)

from .conftest import AGENT, DIALER, HANDLER, OTHER_HANDLER, SUPERVISOR, t

REPLY_DAY = t("2026-11-23 07:00")  # a Monday; flow.replied replies at +3h = 10:00


def attempt(flow, order, when, outcome, satisfaction=None):
    return flow.run(
        lc.record_revisit_attempt,
        order,
        DIALER,
        at=when,
        started_at=when,
        outcome=outcome,
        satisfaction=satisfaction,
    )


def test_two_rang_out_calls_three_hours_apart_in_different_half_days_mean_deemed_satisfied(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.RANG_OUT)
    assert order.state is OrderState.REVISITING and order.revisit_attempts[-1].counts_for_art17
    order = attempt(flow, order, t("2026-11-23 13:30"), CallOutcome.RANG_OUT)
    assert order.state is OrderState.CLOSED
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED
    assert order.closure_reason is ClosureReason.DEEMED_SATISFIED


def test_a_second_ring_out_less_than_three_hours_later_does_not_count(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.RANG_OUT)
    order = attempt(flow, order, t("2026-11-23 13:29"), CallOutcome.RANG_OUT)
    assert order.state is OrderState.REVISITING
    assert not order.revisit_attempts[-1].counts_for_art17


def test_a_second_ring_out_in_the_same_half_day_does_not_count_even_after_three_hours(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 13:00"), CallOutcome.RANG_OUT)
    order = attempt(flow, order, t("2026-11-23 16:30"), CallOutcome.RANG_OUT)  # both afternoon
    assert order.state is OrderState.REVISITING
    order = attempt(flow, order, t("2026-11-24 09:00"), CallOutcome.RANG_OUT)
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED


@pytest.mark.parametrize(
    "outcome",
    [
        CallOutcome.BUSY,
        CallOutcome.REJECTED,
        CallOutcome.CONGESTION,
        CallOutcome.UNREACHABLE,
        CallOutcome.FAILED,
        CallOutcome.ANSWERED_NO_RATING,
    ],
)
def test_busy_or_failed_calls_never_count(flow, outcome):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), outcome)
    order = attempt(flow, order, t("2026-11-23 14:30"), outcome)
    assert order.state is OrderState.REVISITING
    assert not any(a.counts_for_art17 for a in order.revisit_attempts)


def test_rang_out_then_busy_then_rang_out(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.RANG_OUT)
    order = attempt(flow, order, t("2026-11-23 11:30"), CallOutcome.BUSY)
    assert order.state is OrderState.REVISITING
    order = attempt(flow, order, t("2026-11-23 14:00"), CallOutcome.RANG_OUT)
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED


def test_a_ring_out_outside_calling_hours_is_recorded_but_does_not_count(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 20:30"), CallOutcome.RANG_OUT)
    assert not order.revisit_attempts[-1].counts_for_art17
    assert not in_calling_hours(t("2026-11-23 08:29"), flow.policy)
    assert in_calling_hours(t("2026-11-23 08:30"), flow.policy)


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        (Satisfaction.SATISFIED, OrderState.CLOSED),
        (Satisfaction.BASICALLY_SATISFIED, OrderState.CLOSED),
        (Satisfaction.DISSATISFIED, OrderState.REHANDLING),
    ],
)
def test_citizen_answers_each_key(flow, answer, state):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.ANSWERED, answer)
    assert order.state is state and order.satisfaction is answer


def test_dissatisfied_sends_the_order_back_for_rehandling_with_a_new_deadline(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
    order = flow.run(lc.assign, order, AGENT, at=t("2026-11-23 11:00"), lead_unit_id=HANDLER.unit_id)
    assert order.state is OrderState.ASSIGNED and order.handling_round == 1
    assert order.due_at == t("2026-12-01 00:00")
    assert order.satisfaction is None and order.attempts_this_round() == ()
    assert len(order.revisit_attempts) == 1  # the first round's call stays on record
    order = flow.run(lc.check_in, order, HANDLER, at=t("2026-11-23 11:30"))
    # Contacts from the first round do not count for the second reply.
    with pytest.raises(RuleViolation):
        lc.reply(
            order,
            HANDLER,
            flow.ctx(t("2026-11-24 10:00")),
            content="x",
            handler_name="张",
            handler_phone="13800000000",
        )


def test_profile_may_close_dissatisfied_orders_without_rehandling(calendar):
    from minhu.policy import load_profile

    from .conftest import Flow

    flow = Flow(load_profile("pingdingshan-2022", {"rehandle_on_dissatisfied": False}), calendar)
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
    assert order.state is OrderState.CLOSED and order.closure_reason is ClosureReason.DISSATISFIED_FINAL


def test_third_party_assessment_after_failed_mediation(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
    with pytest.raises(RuleViolation):
        lc.refer_third_party(order, HANDLER, flow.ctx(t("2026-11-24 10:00")), note="x")
    order = flow.run(lc.refer_third_party, order, SUPERVISOR, at=t("2026-11-24 10:00"), note="协调未果")
    assert order.state is OrderState.THIRD_PARTY
    order = flow.run(
        lc.record_third_party_assessment,
        order,
        SUPERVISOR,
        at=t("2026-12-01 10:00"),
        verdict="单位已依法履职",
    )
    assert order.state is OrderState.CLOSED and order.closure_reason is ClosureReason.THIRD_PARTY_ASSESSED


def test_deemed_satisfied_cannot_be_entered_as_an_answer(flow):
    order = flow.replied(REPLY_DAY)
    with pytest.raises(InvalidInput) as err:
        lc.record_revisit_attempt(
            order,
            AGENT,
            flow.ctx(t("2026-11-23 10:30")),
            started_at=t("2026-11-23 10:30"),
            outcome=CallOutcome.ANSWERED,
            satisfaction=Satisfaction.DEEMED_SATISFIED,
        )
    assert err.value.article == "第十七条"


def test_revisit_window_is_two_working_days_across_a_holiday(flow, calendar, policy):
    # Replied Wed Sep 30 15:00: Oct 1-7 off, so Oct 8 and 9; the window ends at 24:00 on Oct 9.
    assert revisit_window(t("2026-09-30 15:00"), policy, calendar).due_at == t("2026-10-10 00:00")
    order = flow.replied(t("2026-09-30 07:00"))
    assert lc.revisit_overdue(order, t("2026-10-10 00:01"))
    assert not lc.revisit_overdue(order, t("2026-10-09 23:59"))
    with pytest.raises(RuleViolation):
        lc.close_manually(order, OTHER_HANDLER, flow.ctx(t("2026-10-10 09:00")), note="x")
    closed = flow.run(lc.close_manually, order, SUPERVISOR, at=t("2026-10-10 09:00"), note="人工回访未果")
    assert closed.closure_reason is ClosureReason.MANUAL


def _a(when, outcome, counts=False):
    return RevisitAttempt(started_at=when, outcome=outcome, by="dialer", counts_for_art17=counts)


def test_next_attempt_time_for_the_dialer(policy):
    end = t("2026-11-26 00:00")
    # Nothing yet: a call at 07:00 waits for calling hours.
    assert next_attempt_at([], t("2026-11-24 07:00"), end, policy) == t("2026-11-24 08:30")
    # After a counted ring-out at 10:30: at least 13:30 and in the afternoon.
    first = [_a(t("2026-11-24 10:30"), CallOutcome.RANG_OUT, True)]
    assert next_attempt_at(first, t("2026-11-24 10:31"), end, policy) == t("2026-11-24 13:30")
    # After a counted ring-out at 13:00: 16:00 would be the same half-day, so the next morning.
    pm = [_a(t("2026-11-24 13:00"), CallOutcome.RANG_OUT, True)]
    assert next_attempt_at(pm, t("2026-11-24 13:01"), end, policy) == t("2026-11-25 08:30")
    # After a busy line: the retry waits 30 minutes and may stay in the same slot.
    busy = [_a(t("2026-11-24 10:30"), CallOutcome.BUSY)]
    assert next_attempt_at(busy, t("2026-11-24 10:31"), end, policy) == t("2026-11-24 11:00")
    # Late evening rolls to the next morning; past the window there is no slot.
    assert next_attempt_at([], t("2026-11-24 20:00"), end, policy) == t("2026-11-25 08:30")
    assert next_attempt_at(pm, t("2026-11-25 19:59"), t("2026-11-25 12:00"), policy) is None


def test_the_daily_attempt_cap_moves_to_the_next_day(policy):
    tries = [_a(t("2026-11-24 09:00") + timedelta(minutes=40 * i), CallOutcome.BUSY) for i in range(4)]
    assert next_attempt_at(tries, t("2026-11-24 12:00"), t("2026-11-27 00:00"), policy) == t(
        "2026-11-25 08:30"
    )


def test_deemed_satisfied_needs_no_answer_and_enough_counted_calls(policy):
    two = [
        _a(t("2026-11-24 10:00"), CallOutcome.RANG_OUT, True),
        _a(t("2026-11-24 14:00"), CallOutcome.RANG_OUT, True),
    ]
    assert deemed_satisfied(two, policy)
    assert not deemed_satisfied(two[:1], policy)
    assert half_day_slot(t("2026-11-24 11:59"), policy) != half_day_slot(t("2026-11-24 12:00"), policy)


def test_only_replied_orders_are_revisited(flow):
    order = flow.checked_in(REPLY_DAY, Category.B)
    with pytest.raises(RuleViolation):
        lc.record_revisit_attempt(
            order,
            DIALER,
            flow.ctx(t("2026-11-23 10:30")),
            started_at=t("2026-11-23 10:30"),
            outcome=CallOutcome.RANG_OUT,
        )


def test_after_rehandling_only_the_new_replys_calls_count(flow):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
    order = flow.run(lc.assign, order, AGENT, at=t("2026-11-23 11:00"), lead_unit_id=HANDLER.unit_id)
    order = flow.run(lc.check_in, order, HANDLER, at=t("2026-11-23 11:10"))
    order = flow.contacted(order, t("2026-11-23 11:20"))
    order = flow.run(
        lc.reply,
        order,
        HANDLER,
        at=t("2026-11-23 11:30"),
        content="重新处理完毕",
        handler_name="张",
        handler_phone="13800000000",
    )
    order = attempt(flow, order, t("2026-11-23 11:40"), CallOutcome.RANG_OUT)
    order = attempt(flow, order, t("2026-11-23 15:00"), CallOutcome.RANG_OUT)
    # The first round's answered call does not stop the second round from being deemed satisfied.
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED
    assert [a.round for a in order.revisit_attempts] == [0, 1, 1]


def test_an_answer_without_a_rating_never_counts_carries_no_satisfaction_and_is_retried_like_busy(
    flow, policy
):
    order = flow.replied(REPLY_DAY)
    order = attempt(flow, order, t("2026-11-23 10:30"), CallOutcome.RANG_OUT)
    order = attempt(flow, order, t("2026-11-23 14:00"), CallOutcome.ANSWERED_NO_RATING)
    assert order.state is OrderState.REVISITING and order.satisfaction is None
    assert [a.counts_for_art17 for a in order.revisit_attempts] == [True, False]
    # a later ring-out in another slot still completes Art. 17: the citizen gave no answer
    order = attempt(flow, order, t("2026-11-24 09:00"), CallOutcome.RANG_OUT)
    assert order.satisfaction is Satisfaction.DEEMED_SATISFIED
    with pytest.raises(InvalidInput) as err:
        attempt(
            flow,
            flow.replied(REPLY_DAY),
            t("2026-11-23 10:30"),
            CallOutcome.ANSWERED_NO_RATING,
            Satisfaction.SATISFIED,
        )
    assert err.value.code == "satisfaction-without-answer"
    end = t("2026-11-26 00:00")
    no_rating = [_a(t("2026-11-24 10:30"), CallOutcome.ANSWERED_NO_RATING)]
    busy = [_a(t("2026-11-24 10:30"), CallOutcome.BUSY)]
    assert next_attempt_at(no_rating, t("2026-11-24 10:31"), end, policy) == t("2026-11-24 11:00")
    assert next_attempt_at(no_rating, t("2026-11-24 10:31"), end, policy) == next_attempt_at(
        busy, t("2026-11-24 10:31"), end, policy
    )


@pytest.fixture(scope="module")
def working_days_only(policy):
    return policy.with_overrides({"revisit_on_non_working_days": False})


def test_by_default_revisit_calls_are_placed_on_holidays_too(policy, calendar):
    # replied Wed Sep 30; the window (2 working days) ends with Fri Oct 9; the centre works 365 days
    end = revisit_window(t("2026-09-30 19:50"), policy, calendar).due_at
    assert end == t("2026-10-10 00:00")
    assert next_attempt_at([], t("2026-09-30 20:05"), end, policy) == t("2026-10-01 08:30")
    assert next_attempt_at([], t("2026-09-30 20:05"), end, policy, calendar) == t("2026-10-01 08:30")


def test_without_non_working_day_calls_national_day_is_skipped(working_days_only, calendar):
    end = revisit_window(t("2026-09-30 19:50"), working_days_only, calendar).due_at
    assert end == t("2026-10-10 00:00")  # the window is the same: counted in working days
    assert next_attempt_at([], t("2026-09-30 19:50"), end, working_days_only, calendar) == t(
        "2026-09-30 19:50"
    )
    # after the evening's ring-out: not Oct 1-7 (holidays), Thu Oct 8 in the morning
    rang = [_a(t("2026-09-30 19:50"), CallOutcome.RANG_OUT, True)]
    assert next_attempt_at(rang, t("2026-09-30 19:51"), end, working_days_only, calendar) == t(
        "2026-10-08 08:30"
    )
    busy = [_a(t("2026-09-30 19:50"), CallOutcome.BUSY)]
    assert next_attempt_at(busy, t("2026-10-03 10:00"), end, working_days_only, calendar) == t(
        "2026-10-08 08:30"
    )
    # a call found due during the holiday (the dialer was down) waits for the next working day
    assert next_attempt_at([], t("2026-10-05 15:00"), end, working_days_only, calendar) == t(
        "2026-10-08 08:30"
    )


def test_without_non_working_day_calls_weekends_are_skipped_and_make_up_days_are_called(
    working_days_only, calendar
):
    # Fri Nov 27 2026 19:00 → Mon Nov 30 08:30; Sat Oct 10 2026 is a make-up working day (调休)
    end = t("2026-12-05 00:00")
    assert next_attempt_at([], t("2026-11-27 20:00"), end, working_days_only, calendar) == t(
        "2026-11-30 08:30"
    )
    assert next_attempt_at([], t("2026-11-28 09:00"), end, working_days_only, calendar) == t(
        "2026-11-30 08:30"
    )
    assert calendar.is_working_day(t("2026-10-10 09:00").date())
    assert next_attempt_at([], t("2026-10-09 20:30"), t("2026-10-14 00:00"), working_days_only, calendar) == (
        t("2026-10-10 08:30")
    )


def test_without_non_working_day_calls_a_window_ending_in_a_holiday_has_no_slot(working_days_only, calendar):
    # the last working day's calling hours are over and only holidays remain before window_end
    end = t("2026-10-05 00:00")
    assert next_attempt_at([], t("2026-09-30 20:00"), end, working_days_only, calendar) is None


def test_without_non_working_day_calls_the_calendar_is_required(working_days_only):
    with pytest.raises(ValueError, match="calendar"):
        next_attempt_at([], t("2026-11-24 09:00"), t("2026-11-26 00:00"), working_days_only)
