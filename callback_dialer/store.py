"""The database side of the dialer: revisit tasks, the attempt log, the do-not-call list and the
supervisor's manual-revisit list. Repositories never commit; the dialer's units of work do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minhu.db.dialer_models import DoNotCallRow, RevisitAttemptRow, RevisitTaskRow
from minhu.db.models import WorkOrderRow
from workorders.enums import OrderState

from .outcomes import mask

SessionScope = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""A unit of work's session: a fresh one per call in production, the test's shared one in tests."""

REVISITABLE = (OrderState.REPLIED.value, OrderState.REVISITING.value)


def session_scope(factory: async_sessionmaker[AsyncSession]) -> SessionScope:
    """Production: one new session per unit of work."""

    @asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    return scope


class TaskState(StrEnum):
    SCHEDULED = "scheduled"  # in the Redis schedule (due or leased)
    DONE = "done"  # the order got its result (or left the revisit states)
    MANUAL = "manual"  # 转人工回访: a supervisor's list


class ManualReason(StrEnum):
    """Why a revisit went to an agent (转人工回访原因)."""

    WINDOW_CLOSED = "window_closed"  # 回访期限届满仍无结果
    DO_NOT_CALL = "do_not_call"  # 免打扰名单
    NO_PHONE = "no_phone"  # 无联系电话
    CALLBACK_WITHOUT_ORDER = "callback_without_order"  # 来电预约回拨，未关联待回访工单


class TaskSource(StrEnum):
    REPLY = "reply"
    IVR_CALLBACK = "ivr_callback"


@dataclass(frozen=True, slots=True)
class ManualRevisit:
    """One line of the supervisor's manual-revisit list (the number masked)."""

    task_id: int
    order_number: str | None
    phone_masked: str
    reason: str
    flagged_at: datetime
    window_end: datetime
    attempts: int


class DialerStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- tasks -------------------------------------------------------------------------------

    async def insert_task(
        self,
        *,
        order_id: int | None,
        order_number: str | None,
        round_: int,
        source: TaskSource,
        phone: str,
        created_at: datetime,
        window_end: datetime,
    ) -> int | None:
        """Insert a scheduled task; None when one exists for (order, round) already."""
        values: dict[str, Any] = {
            "order_id": order_id,
            "order_number": order_number,
            "round": round_,
            "source": source.value,
            "phone": phone,
            "state": TaskState.SCHEDULED.value,
            "created_at": created_at,
            "window_end": window_end,
        }
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(RevisitTaskRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["order_id", "round"])
            .returning(RevisitTaskRow.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def task(self, task_id: int, *, for_update: bool = False) -> RevisitTaskRow | None:
        stmt = select(RevisitTaskRow).where(RevisitTaskRow.id == task_id)
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def task_for_order(self, order_id: int, round_: int) -> RevisitTaskRow | None:
        stmt = (
            select(RevisitTaskRow)
            .where(RevisitTaskRow.order_id == order_id, RevisitTaskRow.round == round_)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def orders_without_task(self, limit: int) -> list[WorkOrderRow]:
        """Replied (or being revisited) orders whose current round has no task yet."""
        missing = ~exists().where(
            and_(
                RevisitTaskRow.order_id == WorkOrderRow.id,
                RevisitTaskRow.round == WorkOrderRow.handling_round,
            )
        )
        stmt = (
            select(WorkOrderRow)
            .where(WorkOrderRow.state.in_(REVISITABLE), missing)
            .order_by(WorkOrderRow.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def revisitable_orders_of(self, phone: str) -> list[WorkOrderRow]:
        stmt = select(WorkOrderRow).where(
            WorkOrderRow.citizen_phone == phone, WorkOrderRow.state.in_(REVISITABLE)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def scheduled_tasks(
        self, after_id: int, limit: int
    ) -> Sequence[Row[int, str, datetime | None, str | None]]:
        """(id, phone, due_at, in_flight_attempt) of scheduled tasks, by id, for a reconcile."""
        stmt = (
            select(
                RevisitTaskRow.id,
                RevisitTaskRow.phone,
                RevisitTaskRow.due_at,
                RevisitTaskRow.in_flight_attempt,
            )
            .where(RevisitTaskRow.state == TaskState.SCHEDULED.value, RevisitTaskRow.id > after_id)
            .order_by(RevisitTaskRow.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).all()

    async def claim_in_flight(self, task_id: int, attempt_id: str) -> bool:
        """Compare-and-set: the task has no call in flight; now ``attempt_id`` is. The database's
        own guard against two dialers calling for one task, whatever Redis says."""
        stmt = (
            update(RevisitTaskRow)
            .where(
                RevisitTaskRow.id == task_id,
                RevisitTaskRow.in_flight_attempt.is_(None),
                RevisitTaskRow.state == TaskState.SCHEDULED.value,
            )
            .values(in_flight_attempt=attempt_id, due_at=None)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0) == 1)

    # -- attempts ----------------------------------------------------------------------------

    def add_attempt(self, row: RevisitAttemptRow) -> None:
        self.session.add(row)

    async def attempt(self, attempt_id: str) -> RevisitAttemptRow | None:
        stmt = select(RevisitAttemptRow).where(RevisitAttemptRow.attempt_id == attempt_id)
        stmt = stmt.execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def attempts_of(self, task_id: int) -> list[RevisitAttemptRow]:
        stmt = (
            select(RevisitAttemptRow)
            .where(RevisitAttemptRow.task_id == task_id)
            .order_by(RevisitAttemptRow.started_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def citizen_calls_between(self, phone: str, start: datetime, end: datetime) -> int:
        """Calls placed to this number in [start, end), all orders together (aborted ones not)."""
        stmt = select(func.count()).where(
            RevisitAttemptRow.phone == phone,
            RevisitAttemptRow.started_at >= start,
            RevisitAttemptRow.started_at < end,
            func.coalesce(RevisitAttemptRow.outcome, "") != "aborted",
        )
        return int((await self.session.execute(stmt)).scalar_one())

    # -- do-not-call -------------------------------------------------------------------------

    async def is_do_not_call(self, phone: str) -> bool:
        stmt = select(exists().where(DoNotCallRow.phone == phone.strip()))
        return bool((await self.session.execute(stmt)).scalar())

    async def add_do_not_call(self, phone: str, *, at: datetime, by: str, reason: str = "") -> None:
        if not await self.is_do_not_call(phone):
            self.session.add(DoNotCallRow(phone=phone.strip(), reason=reason, added_at=at, added_by=by))

    # -- the supervisor's list ---------------------------------------------------------------

    async def manual_revisits(self, *, limit: int = 200) -> list[ManualRevisit]:
        """转人工回访: revisits the dialer could not finish, oldest flag first."""
        attempts = (
            select(func.count())
            .where(RevisitAttemptRow.task_id == RevisitTaskRow.id)
            .correlate(RevisitTaskRow)
            .scalar_subquery()
        )
        stmt = (
            select(RevisitTaskRow, attempts)
            .where(RevisitTaskRow.state == TaskState.MANUAL.value)
            .order_by(RevisitTaskRow.manual_flagged_at, RevisitTaskRow.id)
            .limit(limit)
        )
        out: list[ManualRevisit] = []
        for task, count in (await self.session.execute(stmt)).all():
            out.append(
                ManualRevisit(
                    task_id=task.id,
                    order_number=task.order_number,
                    phone_masked=mask(task.phone),
                    reason=task.manual_reason or "",
                    flagged_at=task.manual_flagged_at or task.created_at,
                    window_end=task.window_end,
                    attempts=int(count),
                )
            )
        return out


def flag_manual(task: RevisitTaskRow, reason: ManualReason, at: datetime) -> None:
    task.state = TaskState.MANUAL.value
    task.manual_reason = reason.value
    task.manual_flagged_at = at
    task.due_at = None


def finish(task: RevisitTaskRow, result: str, at: datetime) -> None:
    task.state = TaskState.DONE.value
    task.result = result
    task.finished_at = at
    task.due_at = None


def local_day_bounds(at: datetime, tz: Any) -> tuple[datetime, datetime]:
    local = at.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)
