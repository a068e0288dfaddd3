"""The stored monthly assessments (月度考核结果): what was published for a month, kept so that the
rolling-year escalations (Art. 28(5), 29) read the interviews as they were decided, and so that a
unit contests exactly the orders that were counted.

A month is stored the first time it is computed after it has ended; it is replaced only by an
explicit recomputation (a supervisor's action, audited). Each unit's row keeps its orders and
their membership flags (:data:`workorders.assessment.MEMBERSHIP_KEYS`): the indicators, the score
and the drill-down are rebuilt from them. Migration: ``20261123_0300_assessment.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from minhu.db.base import Base
from minhu.db.models import BigId, WorkOrderRow
from minhu.db.types import UTCDateTime, json_type

# The assessment reads a month's orders by assignment time, and the orders with a return on record.
Index("ix_work_orders_assigned_at", WorkOrderRow.assigned_at)
Index(
    "ix_work_orders_registered_at_with_returns",
    WorkOrderRow.registered_at,
    postgresql_where=text("returns <> '[]'::jsonb"),
    sqlite_where=text("returns <> '[]'"),
)


class AssessmentMonthRow(Base):
    """One stored month."""

    __tablename__ = "assessment_months"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # "2026-10"
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())  # the orders as they stood then
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    computed_by: Mapped[str] = mapped_column(String(64))
    policy_profile: Mapped[str] = mapped_column(String(64))
    # The profile's assessment settings as used (weights, interview and escalation rules, ...).
    policy: Mapped[dict[str, Any]] = mapped_column(json_type())
    membership_keys: Mapped[list[str]] = mapped_column(json_type())  # the flags' bit order
    recomputations: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")  # why it was last recomputed


class AssessmentUnitResultRow(Base):
    """One unit's result in a stored month."""

    __tablename__ = "assessment_unit_results"
    __table_args__ = (UniqueConstraint("month_id", "unit_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("assessment_months.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    assessment_group: Mapped[str] = mapped_column(String(32))
    score: Mapped[str | None] = mapped_column(String(200))  # exact, "numerator/denominator"
    rank: Mapped[int | None] = mapped_column(Integer)
    # indicator -> [numerator count, denominator count], for reading without the members.
    counts: Mapped[dict[str, list[int]]] = mapped_column(json_type())
    members: Mapped[list[str]] = mapped_column(json_type())  # order numbers, by number
    flags: Mapped[list[int]] = mapped_column(json_type())  # one per member


class AssessmentInterviewRow(Base):
    """通报约谈 decided for a stored month (Art. 28(4))."""

    __tablename__ = "assessment_interviews"
    __table_args__ = (UniqueConstraint("month_id", "unit_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("assessment_months.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    assessment_group: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)
    group_size: Mapped[int] = mapped_column(Integer)
    score: Mapped[str] = mapped_column(String(200))
    top_score: Mapped[str] = mapped_column(String(200))
    threshold: Mapped[str | None] = mapped_column(String(200))
    last_n: Mapped[int] = mapped_column(Integer)
    below_fraction_of_top: Mapped[str | None] = mapped_column(String(32))


class AssessmentEscalationRow(Base):
    """An escalation of Art. 28(5) or 29(2) due in a stored month."""

    __tablename__ = "assessment_escalations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("assessment_months.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    consequence: Mapped[str] = mapped_column(String(64))
    consecutive: Mapped[int] = mapped_column(Integer)
    in_window: Mapped[list[str]] = mapped_column(json_type())  # months, "2026-10"
    by_consecutive: Mapped[bool] = mapped_column(Boolean)
    by_total: Mapped[bool] = mapped_column(Boolean)
    rule_consecutive: Mapped[int] = mapped_column(Integer)
    rule_total_in_year: Mapped[int | None] = mapped_column(Integer)
