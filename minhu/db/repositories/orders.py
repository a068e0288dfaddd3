"""Work orders: numbers, loading for a transition, saving, listing with filters."""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db import numbering
from minhu.db.compiled import CompiledStatement
from minhu.db.models import AuditRow, OrderNumberCounter, WorkOrderRow, WorkOrderUnit
from workorders.enums import HANDLING_STATES, Category, OrderState

_T = TypeVar("_T")

EXCERPT_CHARS = 60  # the beginning of the request's content shown in lists


def format_number(day: date, sequence: int) -> str:
    """``20261122-000123``: the local day of registration and that day's sequence."""
    return f"{day:%Y%m%d}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class OrderFilter:
    states: Sequence[OrderState] = ()
    categories: Sequence[Category] = ()
    unit_id: int | None = None  # lead or cooperating
    overdue_at: datetime | None = None  # set: only orders a unit holds past their deadline
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    text: str | None = None
    channel: str | None = None


# What a list shows of each order, in this order (see ``OrderRepository.list_summaries``).
SUMMARY_COLUMNS = (
    WorkOrderRow.number,
    WorkOrderRow.channel,
    WorkOrderRow.kind,
    WorkOrderRow.category,
    WorkOrderRow.state,
    func.substr(WorkOrderRow.content, 1, EXCERPT_CHARS).label("excerpt"),
    WorkOrderRow.citizen_name,
    WorkOrderRow.citizen_phone,
    WorkOrderRow.address,
    WorkOrderRow.registered_at,
    WorkOrderRow.due_at,
    WorkOrderRow.lead_unit_id,
)


_HANDLING_LITERALS: list[ColumnElement[str]] = [
    literal_column(f"'{s.value}'") for s in sorted(HANDLING_STATES)
]


def _uncased(text: str) -> bool:
    """True when no character of ``text`` has a letter case (Chinese, digits, punctuation)."""
    return text.lower() == text == text.upper() and text.casefold() == text


def _unit_links(order: dict[str, Any]) -> dict[int, bool]:
    """unit id -> is lead, for an order's ``row_values``."""
    links = {u: False for u in order.get("cooperating_unit_ids") or []}
    if order.get("lead_unit_id") is not None:
        links[order["lead_unit_id"]] = True
    return links


@cache
def _next_number_statement(dialect: str) -> Any:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert_(OrderNumberCounter).values(day=bindparam("day"), last_value=1)
    return upsert.on_conflict_do_update(
        index_elements=[OrderNumberCounter.day],
        set_={"last_value": OrderNumberCounter.last_value + 1},
    ).returning(OrderNumberCounter.last_value)


@cache
def _pg_create_statement() -> Any:
    """One statement for a new order on PostgreSQL: the day's number, the order, its audit entry.

    ``WITH n AS (SELECT nextval(<the day's sequence>)), o AS (INSERT INTO work_orders … SELECT
    <number from n>, … RETURNING id, number) INSERT INTO audit_entries … SELECT o.id, o.number, …
    RETURNING order_id, order_number``. Parameters: ``sequence`` (:mod:`minhu.db.numbering`) and
    ``number_prefix`` (``20261122-``), the order's columns by name, the audit entry's prefixed
    ``audit_``. The number is :func:`format_number`'s, built in SQL.
    """
    orders, audit = _table(WorkOrderRow), _table(AuditRow)
    n = select(
        func.nextval(cast(bindparam("sequence", type_=String), postgresql.REGCLASS)).label("last_value")
    ).cte("n")
    sequence = cast(n.c.last_value, Text)
    number = bindparam("number_prefix", type_=String) + func.lpad(
        sequence, func.greatest(6, func.length(sequence)), "0"
    )
    order_columns = [c for c in orders.c if c.key not in ("id", "number")]
    audit_columns = [c for c in audit.c if c.key not in ("id", "order_id", "order_number")]
    new_order = (
        insert(orders)
        .from_select(
            ["number", *(c.key for c in order_columns)],
            select(
                number,
                *(
                    literal(1) if c.key == "version" else bindparam(c.key, type_=c.type)
                    for c in order_columns
                ),
            ).select_from(n),
        )
        .returning(orders.c.id, orders.c.number)
        .cte("o")
    )
    return (
        insert(audit)
        .from_select(
            ["order_id", "order_number", *(c.key for c in audit_columns)],
            select(
                new_order.c.id,
                new_order.c.number,
                *(bindparam("audit_" + c.key, type_=c.type) for c in audit_columns),
            ),
        )
        .returning(audit.c.order_id, audit.c.order_number)
    )


_compiled_creates: weakref.WeakKeyDictionary[Dialect, CompiledStatement] = weakref.WeakKeyDictionary()


def _pg_create_compiled(dialect: Dialect) -> CompiledStatement:
    """:func:`_pg_create_statement` compiled once per engine (its dialect)."""
    compiled = _compiled_creates.get(dialect)
    if compiled is None:
        compiled = _compiled_creates[dialect] = CompiledStatement(_pg_create_statement(), dialect)
    return compiled


def _table(entity: Any) -> Table:
    table = entity.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{entity.__name__} is not mapped to a single table")
    return table


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_number(self, day: date, *, autocommit: bool = False) -> str:
        """The next number of ``day``: the day's sequence on PostgreSQL (:mod:`minhu.db.numbering`),
        elsewhere the day's counter row (one upsert; its row lock serialises writers)."""
        if self._session.get_bind().dialect.name == "postgresql":
            name = await numbering.ensure_day_sequence(self._session, day, autocommit=autocommit)
            value = await self._session.scalar(
                text("SELECT nextval(CAST(:name AS regclass))"), {"name": name}
            )
            return format_number(day, int(value))
        stmt = _next_number_statement(self._session.get_bind().dialect.name)
        sequence = (await self._session.execute(stmt, {"day": day})).scalar_one()
        return format_number(day, sequence)

    async def get(self, number: str, *, for_update: bool = False) -> WorkOrderRow | None:
        stmt = select(WorkOrderRow).where(WorkOrderRow.number == number)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def create_numbered(
        self, day: date, order: dict[str, Any], audit: dict[str, Any], *, autocommit: bool = False
    ) -> tuple[int, str] | None:
        """On PostgreSQL, for an order without units: take ``day``'s next number and insert the
        order (``row_values``) with its first audit entry (``transition_values``) in one
        statement; the new order's id and number. None elsewhere (then :meth:`next_number` and
        :meth:`create`).

        One round trip, atomic on its own (no transaction needed around it). ``autocommit``: the
        session's statements commit one by one (see :func:`numbering.ensure_day_sequence`).
        """
        if _unit_links(order) or self._session.get_bind().dialect.name != "postgresql":
            return None
        params = {k: v for k, v in order.items() if k != "number"}
        params.update({"audit_" + k: v for k, v in audit.items() if k != "order_number"})
        params["number_prefix"] = format_number(day, 0)[:-6]
        params["sequence"] = await numbering.ensure_day_sequence(self._session, day, autocommit=autocommit)
        connection = await self._session.connection()
        compiled = _pg_create_compiled(connection.dialect)
        try:
            row = (await compiled.execute(connection, params)).one()
        except DBAPIError as exc:
            if not autocommit or numbering.sqlstate(exc) != numbering.UNDEFINED_TABLE:
                raise
            # The day's sequence was dropped behind this process's back: create it again.
            numbering.forget(connection.dialect, day)
            params["sequence"] = await numbering.ensure_day_sequence(self._session, day, autocommit=True)
            row = (await compiled.execute(connection, params)).one()
        return int(row.order_id), str(row.order_number)

    async def create(self, order: dict[str, Any], audit: dict[str, Any]) -> int:
        """Insert a new, numbered order (``row_values``) with its first audit entry
        (``transition_values``) and its unit index rows, with Core statements (no ORM unit of
        work); the new order's id."""
        session = self._session
        orders = _table(WorkOrderRow)
        order_id = int((await session.execute(insert(orders).returning(orders.c.id), order)).scalar_one())
        await session.execute(insert(_table(AuditRow)), {**audit, "order_id": order_id})
        units = _unit_links(order)
        if units:
            at = order["registered_at"]
            await session.execute(
                insert(_table(WorkOrderUnit)),
                [
                    {"order_id": order_id, "unit_id": u, "is_lead": lead, "registered_at": at}
                    for u, lead in units.items()
                ],
            )
        return order_id

    async def save(self, row: WorkOrderRow) -> None:
        await self._session.flush()
        await self.sync_units(row)

    async def sync_units(self, row: WorkOrderRow) -> None:
        """Keep the unit index (lead + cooperating) equal to the order's assignment."""
        wanted: dict[int, bool] = {u: False for u in row.cooperating_unit_ids or []}
        if row.lead_unit_id is not None:
            wanted[row.lead_unit_id] = True
        current = {
            r.unit_id: r
            for r in (
                await self._session.execute(select(WorkOrderUnit).where(WorkOrderUnit.order_id == row.id))
            ).scalars()
        }
        stale = [u for u in current if u not in wanted]
        if stale:
            await self._session.execute(
                delete(WorkOrderUnit).where(
                    WorkOrderUnit.order_id == row.id, WorkOrderUnit.unit_id.in_(stale)
                )
            )
            for u in stale:
                self._session.expunge(current.pop(u))
        for unit_id, is_lead in wanted.items():
            link = current.get(unit_id)
            if link is None:
                self._session.add(
                    WorkOrderUnit(
                        order_id=row.id, unit_id=unit_id, is_lead=is_lead, registered_at=row.registered_at
                    )
                )
            elif link.is_lead != is_lead:
                link.is_lead = is_lead
        await self._session.flush()

    def _filtered(self, stmt: Select[_T], f: OrderFilter, *, unit_joined: bool = False) -> Select[_T]:
        conditions: list[ColumnElement[bool]] = []
        if f.states:
            conditions.append(WorkOrderRow.state.in_([s.value for s in f.states]))
        if f.categories:
            conditions.append(WorkOrderRow.category.in_([c.value for c in f.categories]))
        if f.channel:
            conditions.append(WorkOrderRow.channel == f.channel)
        if f.unit_id is not None and not unit_joined:
            conditions.append(
                exists().where(WorkOrderUnit.order_id == WorkOrderRow.id, WorkOrderUnit.unit_id == f.unit_id)
            )
        if f.overdue_at is not None:
            # The states as literals, not parameters: PostgreSQL can then prove that the query
            # implies the partial index's condition (ix_work_orders_handling_registered_at) in a
            # generic plan as well.
            conditions.append(WorkOrderRow.state.in_(_HANDLING_LITERALS))
            conditions.append(WorkOrderRow.due_at < f.overdue_at)
        if f.registered_from is not None:
            conditions.append(WorkOrderRow.registered_at >= f.registered_from)
        if f.registered_to is not None:
            conditions.append(WorkOrderRow.registered_at < f.registered_to)
        if f.text:
            pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            if _uncased(f.text):
                # Chinese text has no letter case: LIKE finds exactly what ILIKE would, and skips
                # case-folding every row it examines (about 2.5x faster on PostgreSQL).
                conditions.append(WorkOrderRow.content.like(pattern, escape="\\"))
            else:
                conditions.append(WorkOrderRow.content.ilike(pattern, escape="\\"))
        return stmt.where(and_(*conditions)) if conditions else stmt

    async def list(self, f: OrderFilter, *, offset: int, limit: int) -> list[Row[Any]]:
        """A page of orders, newest first, as plain result rows (read-only: the same attributes
        as :class:`WorkOrderRow`, without the cost of loading ORM objects nobody will change)."""
        return await self._page(select(WorkOrderRow.__table__), f, offset=offset, limit=limit)

    async def list_summaries(self, f: OrderFilter, *, offset: int, limit: int) -> builtins.list[Row[Any]]:
        """A page of orders, newest first, as rows of :data:`SUMMARY_COLUMNS` only: plain
        columns, none of the order's JSON documents."""
        return await self._page(select(*SUMMARY_COLUMNS), f, offset=offset, limit=limit)

    async def _page(
        self, stmt: Select[Any], f: OrderFilter, *, offset: int, limit: int
    ) -> builtins.list[Row[Any]]:
        if f.unit_id is None:
            stmt = self._filtered(stmt, f)
            stmt = stmt.order_by(WorkOrderRow.registered_at.desc(), WorkOrderRow.id.desc())
        else:
            # Walk the unit's index rows newest first (the same order: they carry the order's
            # registered_at and id) and fetch each order by its key, rather than scanning every
            # unit's orders for the few of this one.
            link = and_(WorkOrderUnit.order_id == WorkOrderRow.id, WorkOrderUnit.unit_id == f.unit_id)
            stmt = self._filtered(stmt.join(WorkOrderUnit, link), f, unit_joined=True)
            stmt = stmt.order_by(WorkOrderUnit.registered_at.desc(), WorkOrderUnit.order_id.desc())
        stmt = stmt.offset(offset).limit(limit)
        return list((await self._session.execute(stmt)).all())

    async def count(self, f: OrderFilter) -> int:
        stmt = self._filtered(select(func.count()).select_from(WorkOrderRow), f)
        return int((await self._session.execute(stmt)).scalar_one())

    async def involves_unit(self, order_id: int, unit_id: int) -> bool:
        stmt = select(exists().where(WorkOrderUnit.order_id == order_id, WorkOrderUnit.unit_id == unit_id))
        return bool((await self._session.execute(stmt)).scalar())
