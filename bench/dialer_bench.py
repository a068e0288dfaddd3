"""The revisit dialer: scheduling cost, originate rate, and a month of revisits checked rule by rule.

Figures:

* ``dialer_select_ms_per_100``: one atomic claim (the Lua script: due tasks → lease set, citizen
  locks taken) of a batch of 100 due tasks with 1,000,000 pending tasks in the Redis schedule,
  round trip included; the median of 200 claims.
* ``dialer_redis_mb_per_million``: Redis ``used_memory`` growth for 1,000,000 scheduled tasks
  (the sorted-set entry and the per-task hash).
* ``dialer_originates_per_s``: sustained rate of 60 concurrent "channels" against the simulated
  PBX over AMI, each one claiming a task from the Redis schedule, placing the Originate (the
  citizen's phone rings out after 1 s of call time at a time scale of 0.005) and rescheduling it;
  the database writes of the real dialer are not part of this figure.
* ``dialer_rule_violations``: a simulated month of 100,000 revisits on an injected clock, each
  replied at a random moment, every call placed at the time the dialer's planner gives
  (:func:`callback_dialer.dialer.plan_next`), with random outcomes (answered with a key, rang
  out, busy, congestion, unreachable, failed, and calls whose result was lost in a crash),
  recorded through the domain (``record_revisit_attempt``). Every attempt is checked against
  the rules — inside calling hours, inside the 2-working-day window, the per-order daily cap,
  the retry wait after a call that did not connect, at least the minimum gap and another
  half-day slot after a counted ring-out (and after a lost call), 视为满意 only after two counted
  ring-outs — and each breach is one violation. Must be 0.

Redis: ``MINHU_BENCH_REDIS_URL`` (default: ``MINHU_TEST_REDIS_URL`` or redis://127.0.0.1:6379/15);
keys live under a unique prefix and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from callback_dialer.dialer import DIALER_ACTOR, plan_next
from callback_dialer.schedule import DialerKeys, RedisSchedule
from minhu.calendar_source import build_calendar
from minhu.policy import load_profile
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.scenarios import RingsOut, Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings
from workorders import lifecycle as lc
from workorders.calendar import WorkingCalendar
from workorders.clock import FixedClock
from workorders.enums import CallOutcome, Category, Channel, OrderState, RequestKind, Satisfaction
from workorders.model import Citizen, RevisitAttempt, WorkOrder
from workorders.policy import PolicyProfile
from workorders.revisit import half_day_slot, in_calling_hours, revisit_window

SH = ZoneInfo("Asia/Shanghai")


def _redis_url() -> str:
    return (
        os.environ.get("MINHU_BENCH_REDIS_URL")
        or os.environ.get("MINHU_TEST_REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )


async def _delete_prefix(client: aioredis.Redis, prefix: str) -> None:
    batch: list[bytes] = []
    async for key in client.scan_iter(match=f"{prefix}*", count=10_000):
        batch.append(key)
        if len(batch) >= 10_000:
            await client.unlink(*batch)
            batch.clear()
    if batch:
        await client.unlink(*batch)


# --- scheduling cost --------------------------------------------------------------------------


async def _schedule_bench(pending: int = 1_000_000, claims: int = 200) -> dict[str, float]:
    client = aioredis.from_url(_redis_url())
    prefix = f"minhu-bench:dialer:{uuid.uuid4().hex[:8]}"
    schedule = RedisSchedule(client, DialerKeys(prefix))
    try:
        await client.memory_purge()
    except aioredis.ResponseError:
        pass
    before = int((await client.info("memory"))["used_memory"])
    now = datetime(2026, 11, 24, 10, 0, tzinfo=SH).timestamp()
    rng = random.Random(3)
    try:
        chunk = 10_000
        for start in range(0, pending, chunk):
            items = [
                (task_id, f"1{rng.randrange(30, 99)}{task_id:08d}", now + rng.uniform(-86_400, 86_400))
                for task_id in range(start + 1, min(pending, start + chunk) + 1)
            ]
            await schedule.put_many(items)
        after = int((await client.info("memory"))["used_memory"])
        mb_per_million = (after - before) / 1e6 * (1_000_000 / pending)
        timings: list[float] = []
        for i in range(claims):
            t0 = time.perf_counter()
            got = await schedule.claim(
                now=now,
                lease_until=now + 600,
                limit=100,
                worker=f"bench-{i % 2}",
                lock_ms=900_000,
                busy_delay=300,
            )
            timings.append((time.perf_counter() - t0) * 1000)
            assert len(got) == 100, len(got)
        return {
            "dialer_select_ms_per_100": statistics.median(timings),
            "dialer_redis_mb_per_million": mb_per_million,
        }
    finally:
        await _delete_prefix(client, prefix)
        await client.aclose()


# --- originate rate -----------------------------------------------------------------------------


async def _originate_bench(channels: int = 60, seconds: float = 6.0, scale: float = 0.005) -> float:
    client = aioredis.from_url(_redis_url())
    prefix = f"minhu-bench:dialer:{uuid.uuid4().hex[:8]}"
    schedule = RedisSchedule(client, DialerKeys(prefix))
    simulator = AmiSimulator(
        None, SimulatorSettings(time_scale=scale), scenario=Scenario(default_behaviour=RingsOut())
    )
    port = await simulator.start()
    ami = AmiConnection(AmiSettings("127.0.0.1", port, "hotline", "hotline-secret", ping_interval=60))
    await ami.start()
    tasks = channels * 20
    base = time.time()
    await schedule.put_many([(i, f"139{i:08d}", base) for i in range(1, tasks + 1)])
    done = 0
    stop_at = 0.0

    async def channel(worker: str) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            now = time.time()
            ids = await schedule.claim(
                now=now, lease_until=now + 600, limit=1, worker=worker, lock_ms=60_000, busy_delay=1
            )
            if not ids:
                await asyncio.sleep(0.001)
                continue
            task_id = ids[0]
            result = await ami.originate(
                f"Local/139{task_id:08d}@minhu-dial-citizen/n",
                context="minhu-revisit-survey",
                exten="s",
                ring_timeout=1.0,
                channel_id=str(uuid.uuid4()),
            )
            assert result.reason == 3
            await schedule.release(task_id, worker=worker, due=time.time())
            done += 1

    try:
        await ami.wait_connected(5)
        stop_at = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(channel(f"w{i}") for i in range(channels)))
        done = 0
        t0 = time.perf_counter()
        stop_at = t0 + seconds
        await asyncio.gather(*(channel(f"w{i}") for i in range(channels)))
        return done / (time.perf_counter() - t0)
    finally:
        await ami.stop()
        await simulator.stop()
        await _delete_prefix(client, prefix)
        await client.aclose()


# --- a month of revisits, every attempt checked ----------------------------------------------


@dataclass
class _Revisit:
    order: WorkOrder
    window_end: datetime
    unknown: set[datetime] = field(default_factory=set)


OUTCOMES = (
    (CallOutcome.ANSWERED, 0.31),
    (CallOutcome.ANSWERED_NO_RATING, 0.04),
    (CallOutcome.RANG_OUT, 0.30),
    (CallOutcome.BUSY, 0.12),
    (CallOutcome.REJECTED, 0.04),
    (CallOutcome.CONGESTION, 0.04),
    (CallOutcome.UNREACHABLE, 0.04),
    (CallOutcome.FAILED, 0.06),
    (None, 0.05),  # the dialer crashed: result unknown
)


def _replied_order(
    number: str, replied_at: datetime, policy: PolicyProfile, calendar: WorkingCalendar
) -> WorkOrder:
    window = revisit_window(replied_at, policy, calendar)
    return WorkOrder(
        number=number,
        channel=Channel.PHONE,
        kind=RequestKind.COMPLAINT,
        category=Category.B,
        content="bench",
        citizen=Citizen("市民", "13800138000"),
        received_at=replied_at - timedelta(days=3),
        registered_at=replied_at - timedelta(days=3),
        registered_by="bench",
        state=OrderState.REPLIED,
        replied_at=replied_at,
        revisit_due_at=window.due_at,
    )


def _check(
    attempt_at: datetime,
    previous: list[RevisitAttempt],
    unknown: set[datetime],
    window_end: datetime,
    policy: PolicyProfile,
) -> int:
    """Violations of placing a call at ``attempt_at`` after ``previous`` (this round)."""
    bad = 0
    if not in_calling_hours(attempt_at, policy):
        bad += 1
    if attempt_at >= window_end:
        bad += 1
    day = attempt_at.astimezone(policy.tz).date()
    if (
        sum(1 for a in previous if a.started_at.astimezone(policy.tz).date() == day)
        >= policy.revisit_daily_attempt_cap
    ):
        bad += 1
    if previous:
        last = max(previous, key=lambda a: a.started_at)
        if last.outcome is not CallOutcome.RANG_OUT and attempt_at - last.started_at < timedelta(
            minutes=policy.revisit_retry_after_failure_minutes
        ):
            bad += 1
    gap = timedelta(minutes=policy.revisit_min_gap_minutes)
    for a in previous:
        if a.counts_for_art17 or a.started_at in unknown:
            if attempt_at - a.started_at < gap or half_day_slot(attempt_at, policy) == half_day_slot(
                a.started_at, policy
            ):
                bad += 1
    return bad


def rule_simulation(revisits: int = 100_000, seed: int = 11) -> tuple[int, int]:
    """(violations, attempts) over a simulated month."""
    rng = random.Random(seed)
    policy = load_profile()
    calendar = build_calendar()
    clock = FixedClock(datetime(2026, 9, 1, tzinfo=SH))
    month = 30 * 24 * 60
    queue: list[tuple[datetime, int]] = []
    state: dict[int, _Revisit] = {}
    for i in range(revisits):
        replied_at = datetime(2026, 9, 1, tzinfo=SH) + timedelta(minutes=rng.randrange(month))
        order = _replied_order(f"B{i:07d}", replied_at, policy, calendar)
        assert order.revisit_due_at is not None
        state[i] = _Revisit(order, order.revisit_due_at)
        due = plan_next((), (), replied_at, order.revisit_due_at, policy, calendar)
        if due is not None:
            heapq.heappush(queue, (due, i))
    weights = [w for _, w in OUTCOMES]
    choices = [o for o, _ in OUTCOMES]
    violations = attempts = 0
    while queue:
        due, i = heapq.heappop(queue)
        clock.set(due)
        revisit = state[i]
        order = revisit.order
        previous = list(order.attempts_this_round())
        violations += _check(due, previous, revisit.unknown, revisit.window_end, policy)
        attempts += 1
        outcome = rng.choices(choices, weights)[0]
        satisfaction = None
        if outcome is None:
            revisit.unknown.add(due)
            outcome = CallOutcome.FAILED
        elif outcome is CallOutcome.ANSWERED:
            satisfaction = rng.choice(
                [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED, Satisfaction.DISSATISFIED]
            )
        ended = due + timedelta(seconds=rng.randrange(20, 200))
        clock.set(ended)
        ctx = lc.Context(at=clock.now(), policy=policy, calendar=calendar, via="dialer")
        order = lc.record_revisit_attempt(
            order, DIALER_ACTOR, ctx, started_at=due, outcome=outcome, satisfaction=satisfaction
        ).order
        revisit.order = order
        if order.state is OrderState.CLOSED and order.satisfaction is Satisfaction.DEEMED_SATISFIED:
            counted = [a for a in order.attempts_this_round() if a.counts_for_art17]
            if len(counted) < policy.deemed_satisfied_after_rang_out or any(
                a.outcome is CallOutcome.ANSWERED for a in order.attempts_this_round()
            ):
                violations += 1
        if order.state is not OrderState.REVISITING:
            continue
        nxt = plan_next(
            order.attempts_this_round(), revisit.unknown, clock.now(), revisit.window_end, policy, calendar
        )
        if nxt is not None:
            if nxt < clock.now():
                violations += 1
            heapq.heappush(queue, (nxt, i))
    return violations, attempts


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    figures.update(asyncio.run(_schedule_bench()))
    figures["dialer_originates_per_s"] = asyncio.run(_originate_bench())
    violations, _attempts = rule_simulation()
    figures["dialer_rule_violations"] = float(violations)
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
