"""The knowledge base's tables (知识库, 第二十二条): articles and their append-only version history.

``kb_articles`` holds the current version of each article; ``kb_article_versions`` keeps every
version with who made it, when, what changed and the article as it was afterwards. Versions are
never updated nor deleted (triggers refuse both on PostgreSQL and SQLite). Migration:
``20261123_0200_knowledge_base.py`` (DDL written out by hand).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from minhu.db.base import Base
from minhu.db.models import BigId
from minhu.db.types import UTCDateTime, json_type


class KbArticleRow(Base):
    """知识条目 — the current version of one article. ``article_key`` is the public id
    (``KB-0001``); ``unit_code`` the owning unit (``units.code``)."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    unit_code: Mapped[str] = mapped_column(String(64), index=True)
    tags: Mapped[list[str]] = mapped_column(json_type(), default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # "active" | "expired"
    review_state: Mapped[str] = mapped_column(String(16), default="unreviewed")  # | "reviewed"
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class KbArticleVersionRow(Base):
    """知识条目版本 — append-only: one row per version, never updated nor deleted."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="RESTRICT"), index=True)
    article_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create | update | review | expire | import
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_by_role: Mapped[str] = mapped_column(String(32))
    changed_by_unit: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    snapshot: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
