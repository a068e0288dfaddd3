"""The revisit dialer's tables: revisit_tasks, revisit_attempt_log, revisit_do_not_call.

Revision ID: 0100
Revises: 0003
Create Date: 2026-11-23 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minhu.db.types

revision: str = "0100"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant() -> minhu.db.types.UTCDateTime:
    return minhu.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "revisit_tasks",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("order_id", _BIG_ID, nullable=True),
        sa.Column("order_number", sa.String(length=32), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("window_end", _instant(), nullable=False),
        sa.Column("due_at", _instant(), nullable=True),
        sa.Column("in_flight_attempt", sa.String(length=64), nullable=True),
        sa.Column("callback_requested_at", _instant(), nullable=True),
        sa.Column("manual_reason", sa.String(length=32), nullable=True),
        sa.Column("manual_flagged_at", _instant(), nullable=True),
        sa.Column("finished_at", _instant(), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["work_orders.id"],
            name=op.f("fk_revisit_tasks_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisit_tasks")),
        sa.UniqueConstraint("order_id", "round", name=op.f("uq_revisit_tasks_order_id_round")),
    )
    with op.batch_alter_table("revisit_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_revisit_tasks_state_due_at", ["state", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_revisit_tasks_manual_flagged_at"), ["manual_flagged_at"], unique=False
        )

    op.create_table(
        "revisit_attempt_log",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("attempt_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", _BIG_ID, nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("started_at", _instant(), nullable=False),
        sa.Column("ended_at", _instant(), nullable=True),
        sa.Column("originate_reason", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("satisfaction", sa.String(length=32), nullable=True),
        sa.Column("counts_for_art17", sa.Boolean(), nullable=True),
        sa.Column("recorded_on_order", sa.Boolean(), nullable=False),
        sa.Column("recording", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["revisit_tasks.id"],
            name=op.f("fk_revisit_attempt_log_task_id_revisit_tasks"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisit_attempt_log")),
        sa.UniqueConstraint("attempt_id", name=op.f("uq_revisit_attempt_log_attempt_id")),
    )
    with op.batch_alter_table("revisit_attempt_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisit_attempt_log_task_id"), ["task_id"], unique=False)
        batch_op.create_index(
            "ix_revisit_attempt_log_phone_started_at", ["phone", "started_at"], unique=False
        )

    op.create_table(
        "revisit_do_not_call",
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("added_at", _instant(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_revisit_do_not_call")),
    )


def downgrade() -> None:
    op.drop_table("revisit_do_not_call")
    with op.batch_alter_table("revisit_attempt_log", schema=None) as batch_op:
        batch_op.drop_index("ix_revisit_attempt_log_phone_started_at")
        batch_op.drop_index(batch_op.f("ix_revisit_attempt_log_task_id"))
    op.drop_table("revisit_attempt_log")
    with op.batch_alter_table("revisit_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisit_tasks_manual_flagged_at"))
        batch_op.drop_index("ix_revisit_tasks_state_due_at")
    op.drop_table("revisit_tasks")
