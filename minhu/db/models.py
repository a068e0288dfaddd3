"""The tables. Work orders map :class:`workorders.model.WorkOrder` field for field: scalar fields
and everything lists filter on are columns; the nested records (extensions, returns, contacts,
replies, revisit attempts, ...) are JSON documents decoded back into the domain's dataclasses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minhu.db.base import Base
from minhu.db.types import UTCDateTime, json_type
from workorders.enums import HANDLING_STATES

# The partial index of orders being handled (the overdue list's rows). Migration 0600 wrote the
# same condition; a test checks the two agree.
HANDLING_STATES_SQL = "state IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(HANDLING_STATES)))

# BIGINT on PostgreSQL, INTEGER (the rowid alias, autoincrementing) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Unit(Base):
    """网络单位 — a unit that receives orders, in one of the four assessment groups."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    assessment_group: Mapped[str] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")


class User(Base):
    """A person who signs in: intake agent, supervisor, unit handler or administrator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderNumberCounter(Base):
    """The last order number handed out on each local day (``20261122-000123``), on SQLite.

    PostgreSQL numbers with one sequence per day (:mod:`minhu.db.numbering`); a day's sequence
    starts after this table's value for the day, so a database numbered here goes on without a
    clash."""

    __tablename__ = "order_number_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class WorkOrderRow(Base):
    """工单."""

    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_state_registered_at", "state", "registered_at"),
        Index("ix_work_orders_category_registered_at", "category", "registered_at"),
        # The overdue list: orders still being handled, newest first (a small part of the table).
        Index(
            "ix_work_orders_handling_registered_at",
            "registered_at",
            "id",
            postgresql_where=text(HANDLING_STATES_SQL),
            sqlite_where=text(HANDLING_STATES_SQL),
        ),
        Index(
            "ix_work_orders_content_trgm",
            "content",
            postgresql_using="gin",
            postgresql_ops={"content": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    channel: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(1))
    state: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(500), default="")
    citizen_name: Mapped[str] = mapped_column(String(100), default="")
    citizen_phone: Mapped[str | None] = mapped_column(String(32), index=True)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    registered_by: Mapped[str] = mapped_column(String(64))

    not_accepted_reason: Mapped[str | None] = mapped_column(String(32))
    not_accepted_note: Mapped[str] = mapped_column(Text, default="")
    answer_on_call: Mapped[str] = mapped_column(Text, default="")
    dispatch_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    cooperating_unit_ids: Mapped[list[int]] = mapped_column(json_type(), default=list)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    handling_round: Mapped[int] = mapped_column(Integer, default=0)

    check_ins: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    extensions: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    returns: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    c_report: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    replies: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revisit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revisit_attempts: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    third_party_referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    third_party_verdict: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closure_reason: Mapped[str | None] = mapped_column(String(32))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class WorkOrderUnit(Base):
    """Which units an order is assigned to (lead and cooperating): the index of unit scoping."""

    __tablename__ = "work_order_units"
    __table_args__ = (
        # A unit's orders newest first (a handler's list) without visiting the orders of other units.
        Index("ix_work_order_units_unit_id_registered_at", "unit_id", "registered_at", "order_id"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    # The order's registered_at, copied (it never changes) so that lists by unit read in order.
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """审计记录 — append-only: inserted by the repository, never updated nor deleted (a trigger
    refuses both on PostgreSQL and SQLite)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="RESTRICT"), index=True
    )
    order_number: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_unit_id: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)


class CalendarYear(Base):
    """A year's official schedule loaded by an administrator (``minhu calendar load``)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str] = mapped_column(String(64), default="")


class CalendarDay(Base):
    """One exception to Monday–Friday: a public holiday on a weekday, or a make-up working day."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # "holiday" | "workday"
    name: Mapped[str] = mapped_column(String(100), default="")
