"""The revisit dialer's tables (回访外呼): one task per order and handling round, every call it
placed, and the do-not-call list.

The schedule itself lives in Redis (``callback_dialer.schedule``); these rows are the record it
is rebuilt from. Migration: ``20261123_0100_revisit_dialer.py`` (DDL written out by hand).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from minhu.db.base import Base
from minhu.db.models import BigId
from minhu.db.types import UTCDateTime


class RevisitTaskRow(Base):
    """回访任务: the survey of one order's reply (one per handling round), or an IVR call-back
    request that named no order awaiting a revisit (``order_id`` None, always manual)."""

    __tablename__ = "revisit_tasks"
    __table_args__ = (
        UniqueConstraint("order_id", "round"),
        Index("ix_revisit_tasks_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="RESTRICT"))
    order_number: Mapped[str | None] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16))  # "reply" | "ivr_callback"
    phone: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # "scheduled" | "done" | "manual"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_flight_attempt: Mapped[str | None] = mapped_column(String(64))
    callback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    manual_reason: Mapped[str | None] = mapped_column(String(32))
    manual_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(32))


class RevisitAttemptRow(Base):
    """回访呼叫记录: one call, written before the Originate is sent (``started_at``) and
    completed with its outcome. ``outcome`` None means the result is still unknown."""

    __tablename__ = "revisit_attempt_log"
    __table_args__ = (Index("ix_revisit_attempt_log_phone_started_at", "phone", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("revisit_tasks.id", ondelete="RESTRICT"), index=True)
    order_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(32))
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    originate_reason: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    counts_for_art17: Mapped[bool | None] = mapped_column(Boolean)
    recorded_on_order: Mapped[bool] = mapped_column(Boolean, default=False)
    recording: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")


class DoNotCallRow(Base):
    """免打扰名单: numbers the dialer never calls; their revisits go to an agent."""

    __tablename__ = "revisit_do_not_call"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(64), default="")
