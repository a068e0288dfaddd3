"""Draft work orders (工单草稿) and the agent's decision on each suggested field.

``order_drafts`` keeps every draft made from a call transcript (the transcript, the call it came
from, each field's suggestion with its confidence); ``draft_decisions`` keeps, per draft and field,
what was suggested, what the agent finally kept, whether that was the suggestion (accepted) or a
correction, who decided and when, and the order the draft became. Accuracy is counted from these.
Migration: ``20261123_0500_order_drafts.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from minhu.db.base import Base
from minhu.db.models import BigId
from minhu.db.types import UTCDateTime, json_type


class OrderDraftRow(Base):
    """工单草稿 — one draft made from one transcript."""

    __tablename__ = "order_drafts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    transcript: Mapped[str] = mapped_column(Text)
    reference_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    # field -> {"value": str | list[str] | None, "confidence": float}
    suggestions: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    order_number: Mapped[str | None] = mapped_column(String(32))


class DraftDecisionRow(Base):
    """The agent's decision on one field of one draft (the latest one counts; a new decision on
    the same field replaces it)."""

    __tablename__ = "draft_decisions"
    __table_args__ = (
        UniqueConstraint("draft_id", "field"),
        Index("ix_draft_decisions_decided_at_field", "decided_at", "field"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("order_drafts.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(16))
    suggested: Mapped[Any] = mapped_column(json_type(), nullable=True)
    final: Mapped[Any] = mapped_column(json_type(), nullable=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    order_number: Mapped[str | None] = mapped_column(String(32), index=True)
