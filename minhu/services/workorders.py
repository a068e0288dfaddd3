"""The work-order service: each command loads the order, calls the domain's transition with the
clock's ``now``, and stores the new state with its audit entry in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from functools import partial
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from minhu.calendar_source import coverage
from minhu.db.mapping import apply_to_row, row_values, to_domain, unit_id_of
from minhu.db.models import AuditRow, WorkOrderRow
from minhu.db.repositories.audit import AuditRepository, transition_values
from minhu.db.repositories.directory import UnitRepository
from minhu.db.repositories.orders import OrderFilter, OrderRepository
from workorders import lifecycle
from workorders.clock import Clock
from workorders.enums import (
    CallOutcome,
    Category,
    Channel,
    ContactPurpose,
    NotAcceptedReason,
    OrderState,
    RequestKind,
    Role,
    Satisfaction,
)
from workorders.errors import IllegalTransition
from workorders.lifecycle import Context
from workorders.model import Actor, Citizen, Transition, WorkOrder
from workorders.periods import Deadline
from workorders.policy import PolicyProfile

from .calendar import CalendarProvider
from .errors import Conflict, Forbidden, NotFound, UnknownReference


def mask_phone(phone: str | None) -> str | None:
    """``13812341234`` → ``138****1234``: what a unit handler sees of the citizen's number."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as one viewer may see it (the citizen's phone masked for unit handlers)."""

    id: int
    order: WorkOrder
    overdue: bool
    phone_masked: bool


@dataclass(frozen=True, slots=True)
class OrderPage:
    items: list[OrderView]
    offset: int
    limit: int
    has_more: bool
    total: int | None


@dataclass(frozen=True, slots=True)
class SummaryPage:
    """A list page as plain rows of :data:`~minhu.db.repositories.orders.SUMMARY_COLUMNS`, with
    what presenting them needs: the moment for the overdue flag, the timezone, and whether the
    viewer sees the citizen's phone masked."""

    rows: Sequence[Sequence[Any]]
    offset: int
    limit: int
    has_more: bool
    total: int | None
    at: datetime
    tz: tzinfo
    phone_masked: bool


@dataclass(frozen=True, slots=True)
class DeadlinePreview:
    category: Category
    channel: Channel
    start: datetime
    period: str
    period_label_zh: str
    deadline: Deadline
    warning_zh: str | None


Action = Callable[[WorkOrder, Actor, Context], Transition]

# Stands in for the order number while the domain checks a new request (see ``_create``).
PROVISIONAL_NUMBER = "00000000-000000"


class WorkOrderService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        policy: PolicyProfile,
        calendars: CalendarProvider,
        via: str = "api",
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._calendars = calendars
        self._via = via
        self._orders = OrderRepository(session)
        self._audit = AuditRepository(session)
        self._units = UnitRepository(session)

    @property
    def tz(self) -> tzinfo:
        return self._policy.tz

    def now(self) -> datetime:
        return self._clock.now()

    async def _context(self) -> Context:
        calendar = await self._calendars.get(self._session)
        return Context(at=self._clock.now(), policy=self._policy, calendar=calendar, via=self._via)

    # -- reading -----------------------------------------------------------------------------

    def _view(self, row: WorkOrderRow | Row[Any], viewer: Actor, at: datetime) -> OrderView:
        return self._view_of(row.id, to_domain(row, self.tz), viewer, at)

    @staticmethod
    def _view_of(order_id: int, order: WorkOrder, viewer: Actor, at: datetime) -> OrderView:
        masked = viewer.role is Role.UNIT_HANDLER
        if masked:
            order = replace(
                order, citizen=Citizen(name=order.citizen.name, phone=mask_phone(order.citizen.phone))
            )
        return OrderView(id=order_id, order=order, overdue=order.is_overdue(at), phone_masked=masked)

    async def _outside_transaction(self) -> bool:
        """On PostgreSQL, run this request's statements each in its own implicit transaction:
        no ``BEGIN`` and ``COMMIT``/``ROLLBACK`` round trips around them.

        Only for requests made of reads (under READ COMMITTED every statement takes its own
        snapshot anyway) or of statements that are each complete on their own (registration:
        the order with its number and audit entry in one statement). Only when the
        session checks out its own connection: a session bound to a caller's connection and
        transaction (the test suite's) keeps it. True when the statements will autocommit.
        """
        session = self._session
        bind = session.bind
        if (
            isinstance(bind, AsyncEngine)
            and bind.dialect.name == "postgresql"
            and not session.in_transaction()
        ):
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return True
        return False

    async def _visible_row(self, number: str, viewer: Actor, *, for_update: bool = False) -> WorkOrderRow:
        row = await self._orders.get(number, for_update=for_update)
        if row is None:
            raise NotFound("order-not-found", f"工单{number}不存在", number=number)
        if viewer.role is Role.UNIT_HANDLER and not for_update:
            if viewer.unit_id is None or not await self._orders.involves_unit(
                row.id, unit_id_of(viewer.unit_id)
            ):
                raise Forbidden("not-your-unit", "该工单未交办给本单位，无权查看", number=number)
        return row

    async def get(self, number: str, viewer: Actor) -> OrderView:
        await self._outside_transaction()
        row = await self._visible_row(number, viewer)
        return self._view(row, viewer, self._clock.now())

    @staticmethod
    def _scoped(viewer: Actor, f: OrderFilter) -> OrderFilter:
        """A unit handler's lists are always their own unit's."""
        if viewer.role is Role.UNIT_HANDLER:
            if viewer.unit_id is None:
                raise Forbidden("no-unit", "承办人账号未关联网络单位")
            return replace(f, unit_id=unit_id_of(viewer.unit_id))
        return f

    async def list_summaries(
        self, viewer: Actor, f: OrderFilter, *, offset: int, limit: int, with_total: bool = False
    ) -> SummaryPage:
        """A list page of order summaries (what a list shows; the whole order is :meth:`get`)."""
        f = self._scoped(viewer, f)
        await self._outside_transaction()
        rows = await self._orders.list_summaries(f, offset=offset, limit=limit + 1)
        total = await self._orders.count(f) if with_total else None
        return SummaryPage(
            rows=rows[:limit],
            offset=offset,
            limit=limit,
            has_more=len(rows) > limit,
            total=total,
            at=self._clock.now(),
            tz=self.tz,
            phone_masked=viewer.role is Role.UNIT_HANDLER,
        )

    async def list_orders(
        self, viewer: Actor, f: OrderFilter, *, offset: int, limit: int, with_total: bool = False
    ) -> OrderPage:
        f = self._scoped(viewer, f)
        rows = await self._orders.list(f, offset=offset, limit=limit + 1)
        now = self._clock.now()
        total = await self._orders.count(f) if with_total else None
        return OrderPage(
            items=[self._view(r, viewer, now) for r in rows[:limit]],
            offset=offset,
            limit=limit,
            has_more=len(rows) > limit,
            total=total,
        )

    async def audit_trail(self, number: str, viewer: Actor) -> list[AuditRow]:
        await self._outside_transaction()
        row = await self._visible_row(number, viewer)
        return await self._audit.for_order(row.id)

    async def deadline_preview(
        self, category: Category, channel: Channel, start: datetime
    ) -> DeadlinePreview:
        calendar = await self._calendars.get(self._session)
        period = self._policy.handling_period(category, channel)
        deadline = lifecycle.handling_deadline(category, channel, start, self._policy, calendar)
        years = range(start.astimezone(self.tz).year, deadline.due_at.astimezone(self.tz).year + 1)
        return DeadlinePreview(
            category=category,
            channel=channel,
            start=start.astimezone(self.tz),
            period=str(period),
            period_label_zh=period.label_zh,
            deadline=replace(deadline, due_at=deadline.due_at.astimezone(self.tz)),
            warning_zh=coverage(calendar, years).warning_zh if deadline.estimated else None,
        )

    # -- intake ------------------------------------------------------------------------------

    async def _create(self, actor: Actor, make: Callable[[str, Context], Transition]) -> OrderView:
        try:
            autocommit = await self._outside_transaction()
            ctx = await self._context()
            # The domain checks the request first, under a provisional number: a refused request
            # takes no number.
            transition = make(PROVISIONAL_NUMBER, ctx)
            day = ctx.at.astimezone(self.tz).date()
            values = row_values(transition.order)
            audit = transition_values(transition.audit, actor_name=actor.name)
            created = await self._orders.create_numbered(day, values, audit, autocommit=autocommit)
            if created is None:
                number = await self._take_number(day, autocommit=autocommit)
                values["number"] = audit["order_number"] = number
                order_id = await self._orders.create(values, audit)
            else:
                order_id, number = created
            if created is None or not autocommit:
                await self._session.commit()  # (an autocommitted statement is stored already)
        except BaseException:
            await self._session.rollback()
            raise
        return self._view_of(order_id, replace(transition.order, number=number), actor, ctx.at)

    async def _take_number(self, day: date, *, autocommit: bool) -> str:
        """The day's next order number, committed at once (where the number cannot be taken by
        the order's own insert statement, see ``OrderRepository.create_numbered``).

        On SQLite the day's counter row stays locked until its transaction ends: committing right
        away keeps every other registration of the day waiting for one statement, not for the
        whole of this order's transaction. A number whose order then fails to be stored is
        skipped: numbers stay unique per day and increasing, with a rare gap.
        """
        number = await self._orders.next_number(day, autocommit=autocommit)
        await self._session.commit()
        return number

    async def register(
        self,
        actor: Actor,
        *,
        channel: Channel,
        kind: RequestKind,
        category: Category,
        content: str,
        citizen: Citizen,
        received_at: datetime | None,
        address: str = "",
    ) -> OrderView:
        """受理登记. A phone call is received now; other channels may give their own time."""

        def make(number: str, ctx: Context) -> Transition:
            return lifecycle.register(
                number,
                channel=channel,
                kind=kind,
                category=category,
                content=content,
                citizen=citizen,
                received_at=received_at or ctx.at,
                actor=actor,
                ctx=ctx,
                address=address,
            )

        return await self._create(actor, make)

    async def not_accept(
        self,
        actor: Actor,
        *,
        channel: Channel,
        kind: RequestKind,
        content: str,
        citizen: Citizen,
        received_at: datetime | None,
        reason: NotAcceptedReason,
        note: str,
    ) -> OrderView:
        """不予受理, recorded (Art. 4)."""

        def make(number: str, ctx: Context) -> Transition:
            return lifecycle.not_accept(
                number,
                channel=channel,
                kind=kind,
                content=content,
                citizen=citizen,
                received_at=received_at or ctx.at,
                reason=reason,
                note=note,
                actor=actor,
                ctx=ctx,
            )

        return await self._create(actor, make)

    # -- transitions -------------------------------------------------------------------------

    async def _act(self, number: str, actor: Actor, action: Action) -> OrderView:
        try:
            row = await self._visible_row(number, actor, for_update=True)
            ctx = await self._context()
            transition = action(to_domain(row, self.tz), actor, ctx)
            apply_to_row(transition.order, row)
            await self._orders.save(row)
            await self._audit.append_transition(transition.audit, order_id=row.id, actor_name=actor.name)
            await self._session.commit()
        except StaleDataError as exc:
            await self._session.rollback()
            raise Conflict("concurrent-update", "工单已被他人同时修改，请刷新后重试", number=number) from exc
        except BaseException:
            await self._session.rollback()
            raise
        return self._view(row, actor, ctx.at)

    async def _known_units(self, unit_ids: Iterable[str]) -> None:
        wanted: set[int] = set()
        for key in unit_ids:
            try:
                wanted.add(unit_id_of(key))
            except ValueError:
                raise UnknownReference("unknown-unit", f"网络单位“{key}”不存在", unit=key) from None
        found = await self._units.many(wanted)
        for unit_id in sorted(wanted):
            unit = found.get(unit_id)
            if unit is None:
                raise UnknownReference("unknown-unit", f"网络单位{unit_id}不存在", unit=unit_id)
            if not unit.active:
                raise UnknownReference("inactive-unit", f"网络单位“{unit.name}”已停用", unit=unit_id)

    async def answer_on_call(self, number: str, actor: Actor, *, answer: str) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.answer_on_call, answer=answer))

    async def recategorize(self, number: str, actor: Actor, *, category: Category) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.recategorize, category=category))

    async def assign(
        self, number: str, actor: Actor, *, lead_unit_id: str, cooperating_unit_ids: Iterable[str] = ()
    ) -> OrderView:
        cooperating = tuple(cooperating_unit_ids)
        await self._known_units((lead_unit_id, *cooperating))
        return await self._act(
            number,
            actor,
            partial(lifecycle.assign, lead_unit_id=lead_unit_id, cooperating_unit_ids=cooperating),
        )

    async def rehandle(
        self, number: str, actor: Actor, *, lead_unit_id: str, cooperating_unit_ids: Iterable[str] = ()
    ) -> OrderView:
        """重办: assign a dissatisfied citizen's order again; refused unless it awaits re-handling."""

        def action(order: WorkOrder, who: Actor, ctx: Context) -> Transition:
            if order.state is not OrderState.REHANDLING:
                raise IllegalTransition(
                    "not-awaiting-rehandling",
                    f"工单{order.number}当前状态为“{lifecycle.state_label_zh(order.state)}”，不是待重办工单",
                    state=str(order.state),
                )
            return lifecycle.assign(
                order, who, ctx, lead_unit_id=lead_unit_id, cooperating_unit_ids=cooperating
            )

        cooperating = tuple(cooperating_unit_ids)
        await self._known_units((lead_unit_id, *cooperating))
        return await self._act(number, actor, action)

    async def check_in(self, number: str, actor: Actor) -> OrderView:
        return await self._act(number, actor, lifecycle.check_in)

    async def return_order(
        self, number: str, actor: Actor, *, reason: str, basis: str, approved_by_leader: str
    ) -> OrderView:
        return await self._act(
            number,
            actor,
            partial(
                lifecycle.return_order, reason=reason, basis=basis, approved_by_leader=approved_by_leader
            ),
        )

    async def review_return(self, number: str, actor: Actor, *, accept: bool, note: str = "") -> OrderView:
        return await self._act(number, actor, partial(lifecycle.review_return, accept=accept, note=note))

    async def start_handling(self, number: str, actor: Actor) -> OrderView:
        return await self._act(number, actor, lifecycle.start_handling)

    async def record_contact(
        self, number: str, actor: Actor, *, purpose: ContactPurpose, method: str, note: str
    ) -> OrderView:
        return await self._act(
            number, actor, partial(lifecycle.record_contact, purpose=purpose, method=method, note=note)
        )

    async def submit_c_report(self, number: str, actor: Actor, **fields: Any) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.submit_c_report, **fields))

    async def set_deadline(self, number: str, actor: Actor, *, due_at: datetime) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.set_deadline, due_at=due_at))

    async def request_extension(
        self, number: str, actor: Actor, *, new_due_at: datetime, reason: str
    ) -> OrderView:
        return await self._act(
            number, actor, partial(lifecycle.request_extension, new_due_at=new_due_at, reason=reason)
        )

    async def decide_extension(
        self, number: str, actor: Actor, *, approve: bool, note: str = ""
    ) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.decide_extension, approve=approve, note=note))

    async def reply(
        self,
        number: str,
        actor: Actor,
        *,
        content: str,
        handler_name: str,
        handler_phone: str,
        document_ref: str | None = None,
    ) -> OrderView:
        return await self._act(
            number,
            actor,
            partial(
                lifecycle.reply,
                content=content,
                handler_name=handler_name,
                handler_phone=handler_phone,
                document_ref=document_ref,
            ),
        )

    async def record_revisit_attempt(
        self,
        number: str,
        actor: Actor,
        *,
        started_at: datetime | None,
        outcome: CallOutcome,
        satisfaction: Satisfaction | None = None,
        note: str = "",
    ) -> OrderView:
        def action(order: WorkOrder, who: Actor, ctx: Context) -> Transition:
            return lifecycle.record_revisit_attempt(
                order,
                who,
                ctx,
                started_at=started_at or ctx.at,
                outcome=outcome,
                satisfaction=satisfaction,
                note=note,
            )

        return await self._act(number, actor, action)

    async def refer_third_party(self, number: str, actor: Actor, *, note: str) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.refer_third_party, note=note))

    async def record_third_party_assessment(self, number: str, actor: Actor, *, verdict: str) -> OrderView:
        return await self._act(
            number, actor, partial(lifecycle.record_third_party_assessment, verdict=verdict)
        )

    async def close_manually(self, number: str, actor: Actor, *, note: str) -> OrderView:
        return await self._act(number, actor, partial(lifecycle.close_manually, note=note))
