"""The leaders' hotline days (领导接线日, Art. 6): leader_hotline_days.

Revision ID: 0400
Revises: 0300
Create Date: 2026-11-23 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minhu.db.types

revision: str = "0400"
down_revision: str | None = "0300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant() -> minhu.db.types.UTCDateTime:
    return minhu.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leader_hotline_days",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("starts_at", _instant(), nullable=False),
        sa.Column("ends_at", _instant(), nullable=False),
        sa.Column("leader_name", sa.String(length=100), nullable=False),
        sa.Column("leader_title", sa.String(length=200), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("focus", sa.Text(), nullable=False),
        sa.Column("published_at", _instant(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leader_hotline_days")),
    )
    op.create_index(
        op.f("ix_leader_hotline_days_starts_at"), "leader_hotline_days", ["starts_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_leader_hotline_days_starts_at"), table_name="leader_hotline_days")
    op.drop_table("leader_hotline_days")
