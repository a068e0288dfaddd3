"""Draft work orders and the agent's decision per field (工单草稿): order_drafts, draft_decisions.

Revision ID: 0500
Revises: 0400
Create Date: 2026-11-23 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import minhu.db.types

revision: str = "0500"
down_revision: str | None = "0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant() -> minhu.db.types.UTCDateTime:
    return minhu.db.types.UTCDateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "order_drafts",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=False),
        sa.Column("reference_at", _instant(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("suggestions", _json(), nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_drafts")),
    )
    op.create_index(op.f("ix_order_drafts_linkedid"), "order_drafts", ["linkedid"], unique=False)
    op.create_index(op.f("ix_order_drafts_created_at"), "order_drafts", ["created_at"], unique=False)
    op.create_table(
        "draft_decisions",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("draft_id", _BIG_ID, nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("suggested", _json(), nullable=True),
        sa.Column("final", _json(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", _instant(), nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["order_drafts.id"],
            name=op.f("fk_draft_decisions_draft_id_order_drafts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_decisions")),
        sa.UniqueConstraint("draft_id", "field", name=op.f("uq_draft_decisions_draft_id_field")),
    )
    op.create_index(
        "ix_draft_decisions_decided_at_field", "draft_decisions", ["decided_at", "field"], unique=False
    )
    op.create_index(
        op.f("ix_draft_decisions_order_number"), "draft_decisions", ["order_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_draft_decisions_order_number"), table_name="draft_decisions")
    op.drop_index("ix_draft_decisions_decided_at_field", table_name="draft_decisions")
    op.drop_table("draft_decisions")
    op.drop_index(op.f("ix_order_drafts_created_at"), table_name="order_drafts")
    op.drop_index(op.f("ix_order_drafts_linkedid"), table_name="order_drafts")
    op.drop_table("order_drafts")
