"""The reports' table: the leaders' hotline days (领导接线日, Art. 6).

One row per session on the line; ``published_at`` records when the schedule was published (it must
be at least a week before ``starts_at``). Migration: ``20261123_0400_leader_hotline_days.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from minhu.db.base import Base
from minhu.db.models import BigId
from minhu.db.types import UTCDateTime


class LeaderHotlineDayRow(Base):
    """领导接线日安排."""

    __tablename__ = "leader_hotline_days"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leader_name: Mapped[str] = mapped_column(String(100))
    leader_title: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200))
    focus: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
