"""Work orders: numbers, loading for a transition, saving, listing with filters."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db import numbering
from minhu.db.compiled import compiled_once
from minhu.db.models import AuditRow, OrderNumberCounter, WorkOrderRow, WorkOrderUnit
from minhu.db.types import UTCDateTime
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


def _table(entity: Any) -> Table:
    table = entity.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{entity.__name__} is not mapped to a single table")
    return table


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a list statement depends on, apart from the values: which filters are set."""

    states: int
    categories: int
    channel: bool
    unit: bool
    overdue: bool
    registered_from: bool
    registered_to: bool
    text: str | None  # "like" | "ilike" | None


def _shape(f: OrderFilter) -> _Shape:
    text_mode = None if not f.text else ("like" if _uncased(f.text) else "ilike")
    return _Shape(
        states=len(f.states),
        categories=len(f.categories),
        channel=bool(f.channel),
        unit=f.unit_id is not None,
        overdue=f.overdue_at is not None,
        registered_from=f.registered_from is not None,
        registered_to=f.registered_to is not None,
        text=text_mode,
    )


def _values(f: OrderFilter, *, offset: int, limit: int) -> dict[str, Any]:
    """The bind values of a list statement of ``f``'s shape."""
    values: dict[str, Any] = {"offset": offset, "limit": limit}
    values.update({f"state_{i}": s.value for i, s in enumerate(f.states)})
    values.update({f"category_{i}": c.value for i, c in enumerate(f.categories)})
    values.update(channel=f.channel, unit_id=f.unit_id, overdue_at=f.overdue_at)
    values.update(registered_from=f.registered_from, registered_to=f.registered_to)
    if f.text:
        values["pattern"] = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return values


def _filtered(stmt: Select[_T], shape: _Shape, *, unit_joined: bool) -> Select[_T]:
    conditions: list[ColumnElement[bool]] = []
    if shape.states:
        conditions.append(
            WorkOrderRow.state.in_([bindparam(f"state_{i}", type_=String) for i in range(shape.states)])
        )
    if shape.categories:
        conditions.append(
            WorkOrderRow.category.in_(
                [bindparam(f"category_{i}", type_=String) for i in range(shape.categories)]
            )
        )
    if shape.channel:
        conditions.append(WorkOrderRow.channel == bindparam("channel", type_=String))
    if shape.unit and not unit_joined:
        conditions.append(
            exists().where(
                WorkOrderUnit.order_id == WorkOrderRow.id, WorkOrderUnit.unit_id == bindparam("unit_id")
            )
        )
    if shape.overdue:
        # The states as literals, not parameters: PostgreSQL can then prove that the query
        # implies the partial index's condition (ix_work_orders_handling_registered_at) in a
        # generic plan as well.
        conditions.append(WorkOrderRow.state.in_(_HANDLING_LITERALS))
        conditions.append(WorkOrderRow.due_at < bindparam("overdue_at", type_=UTCDateTime()))
    if shape.registered_from:
        conditions.append(WorkOrderRow.registered_at >= bindparam("registered_from", type_=UTCDateTime()))
    if shape.registered_to:
        conditions.append(WorkOrderRow.registered_at < bindparam("registered_to", type_=UTCDateTime()))
    if shape.text == "like":
        # Chinese text has no letter case: LIKE finds exactly what ILIKE would, and skips
        # case-folding every row it examines (about 2.5x faster on PostgreSQL).
        conditions.append(WorkOrderRow.content.like(bindparam("pattern", type_=String), escape="\\"))
    elif shape.text == "ilike":
        conditions.append(WorkOrderRow.content.ilike(bindparam("pattern", type_=String), escape="\\"))
    return stmt.where(and_(*conditions)) if conditions else stmt


def _page_statement(stmt: Select[Any], shape: _Shape) -> Select[Any]:
    """A page, newest first, of ``stmt``'s columns for orders of ``shape``."""
    if not shape.unit:
        stmt = _filtered(stmt, shape, unit_joined=False)
        stmt = stmt.order_by(WorkOrderRow.registered_at.desc(), WorkOrderRow.id.desc())
    else:
        # Walk the unit's index rows newest first (the same order: they carry the order's
        # registered_at and id) and fetch each order by its key, rather than scanning every
        # unit's orders for the few of this one.
        link = and_(WorkOrderUnit.order_id == WorkOrderRow.id, WorkOrderUnit.unit_id == bindparam("unit_id"))
        stmt = _filtered(stmt.join(WorkOrderUnit, link), shape, unit_joined=True)
        stmt = stmt.order_by(WorkOrderUnit.registered_at.desc(), WorkOrderUnit.order_id.desc())
    return stmt.offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer))


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
        compiled = compiled_once(connection.dialect, "create-order", _pg_create_statement)
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

    async def list(self, f: OrderFilter, *, offset: int, limit: int) -> list[Row[Any]]:
        """A page of orders, newest first, as plain result rows (read-only: the same attributes
        as :class:`WorkOrderRow`, without the cost of loading ORM objects nobody will change)."""
        stmt = _page_statement(select(WorkOrderRow.__table__), _shape(f))
        return list((await self._session.execute(stmt, _values(f, offset=offset, limit=limit))).all())

    async def list_summaries(self, f: OrderFilter, *, offset: int, limit: int) -> builtins.list[Row[Any]]:
        """A page of orders, newest first, as rows of :data:`SUMMARY_COLUMNS` only: plain
        columns, none of the order's JSON documents.

        The list is the API's hottest read. On PostgreSQL its statement is compiled once per
        filter shape (which filters are set, how many states and categories) and run as driver
        SQL; asyncpg returns every column type as the mapping reads it, so no result processing
        is skipped. Elsewhere it goes through SQLAlchemy's execution as usual."""
        shape = _shape(f)
        values = _values(f, offset=offset, limit=limit)
        connection = await self._session.connection()
        if connection.dialect.name == "postgresql":
            compiled = compiled_once(
                connection.dialect, shape, lambda: _page_statement(select(*SUMMARY_COLUMNS), shape)
            )
            return list((await compiled.execute(connection, values)).all())
        stmt = _page_statement(select(*SUMMARY_COLUMNS), shape)
        return list((await self._session.execute(stmt, values)).all())

    async def count(self, f: OrderFilter) -> int:
        stmt = _filtered(select(func.count()).select_from(WorkOrderRow), _shape(f), unit_joined=False)
        return int((await self._session.execute(stmt, _values(f, offset=0, limit=0))).scalar_one())

    async def involves_unit(self, order_id: int, unit_id: int) -> bool:
        stmt = select(exists().where(WorkOrderUnit.order_id == order_id, WorkOrderUnit.unit_id == unit_id))
        return bool((await self._session.execute(stmt)).scalar())
