"""The revisit dialer: claims due tasks, places the calls over AMI, records every outcome.

One job per claimed task, in three steps, each its own unit of work so that no database
connection is held during a call:

1. **prepare** — load the task and its order; if the order left the revisit states, finish the
   task; ask the domain (:func:`workorders.revisit.next_attempt_at`) when the next call may be
   placed: later → back to the schedule; never (window closed) → the manual list; on the
   do-not-call list → the manual list; the citizen's daily cap (the profile's
   ``revisit_citizen_daily_call_cap``, all their orders together) reached → tomorrow. Otherwise
   write the attempt with its start time, guarded by a compare-and-set on the task, and commit
   — *before* the Originate is sent, so that the 3-hour rule survives any crash.
2. **call** — Originate ``Local/<number>@minhu-dial-citizen/n`` into the survey context with the
   attempt id as ChannelId and ``MINHU_REVISIT_ID``; an answered call waits for the survey.
3. **complete** — the attempt's outcome and the order's transition (through the work-order
   service, one transaction; two counted ring-outs close the order as 视为满意, a dissatisfied
   answer sends it to re-handling), then the next due time or the end of the task.

A crash anywhere leaves the task leased with, at worst, an attempt in flight. When the lease
expires any dialer takes the task over and resolves that attempt: already on the order → done;
a survey result in Redis → answered; the channel still up (AMI) → look again later; otherwise
the result is unknown: recorded as a failed call (it never counts) and the next call is planned
as if it had rung out — at least the minimum gap later and in another half-day slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.dialer_models import RevisitAttemptRow, RevisitTaskRow
from minhu.services.calendar import CalendarProvider
from minhu.services.errors import ServiceError
from minhu.services.workorders import WorkOrderService
from pbx import dialplan_names as names
from pbx.call_model import CallModel
from pbx.exceptions import AmiActionError, AmiActionTimeoutError, AmiLinkLostError, AmiNotConnectedError
from pbx.manager import OriginateResult
from workorders.calendar import WorkingCalendar
from workorders.clock import Clock
from workorders.enums import CallOutcome, OrderState, Role
from workorders.errors import DomainError
from workorders.lifecycle import revisit_overdue
from workorders.model import Actor, RevisitAttempt, WorkOrder
from workorders.policy import PolicyProfile
from workorders.revisit import next_attempt_at

from .outcomes import REASON_ANSWERED, mask, outcome_of
from .pacing import InboundLoad, NoInboundLoad, Pacer
from .schedule import DialerKeys, RedisSchedule
from .settings import DialerSettings
from .store import DialerStore, ManualReason, SessionScope, TaskState, finish, flag_manual, local_day_bounds
from .survey import SurveyResult

log = logging.getLogger(__name__)

DIALER_ACTOR = Actor("revisit-dialer", Role.SYSTEM, name="回访外呼")
REVISITABLE = frozenset({OrderState.REPLIED, OrderState.REVISITING})
UNKNOWN = "unknown"  # the attempt log's word for a call whose result was lost
ABORTED = "aborted"  # the Originate was never sent
STILL_LIVE_RECHECK = timedelta(seconds=60)
NOT_SENT_RETRY = timedelta(minutes=2)
CONSERVATIVE_NOTE = "（不计入第十七条；下次呼叫按已响铃未接安排）"


class Originator(Protocol):
    """What the dialer needs of :class:`pbx.manager.AmiConnection`."""

    model: CallModel

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int = 1,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        ring_timeout: float = 30.0,
        channel_id: str | None = None,
    ) -> OriginateResult: ...


@dataclass(frozen=True, slots=True)
class Dial:
    """A call about to be (or being) placed."""

    task_id: int
    attempt_id: str
    order_number: str
    phone: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class CallResult:
    outcome: CallOutcome
    log_outcome: str  # the attempt log's word: a CallOutcome, "unknown" or "aborted"
    reason: int | None = None
    survey: SurveyResult | None = None
    note: str = ""

    @property
    def aborted(self) -> bool:
        return self.log_outcome == ABORTED


def plan_next(
    attempts: Sequence[RevisitAttempt],
    unknown_starts: Collection[datetime],
    earliest: datetime,
    window_end: datetime,
    policy: PolicyProfile,
    calendar: WorkingCalendar | None = None,
) -> datetime | None:
    """When the next call may be placed (:func:`workorders.revisit.next_attempt_at`), a lost
    call (``unknown_starts``) counted as if it had rung out: whatever it really was, the next
    call keeps the minimum gap and another half-day slot. ``calendar``: needed when the profile
    does not call on non-working days."""
    if earliest >= window_end:
        return None
    planning = [
        replace(a, outcome=CallOutcome.RANG_OUT, counts_for_art17=True)
        if a.started_at in unknown_starts
        else a
        for a in attempts
    ]
    return next_attempt_at(planning, earliest, window_end, policy, calendar)


class Dialer:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        ami: Originator,
        sessions: SessionScope,
        clock: Clock,
        policy: PolicyProfile,
        calendars: CalendarProvider,
        settings: DialerSettings | None = None,
        inbound: InboundLoad | None = None,
        worker: str | None = None,
    ) -> None:
        self.settings = settings or DialerSettings()
        self.redis = redis
        self.ami = ami
        self.sessions = sessions
        self.clock = clock
        self.policy = policy
        self.calendars = calendars
        self.worker = worker or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.keys = DialerKeys(self.settings.redis_prefix)
        self.schedule = RedisSchedule(redis, self.keys)
        self.pacer = Pacer(redis, self.keys, self.settings, inbound or NoInboundLoad())
        self._jobs: dict[int, asyncio.Task[None]] = {}
        self.dialled = 0
        self._ami_down = False

    # -- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Tick until ``stop`` is set; then stop claiming, drain the calls within
        ``settings.drain_timeout``, cancel what is left. Cancelling ``run`` (a crash, as far as the
        schedule can tell) cancels the calls at once and leaves their leases to expire."""
        stop = stop or asyncio.Event()
        log.info("revisit dialer %s started", self.worker)
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except (OSError, aioredis.RedisError) as exc:
                    log.warning("revisit dialer tick failed, retrying: %s", exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_interval):
                        await stop.wait()
            if self._jobs:
                log.info("revisit dialer %s draining %d calls", self.worker, len(self._jobs))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.drain_timeout):
                    await self.drain()
        finally:
            for job in list(self._jobs.values()):
                job.cancel()
            await asyncio.gather(*self._jobs.values(), return_exceptions=True)
            log.info("revisit dialer %s stopped", self.worker)

    async def tick(self) -> int:
        """One pass: health, lease renewal, recovery of expired leases, claim and start calls."""
        await self._health()
        now = self._ts()
        await self.schedule.renew(
            list(self._jobs), worker=self.worker, lease_until=now + self.settings.lease_seconds
        )
        if not self._ami_ready():
            # no calls can be placed, and the call model cannot tell a live call from a lost one
            return 0
        recovered = await self._recover(now)
        return recovered + await self._claim(now)

    async def drain(self) -> None:
        while self._jobs:
            await asyncio.gather(*list(self._jobs.values()), return_exceptions=True)

    def _ami_ready(self) -> bool:
        ready = bool(getattr(self.ami, "is_connected", True))
        if ready == self._ami_down:
            self._ami_down = not ready
            if ready:
                log.info("revisit dialer %s: AMI connected; dialling", self.worker)
            else:
                log.warning("revisit dialer %s: AMI not connected; no calls until it is", self.worker)
        return ready

    @property
    def in_flight(self) -> int:
        return len(self._jobs)

    def _ts(self) -> float:
        return self.clock.now().timestamp()

    def _lock_ms(self) -> int:
        return int(self.settings.citizen_lock_seconds * 1000)

    async def _health(self) -> None:
        payload = json.dumps(
            {"at": self.clock.now().isoformat(), "in_flight": len(self._jobs), "dialled": self.dialled}
        )
        await self.redis.set(self.keys.health(self.worker), payload, ex=max(1, int(self.settings.health_ttl)))

    async def _claim(self, now: float) -> int:
        free = self.settings.max_channels - len(self._jobs)
        allowed = await self.pacer.allowance(free)
        if allowed <= 0:
            return 0
        ids = await self.schedule.claim(
            now=now,
            lease_until=now + self.settings.lease_seconds,
            limit=allowed,
            worker=self.worker,
            lock_ms=self._lock_ms(),
            busy_delay=self.settings.busy_citizen_delay_seconds,
        )
        await self.pacer.refund(allowed - len(ids))
        for task_id in ids:
            self._spawn(task_id, may_dial=True)
        return len(ids)

    async def _recover(self, now: float) -> int:
        free = self.settings.max_channels - len(self._jobs)
        if free <= 0:
            return 0
        taken = 0
        for task_id in await self.schedule.expired(now, limit=free):
            if task_id in self._jobs:
                continue
            if await self.schedule.take_over(
                task_id,
                worker=self.worker,
                now=now,
                lease_until=now + self.settings.lease_seconds,
                lock_ms=self._lock_ms(),
            ):
                log.warning("revisit retry: task %d recovered from an expired lease", task_id)
                self._spawn(task_id, may_dial=False)
                taken += 1
        return taken

    def _spawn(self, task_id: int, *, may_dial: bool) -> None:
        job = asyncio.create_task(self._job(task_id, may_dial), name=f"revisit-{task_id}")
        self._jobs[task_id] = job

    async def _job(self, task_id: int, may_dial: bool) -> None:
        try:
            async with asyncio.timeout(self.settings.job_timeout):
                await self._work(task_id, may_dial)
        except TimeoutError:
            # the lease is no longer renewed: it expires and the recovery resolves the attempt
            log.error("revisit failure: task %d timed out after %.0f s", task_id, self.settings.job_timeout)
        except asyncio.CancelledError:
            log.warning("revisit cancel: task %d cancelled; its lease will expire", task_id)
            raise
        except Exception:
            log.exception("revisit failure: task %d; its lease will expire", task_id)
        finally:
            self._jobs.pop(task_id, None)

    # -- one task --------------------------------------------------------------------------------

    def _service(self, session: AsyncSession) -> WorkOrderService:
        return WorkOrderService(
            session, clock=self.clock, policy=self.policy, calendars=self.calendars, via="dialer"
        )

    async def _work(self, task_id: int, may_dial: bool) -> None:
        for _ in range(3):
            step = await self._prepare(task_id, may_dial)
            if step is None:
                return
            if not isinstance(step, InFlight):
                await self._call_and_complete(step)
                return
            # an attempt was left in flight (a crash): resolve it, then decide afresh
            result = await self._recover_result(step)
            if result is None:
                log.info(
                    "revisit retry: task %d's call %s is still up; looking again later",
                    task_id,
                    step.attempt_id,
                )
                await self.schedule.release(
                    task_id, worker=self.worker, due=(self.clock.now() + STILL_LIVE_RECHECK).timestamp()
                )
                return
            await self._complete(step, result, release=False)
        log.error("revisit failure: task %d could not be settled", task_id)

    async def _prepare(self, task_id: int, may_dial: bool) -> Dial | InFlight | None:
        async with self.sessions() as session:
            try:
                return await self._prepare_in(session, task_id, may_dial)
            except BaseException:
                await session.rollback()
                raise

    async def _prepare_in(
        self, session: AsyncSession, task_id: int, may_dial: bool
    ) -> Dial | InFlight | None:
        store = DialerStore(session)
        task = await store.task(task_id)
        if task is None or task.state != TaskState.SCHEDULED.value:
            await session.rollback()
            log.info("revisit abort: task %d is not scheduled any more", task_id)
            await self.schedule.release(task_id, worker=self.worker, due=None)
            return None
        if task.in_flight_attempt is not None:
            attempt = await store.attempt(task.in_flight_attempt)
            if attempt is None:  # the compare-and-set committed without its row: impossible by design
                raise RuntimeError(f"task {task_id} names a missing attempt {task.in_flight_attempt}")
            step = InFlight(
                task_id=task.id,
                attempt_id=attempt.attempt_id,
                order_number=task.order_number or "",
                phone=task.phone,
                started_at=attempt.started_at,
            )
            await session.rollback()
            return step
        now = self.clock.now()
        if task.order_number is None:
            flag_manual(task, ManualReason.CALLBACK_WITHOUT_ORDER, now)
            await self._settle(session, task, None)
            return None
        order = (await self._service(session).get(task.order_number, DIALER_ACTOR)).order
        if order.state not in REVISITABLE or order.handling_round != task.round:
            finish(task, str(order.satisfaction or order.state), now)
            log.info("revisit abort: order %s is %s; task %d ends", order.number, order.state, task.id)
            await self._settle(session, task, None)
            return None
        due = await self._next_due(store, task, order, now)
        if due is None:
            await self._settle(session, task, None)
            return None
        if due > now or not may_dial:
            task.due_at = due
            log.info(
                "revisit retry: task %d (order %s) deferred to %s",
                task.id,
                order.number,
                due.astimezone(self.policy.tz).isoformat(timespec="minutes"),
            )
            await self._settle(session, task, due)
            return None
        if not task.phone:
            flag_manual(task, ManualReason.NO_PHONE, now)
            await self._settle(session, task, None)
            return None
        if await store.is_do_not_call(task.phone):
            flag_manual(task, ManualReason.DO_NOT_CALL, now)
            log.info(
                "revisit abort: %s is on the do-not-call list; order %s to an agent",
                mask(task.phone),
                order.number,
            )
            await self._settle(session, task, None)
            return None
        start, end = local_day_bounds(now, self.policy.tz)
        cap = self.policy.revisit_citizen_daily_call_cap
        if await store.citizen_calls_between(task.phone, start, end) >= cap:
            later = await self._next_due(store, task, order, end)
            log.info(
                "revisit retry: %s reached today's call cap; task %d to %s", mask(task.phone), task.id, later
            )
            if later is not None:
                task.due_at = later
            await self._settle(session, task, later)
            return None
        attempt_id = str(uuid.uuid4())
        if not await store.claim_in_flight(task.id, attempt_id):
            await session.rollback()
            log.warning("revisit abort: task %d already has a call in flight elsewhere", task_id)
            await self.schedule.release(
                task_id, worker=self.worker, due=(now + STILL_LIVE_RECHECK).timestamp()
            )
            return None
        store.add_attempt(
            RevisitAttemptRow(
                attempt_id=attempt_id,
                task_id=task.id,
                order_number=order.number,
                phone=task.phone,
                worker=self.worker,
                started_at=now,
                recorded_on_order=False,
                note="",
            )
        )
        await session.commit()  # the start time is on record before anything is dialled
        return Dial(task.id, attempt_id, order.number, task.phone, now)

    async def _settle(self, session: AsyncSession, task: RevisitTaskRow, due: datetime | None) -> None:
        """Commit the task's new state, then put it back in the schedule (or take it out)."""
        task_id = task.id
        if due is None and task.state == TaskState.SCHEDULED.value:
            flag_manual(task, ManualReason.WINDOW_CLOSED, self.clock.now())
        if task.state == TaskState.MANUAL.value:
            log.warning(
                "revisit abort: task %d (order %s) flagged for a manual revisit: %s",
                task_id,
                task.order_number,
                task.manual_reason,
            )
        await session.commit()
        await self.schedule.release(task_id, worker=self.worker, due=None if due is None else due.timestamp())

    async def _next_due(
        self, store: DialerStore, task: RevisitTaskRow, order: WorkOrder, earliest: datetime
    ) -> datetime | None:
        if revisit_overdue(order, earliest):
            return None
        unknown = {row.started_at for row in await store.attempts_of(task.id) if row.outcome == UNKNOWN}
        calendar = await self.calendars.get(store.session)
        return plan_next(
            order.attempts_this_round(), unknown, earliest, task.window_end, self.policy, calendar
        )

    # -- the call --------------------------------------------------------------------------------

    async def _call_and_complete(self, dial: Dial) -> None:
        result = await self._call(dial)
        await self._complete(dial, result, release=True)

    async def _call(self, dial: Dial) -> CallResult:
        await self.redis.hset(
            self.keys.attempt(dial.attempt_id),
            mapping={"order_number": dial.order_number, "task_id": str(dial.task_id), "worker": self.worker},
        )
        await self.redis.expire(self.keys.attempt(dial.attempt_id), self.settings.survey_result_ttl)
        log.info(
            "revisit dial: order %s, %s (attempt %s)", dial.order_number, mask(dial.phone), dial.attempt_id
        )
        self.dialled += 1
        try:
            originated = await self.ami.originate(
                f"Local/{dial.phone}@{self.settings.dial_context}/n",
                context=self.settings.survey_context,
                exten="s",
                priority=1,
                caller_id=self.settings.caller_id,
                variables={names.VAR_REVISIT_ID: dial.attempt_id},
                ring_timeout=self.settings.ring_timeout,
                channel_id=dial.attempt_id,
            )
        except AmiNotConnectedError:
            log.warning("revisit retry: AMI not connected; call for order %s not placed", dial.order_number)
            return CallResult(CallOutcome.FAILED, ABORTED, note="AMI未连接，未外呼")
        except AmiActionError as exc:
            log.warning("revisit failure: the PBX refused the call for order %s: %s", dial.order_number, exc)
            return CallResult(CallOutcome.FAILED, CallOutcome.FAILED.value, note="外呼被拒绝")
        except (AmiLinkLostError, AmiActionTimeoutError) as exc:
            log.warning(
                "revisit failure: result of the call for order %s unknown: %s", dial.order_number, exc
            )
            return await self._unknown_or_survey(dial.attempt_id, note="外呼结果未知")
        outcome = outcome_of(originated.reason)
        if originated.reason != REASON_ANSWERED:
            return CallResult(outcome, outcome.value, reason=originated.reason)
        survey = await self._wait_survey(dial.attempt_id)
        return self._answered(originated.reason, survey)

    async def _wait_survey(self, attempt_id: str) -> SurveyResult | None:
        timeout = max(1, int(self.settings.survey_timeout))
        await self.redis.blpop([self.keys.survey_wake(attempt_id)], timeout=timeout)
        return await self._survey_result(attempt_id)

    async def _survey_result(self, attempt_id: str) -> SurveyResult | None:
        raw: Any = await self.redis.get(self.keys.survey_result(attempt_id))
        return None if raw is None else SurveyResult.from_json(raw)

    @staticmethod
    def _answered(reason: int | None, survey: SurveyResult | None) -> CallResult:
        if survey is not None and survey.satisfaction is not None:
            return CallResult(CallOutcome.ANSWERED, CallOutcome.ANSWERED.value, reason=reason, survey=survey)
        # 接通未评价: never counts towards Art. 17, retried within the window like a busy line
        note = "接通后未完成评价" if survey is not None else "接通后未收到评价结果"
        outcome = CallOutcome.ANSWERED_NO_RATING
        return CallResult(outcome, outcome.value, reason=reason, survey=survey, note=note)

    async def _unknown_or_survey(self, attempt_id: str, note: str) -> CallResult:
        survey = await self._survey_result(attempt_id)
        if survey is not None:
            return self._answered(REASON_ANSWERED, survey)
        return CallResult(CallOutcome.FAILED, UNKNOWN, note=f"{note}{CONSERVATIVE_NOTE}")

    async def _recover_result(self, step: InFlight) -> CallResult | None:
        """The result of a call a crashed dialer left in flight, or None while it is still up."""
        survey = await self._survey_result(step.attempt_id)
        if survey is not None:
            return self._answered(REASON_ANSWERED, survey)
        if step.attempt_id in self.ami.model.channels:
            return None
        return CallResult(CallOutcome.FAILED, UNKNOWN, note=f"外呼程序中断，结果未知{CONSERVATIVE_NOTE}")

    # -- the outcome -------------------------------------------------------------------------------

    async def _complete(self, dial: Dial, result: CallResult, *, release: bool) -> None:
        async with self.sessions() as session:
            try:
                due = await self._complete_in(session, dial, result)
            except BaseException:
                await session.rollback()
                raise
        if release:
            await self.schedule.release(
                dial.task_id, worker=self.worker, due=None if due is None else due.timestamp()
            )
        elif due is None:
            await self.schedule.release(dial.task_id, worker=self.worker, due=None)

    async def _complete_in(self, session: AsyncSession, dial: Dial, result: CallResult) -> datetime | None:
        store = DialerStore(session)
        service = self._service(session)
        now = self.clock.now()
        attempt = await store.attempt(dial.attempt_id)
        task = await store.task(dial.task_id)
        if attempt is None or task is None:
            raise RuntimeError(f"attempt {dial.attempt_id} of task {dial.task_id} is not on record")
        order = (await service.get(dial.order_number, DIALER_ACTOR)).order
        already = any(a.started_at == dial.started_at for a in order.revisit_attempts)

        def log_attempt(
            attempt: RevisitAttemptRow, task: RevisitTaskRow, recorded: bool, extra_note: str = ""
        ) -> None:
            attempt.ended_at = now
            attempt.originate_reason = result.reason
            attempt.outcome = result.log_outcome
            attempt.satisfaction = (
                None
                if result.survey is None or result.survey.satisfaction is None
                else result.survey.satisfaction.value
            )
            attempt.recording = None if result.survey is None else result.survey.recording
            attempt.note = "；".join(n for n in (result.note, extra_note) if n)
            attempt.recorded_on_order = recorded
            task.in_flight_attempt = None

        revisitable = order.state in REVISITABLE and order.handling_round == task.round
        if result.aborted or already or not revisitable:
            log_attempt(attempt, task, already)
            await session.flush()
        else:
            log_attempt(attempt, task, True)
            satisfaction = None
            if result.outcome is CallOutcome.ANSWERED and result.survey is not None:
                satisfaction = result.survey.satisfaction
            try:
                view = await service.record_revisit_attempt(
                    dial.order_number,
                    DIALER_ACTOR,
                    started_at=dial.started_at,
                    outcome=result.outcome,
                    satisfaction=satisfaction,
                    note=result.note,
                )
            except (DomainError, ServiceError) as exc:
                # the service rolled back; keep the call on record without the order's transition
                log.warning("revisit abort: order %s refused the attempt: %s", dial.order_number, exc)
                attempt = await store.attempt(dial.attempt_id)
                task = await store.task(dial.task_id)
                if attempt is None or task is None:
                    raise
                log_attempt(attempt, task, False, f"未记入工单：{exc}")
                order = (await service.get(dial.order_number, DIALER_ACTOR)).order
            else:
                order = view.order
                mine = [a for a in order.revisit_attempts if a.started_at == dial.started_at]
                attempt.counts_for_art17 = mine[-1].counts_for_art17 if mine else None
        self._log_outcome(dial, result, order)
        due: datetime | None
        if result.aborted and order.state in REVISITABLE and order.handling_round == task.round:
            due = await self._next_due(store, task, order, now + NOT_SENT_RETRY)
        elif order.state in REVISITABLE and order.handling_round == task.round:
            due = await self._next_due(store, task, order, now)
        else:
            finish(task, str(order.satisfaction or order.state), now)
            due = None
        if due is None and task.state == TaskState.SCHEDULED.value:
            flag_manual(task, ManualReason.WINDOW_CLOSED, now)
            log.warning(
                "revisit abort: order %s flagged for a manual revisit: the window closed without a result",
                dial.order_number,
            )
        task.due_at = due
        await session.commit()
        return due

    def _log_outcome(self, dial: Dial, result: CallResult, order: WorkOrder) -> None:
        answer = ""
        if result.survey is not None and result.survey.satisfaction is not None:
            answer = f", answer {result.survey.satisfaction}"
        log.info(
            "revisit outcome: order %s, %s: %s%s → order %s%s",
            dial.order_number,
            mask(dial.phone),
            result.log_outcome,
            answer,
            order.state,
            f" ({order.satisfaction})" if order.satisfaction else "",
        )


@dataclass(frozen=True, slots=True)
class InFlight(Dial):
    """A call a previous job left without a result."""
