"""Where revisit tasks come from: replied orders and the IVR's call-back requests.

**Replied orders — a poller, with a hook for the reply path.** :meth:`TaskIntake.poll_replied`
finds every order in ``replied``/``revisiting`` whose current handling round has no task and
creates it; the insert is idempotent (unique on order and round), so the reply path may call
:meth:`TaskIntake.ensure_task` right after its commit for a task within the second, and the
poller is the guarantee: it needs nothing from the code that replied (API, import, a unit's
system, a crash between the reply's commit and the hook), survives a dialer that was down, and
picks up a re-handled order's next reply (a new round) by itself. A hook alone would lose every
reply made while the dialer or Redis was away.

**Call-back requests** come from the Redis stream ``minhu:callbacks`` (fields ``order_number``
optional, ``caller``, ``requested_at``), read with a consumer group and acknowledged only after
the database commit, so that a crash re-delivers the entry (pending entries are re-claimed). A
request naming an order awaiting a revisit (or, without a number, every such order of the
caller's number) reopens that order's task with a window of ``revisit_window(requested_at)``; a
request with no such order goes to the supervisor's manual list.

**Reconcile** puts back in Redis every scheduled task the schedule lost (Redis restarted empty).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.dialer_models import RevisitTaskRow
from minhu.db.mapping import to_domain
from minhu.db.models import WorkOrderRow
from minhu.services.calendar import CalendarProvider
from workorders.calendar import WorkingCalendar
from workorders.clock import Clock
from workorders.model import WorkOrder
from workorders.policy import PolicyProfile
from workorders.revisit import next_attempt_at, revisit_window

from .outcomes import mask
from .schedule import DialerKeys, RedisSchedule
from .settings import DialerSettings
from .store import DialerStore, ManualReason, SessionScope, TaskSource, TaskState, flag_manual

log = logging.getLogger(__name__)


class TaskIntake:
    def __init__(
        self,
        *,
        redis: aioredis.Redis,
        sessions: SessionScope,
        clock: Clock,
        policy: PolicyProfile,
        calendars: CalendarProvider,
        settings: DialerSettings | None = None,
        consumer: str = "dialer",
    ) -> None:
        self.settings = settings or DialerSettings()
        self.redis = redis
        self.sessions = sessions
        self.clock = clock
        self.policy = policy
        self.calendars = calendars
        self.consumer = consumer
        self.schedule = RedisSchedule(redis, DialerKeys(self.settings.redis_prefix))

    # -- replied orders --------------------------------------------------------------------------

    async def poll_replied(self, limit: int = 500) -> int:
        """Create the missing tasks of replied orders; returns how many were created."""
        created: list[tuple[int, str, datetime | None]] = []
        async with self.sessions() as session:
            try:
                store = DialerStore(session)
                for row in await store.orders_without_task(limit):
                    made = await self._task_for(session, row)
                    if made is not None:
                        created.append(made)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        await self._publish(created)
        return len(created)

    async def ensure_task(self, order_number: str) -> int | None:
        """The reply path's hook: the order's task for its current round (created if missing)."""
        async with self.sessions() as session:
            try:
                row = await _order_row(session, order_number)
                if row is None:
                    return None
                made = await self._task_for(session, row)
                await session.commit()
                if made is None:
                    task = await DialerStore(session).task_for_order(row.id, row.handling_round)
                    return None if task is None else task.id
            except BaseException:
                await session.rollback()
                raise
        await self._publish([made])
        return made[0]

    async def _task_for(
        self, session: AsyncSession, row: WorkOrderRow
    ) -> tuple[int, str, datetime | None] | None:
        order = to_domain(row, self.policy.tz)
        if order.replied_at is None:
            return None
        now = self.clock.now()
        calendar = await self.calendars.get(session)
        window_end = revisit_window(order.replied_at, self.policy, calendar).due_at
        store = DialerStore(session)
        task_id = await store.insert_task(
            order_id=row.id,
            order_number=order.number,
            round_=order.handling_round,
            source=TaskSource.REPLY,
            phone=(order.citizen.phone or "").strip(),
            created_at=now,
            window_end=window_end,
        )
        if task_id is None:
            return None
        task = await store.task(task_id)
        assert task is not None
        due = self._first_due(task, order, max(now, order.replied_at), calendar)
        log.info(
            "revisit task %d for order %s (%s), window until %s",
            task_id,
            order.number,
            mask(task.phone),
            window_end.astimezone(self.policy.tz).isoformat(timespec="minutes"),
        )
        return task.id, task.phone, due

    def _first_due(
        self, task: RevisitTaskRow, order: WorkOrder, earliest: datetime, calendar: WorkingCalendar
    ) -> datetime | None:
        if not task.phone:
            flag_manual(task, ManualReason.NO_PHONE, self.clock.now())
            return None
        due = next_attempt_at(order.attempts_this_round(), earliest, task.window_end, self.policy, calendar)
        if due is None:
            flag_manual(task, ManualReason.WINDOW_CLOSED, self.clock.now())
        task.due_at = due
        return due

    async def _publish(self, created: list[tuple[int, str, datetime | None]]) -> None:
        for task_id, phone, due in created:
            if due is not None:
                await self.schedule.put(task_id, phone, due.timestamp())

    # -- IVR call-back requests ----------------------------------------------------------------

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(
                self.settings.callbacks_stream, self.settings.callbacks_group, id="0", mkstream=True
            )
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def consume_callbacks(self, *, count: int = 100, block_ms: int | None = None) -> int:
        """Read new call-back requests (and re-claim ones a crashed consumer left pending)."""
        await self.ensure_group()
        stream, group = self.settings.callbacks_stream, self.settings.callbacks_group
        entries: list[tuple[Any, dict[Any, Any]]] = []
        claimed: Any = await self.redis.xautoclaim(
            stream, group, self.consumer, min_idle_time=60_000, count=count
        )
        entries.extend(claimed[1] if len(claimed) > 1 else [])
        fresh: Any = await self.redis.xreadgroup(
            group, self.consumer, {stream: ">"}, count=count, block=block_ms
        )
        for _, items in fresh or []:
            entries.extend(items)
        done = 0
        for entry_id, fields in entries:
            if not fields:  # deleted from the stream meanwhile
                await self.redis.xack(stream, group, entry_id)
                continue
            await self._callback({_s(k): _s(v) for k, v in fields.items()})
            await self.redis.xack(stream, group, entry_id)
            done += 1
        return done

    async def _callback(self, fields: dict[str, str]) -> None:
        caller = fields.get("caller", "").strip()
        number = fields.get("order_number", "").strip()
        now = self.clock.now()
        requested_at = _instant(fields.get("requested_at", ""), now, self.policy)
        reopened: list[tuple[int, str, datetime | None]] = []
        async with self.sessions() as session:
            try:
                store = DialerStore(session)
                calendar = await self.calendars.get(session)
                window_end = revisit_window(requested_at, self.policy, calendar).due_at
                if number:
                    row = await _order_row(session, number)
                    rows = [row] if row is not None and row.state in ("replied", "revisiting") else []
                else:
                    rows = await store.revisitable_orders_of(caller) if caller else []
                for row in rows:
                    made = await self._task_for(session, row)
                    if made is not None:
                        reopened.append(made)
                    task = await store.task_for_order(row.id, row.handling_round)
                    if task is None:
                        continue
                    task.callback_requested_at = requested_at
                    if task.state == TaskState.DONE.value:
                        continue
                    task.window_end = max(task.window_end, window_end)
                    task.state = TaskState.SCHEDULED.value
                    task.manual_reason = None
                    task.manual_flagged_at = None
                    due = next_attempt_at(
                        to_domain(row, self.policy.tz).attempts_this_round(),
                        max(now, requested_at),
                        task.window_end,
                        self.policy,
                        calendar,
                    )
                    if due is None:
                        flag_manual(task, ManualReason.WINDOW_CLOSED, now)
                    task.due_at = due
                    reopened.append((task.id, task.phone, due))
                if not rows:
                    if number:
                        log.info("callback for order %s: nothing awaits a revisit", number)
                    task_id = await store.insert_task(
                        order_id=None,
                        order_number=number or None,
                        round_=0,
                        source=TaskSource.IVR_CALLBACK,
                        phone=caller,
                        created_at=now,
                        window_end=window_end,
                    )
                    if task_id is not None:
                        task = await store.task(task_id)
                        assert task is not None
                        task.callback_requested_at = requested_at
                        flag_manual(task, ManualReason.CALLBACK_WITHOUT_ORDER, now)
                        log.info(
                            "callback from %s without an order awaiting a revisit: to an agent", mask(caller)
                        )
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        for task_id, phone, due in reopened:
            if due is not None:
                await self.schedule.put(task_id, phone, due.timestamp())

    # -- reconcile -------------------------------------------------------------------------------

    async def reconcile(self, page: int = 5000) -> int:
        """Put every scheduled task missing from Redis back (due at its recorded time, or now)."""
        restored = 0
        after = 0
        now = self.clock.now().timestamp()
        while True:
            async with self.sessions() as session:
                rows = await DialerStore(session).scheduled_tasks(after, page)
                await session.rollback()
            if not rows:
                return restored
            after = rows[-1].id
            pipe = self.redis.pipeline(transaction=False)
            for row in rows:
                pipe.zscore(self.schedule.keys.due, str(row.id))
                pipe.zscore(self.schedule.keys.leases, str(row.id))
            scores = await pipe.execute()
            for index, row in enumerate(rows):
                if scores[2 * index] is None and scores[2 * index + 1] is None:
                    due = now if row.due_at is None or row.in_flight_attempt else row.due_at.timestamp()
                    if await self.schedule.put(row.id, row.phone, due):
                        restored += 1
                        log.warning("revisit schedule: task %d restored to Redis from the database", row.id)


async def _order_row(session: AsyncSession, number: str) -> WorkOrderRow | None:
    stmt = select(WorkOrderRow).where(WorkOrderRow.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _instant(text: str, default: datetime, policy: PolicyProfile) -> datetime:
    """``requested_at``: ISO 8601 (a naive one is local time) or epoch seconds."""
    if not text:
        return default
    try:
        return datetime.fromtimestamp(float(text), tz=policy.tz)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        log.warning("callback with an unreadable requested_at %r; using now", text)
        return default
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=policy.tz)
