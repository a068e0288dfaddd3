"""The overdue list reads a partial index of the orders still being handled.

"Overdue" is an order in a handling state (assigned, checked in, in progress) past its due time,
newest first. Those are a few percent of the table, and the recent orders are mostly not overdue
yet, so walking the whole table's registered_at index backwards examined about 7,000 rows for a
page of 50 (about 10 ms on a million orders). The partial index holds only the handling orders, in
the list's order (registered_at, id).

Revision ID: 0600
Revises: 0500
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0600"
down_revision: str | None = "0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HANDLING = "state IN ('assigned', 'checked_in', 'in_progress')"


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_handling_registered_at",
        "work_orders",
        ["registered_at", "id"],
        unique=False,
        postgresql_where=sa.text(HANDLING),
        sqlite_where=sa.text(HANDLING),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_handling_registered_at", table_name="work_orders")
