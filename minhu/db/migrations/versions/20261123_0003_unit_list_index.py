"""Lists by unit in order: work_order_units carries the order's registered_at, indexed with the unit.

A unit handler's list (and a supervisor's list filtered by unit) is "this unit's orders, newest
first". With only (unit_id) indexed, PostgreSQL walked every order newest first and probed each for
the unit: about 90 probes per row returned with 100 units, hundreds of milliseconds on a million
orders. The copy of registered_at (it never changes) lets the list read the unit's own index rows in
order and fetch just one page of orders.

Revision ID: 0003
Revises: 0100
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minhu.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_order_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_at", minhu.db.types.UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE work_order_units SET registered_at = "
        "(SELECT work_orders.registered_at FROM work_orders WHERE work_orders.id = work_order_units.order_id)"
    )
    with op.batch_alter_table("work_order_units", schema=None) as batch_op:
        batch_op.alter_column(
            "registered_at", existing_type=minhu.db.types.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            "ix_work_order_units_unit_id_registered_at", ["unit_id", "registered_at", "order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order_units", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_units_unit_id_registered_at")
        batch_op.drop_column("registered_at")
