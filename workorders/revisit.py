"""Revisit rules (Art. 16-17): the window, calling hours, half-day slots and 视为满意.

Only a call that rang out unanswered counts towards Art. 17; two such calls at different times
(never in the same half-day slot) at least ``revisit_min_gap_minutes`` apart make the citizen
deemed satisfied. Busy, rejected, congested or failed calls, and calls answered without a rating
(接通未评价), are retried but never count.

Calls are placed on any day unless the profile's ``revisit_on_non_working_days`` is false; then
:func:`next_attempt_at` needs the working-day calendar and skips weekends and public holidays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from workorders.calendar import WorkingCalendar
from workorders.enums import CallOutcome
from workorders.model import RevisitAttempt
from workorders.periods import Deadline, period_end, require_aware
from workorders.policy import PolicyProfile


class HalfDay(StrEnum):
    MORNING = "am"
    AFTERNOON = "pm"


@dataclass(frozen=True, slots=True)
class Slot:
    day: date
    half: HalfDay


def half_day_slot(at: datetime, policy: PolicyProfile) -> Slot:
    local = require_aware(at).astimezone(policy.tz)
    half = HalfDay.MORNING if local.time() < policy.half_day_boundary else HalfDay.AFTERNOON
    return Slot(local.date(), half)


def in_calling_hours(at: datetime, policy: PolicyProfile) -> bool:
    local = require_aware(at).astimezone(policy.tz).time()
    return policy.revisit_calling_start <= local < policy.revisit_calling_end


def revisit_window(replied_at: datetime, policy: PolicyProfile, calendar: WorkingCalendar) -> Deadline:
    """The centre must revisit within ``revisit_period`` of the unit's reply (Art. 16)."""
    return period_end(replied_at, policy.revisit_period, calendar, policy.tz)


def counts_after(previous: Sequence[RevisitAttempt], at: datetime, policy: PolicyProfile) -> bool:
    """Would a rang-out call started at ``at`` count towards Art. 17, given earlier attempts?"""
    counted = [a for a in previous if a.counts_for_art17]
    if not counted:
        return True
    last = max(counted, key=lambda a: a.started_at)
    gap_ok = at - last.started_at >= timedelta(minutes=policy.revisit_min_gap_minutes)
    return gap_ok and half_day_slot(at, policy) != half_day_slot(last.started_at, policy)


def deemed_satisfied(attempts: Sequence[RevisitAttempt], policy: PolicyProfile) -> bool:
    """视为满意: enough counted rang-out calls and no answer from the citizen."""
    if any(a.outcome is CallOutcome.ANSWERED for a in attempts):
        return False
    return sum(1 for a in attempts if a.counts_for_art17) >= policy.deemed_satisfied_after_rang_out


def next_attempt_at(
    attempts: Sequence[RevisitAttempt],
    earliest: datetime,
    window_end: datetime,
    policy: PolicyProfile,
    calendar: WorkingCalendar | None = None,
) -> datetime | None:
    """The earliest moment at or after ``earliest`` a dialer may call again, or None if none is left.

    It lies inside calling hours, before ``window_end``, respects the per-day attempt cap, waits
    ``revisit_retry_after_failure_minutes`` after a call that did not connect (or was answered
    without a rating), and, once a call has rung out, lies at least the minimum gap later and in
    another half-day slot, so that a second ring-out counts. When the profile does not call on
    non-working days it lies on a working day of ``calendar`` (required then).
    """
    require_aware(earliest, "earliest")
    working_days_only = not policy.revisit_on_non_working_days
    if working_days_only and calendar is None:
        raise ValueError("next_attempt_at needs the calendar when revisit_on_non_working_days is false")
    candidate = earliest
    if attempts:
        last = max(attempts, key=lambda a: a.started_at)
        if last.outcome is not CallOutcome.RANG_OUT:
            candidate = max(
                candidate, last.started_at + timedelta(minutes=policy.revisit_retry_after_failure_minutes)
            )
    counted = [a for a in attempts if a.counts_for_art17]
    tz = policy.tz
    for _ in range(64):  # a window is a few days; each pass moves to a later slot or day
        if candidate >= window_end:
            return None
        local = candidate.astimezone(tz)
        start = datetime.combine(local.date(), policy.revisit_calling_start, tzinfo=tz)
        end = datetime.combine(local.date(), policy.revisit_calling_end, tzinfo=tz)
        if local < start:
            candidate = start
            continue
        if local >= end:
            candidate = datetime.combine(
                local.date() + timedelta(days=1), policy.revisit_calling_start, tzinfo=tz
            )
            continue
        if working_days_only and calendar is not None and not calendar.is_working_day(local.date()):
            day, last_day = local.date() + timedelta(days=1), window_end.astimezone(tz).date()
            while day <= last_day and not calendar.is_working_day(day):  # a long holiday in one step
                day += timedelta(days=1)
            candidate = datetime.combine(day, policy.revisit_calling_start, tzinfo=tz)
            continue
        day_count = sum(1 for a in attempts if a.started_at.astimezone(tz).date() == local.date())
        if day_count >= policy.revisit_daily_attempt_cap:
            candidate = datetime.combine(
                local.date() + timedelta(days=1), policy.revisit_calling_start, tzinfo=tz
            )
            continue
        if counted:
            last_counted = max(counted, key=lambda a: a.started_at)
            min_at = last_counted.started_at + timedelta(minutes=policy.revisit_min_gap_minutes)
            if candidate < min_at:
                candidate = min_at
                continue
            if half_day_slot(candidate, policy) == half_day_slot(last_counted.started_at, policy):
                candidate = _next_slot_start(candidate, policy)
                continue
        if candidate >= window_end:
            return None
        return candidate
    return None


def _next_slot_start(at: datetime, policy: PolicyProfile) -> datetime:
    tz = policy.tz
    local = at.astimezone(tz)
    if local.time() < policy.half_day_boundary:
        return datetime.combine(local.date(), policy.half_day_boundary, tzinfo=tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=tz)
