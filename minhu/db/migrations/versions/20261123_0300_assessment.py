"""The stored monthly assessments (assessment_months, assessment_unit_results,
assessment_interviews, assessment_escalations) and the indexes the assessment reads orders by.

Revision ID: 0300
Revises: 0200
Create Date: 2026-11-23 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import minhu.db.types
from sqlalchemy.dialects import postgresql

revision: str = "0300"
down_revision: str | None = "0200"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The function the monthly assessment's statement calls on PostgreSQL (kept here as it was when
# this revision was written, not imported from the repository that may change later).
CONTACTED_FUNCTION = r'''
CREATE OR REPLACE FUNCTION assessment_contacted(replies jsonb, contacts jsonb, required text[])
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
    RETURN NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements(replies) AS r(value)
         WHERE CASE WHEN cardinality(required) = 0 THEN NOT EXISTS (
                   SELECT 1 FROM jsonb_array_elements(contacts) AS c(value)
                    WHERE c.value->'round' = r.value->'round'
                      AND (c.value->>'at') COLLATE "C" <= (r.value->>'at') COLLATE "C")
               ELSE EXISTS (
                   SELECT 1 FROM unnest(required) AS q(purpose)
                    WHERE NOT EXISTS (
                       SELECT 1 FROM jsonb_array_elements(contacts) AS c(value)
                        WHERE c.value->>'purpose' = q.purpose
                          AND c.value->'round' = r.value->'round'
                          AND (c.value->>'at') COLLATE "C" <= (r.value->>'at') COLLATE "C"))
               END);
END
$fn$
'''


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CONTACTED_FUNCTION)
    op.create_table(
        "assessment_months",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("as_of", minhu.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("computed_at", minhu.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(length=64), nullable=False),
        sa.Column("policy_profile", sa.String(length=64), nullable=False),
        sa.Column(
            "policy",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "membership_keys",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recomputations", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_months")),
        sa.UniqueConstraint("month", name=op.f("uq_assessment_months_month")),
    )
    op.create_table(
        "assessment_escalations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("consequence", sa.String(length=64), nullable=False),
        sa.Column("consecutive", sa.Integer(), nullable=False),
        sa.Column(
            "in_window",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("by_consecutive", sa.Boolean(), nullable=False),
        sa.Column("by_total", sa.Boolean(), nullable=False),
        sa.Column("rule_consecutive", sa.Integer(), nullable=False),
        sa.Column("rule_total_in_year", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["month_id"],
            ["assessment_months.id"],
            name=op.f("fk_assessment_escalations_month_id_assessment_months"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_assessment_escalations_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_escalations")),
    )
    op.create_index(
        op.f("ix_assessment_escalations_month_id"), "assessment_escalations", ["month_id"], unique=False
    )
    op.create_index(
        op.f("ix_assessment_escalations_unit_id"), "assessment_escalations", ["unit_id"], unique=False
    )
    op.create_table(
        "assessment_interviews",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("assessment_group", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("group_size", sa.Integer(), nullable=False),
        sa.Column("score", sa.String(length=200), nullable=False),
        sa.Column("top_score", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.String(length=200), nullable=True),
        sa.Column("last_n", sa.Integer(), nullable=False),
        sa.Column("below_fraction_of_top", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["month_id"],
            ["assessment_months.id"],
            name=op.f("fk_assessment_interviews_month_id_assessment_months"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_assessment_interviews_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_interviews")),
        sa.UniqueConstraint("month_id", "unit_id", name=op.f("uq_assessment_interviews_month_id_unit_id")),
    )
    op.create_index(
        op.f("ix_assessment_interviews_unit_id"), "assessment_interviews", ["unit_id"], unique=False
    )
    op.create_table(
        "assessment_unit_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("assessment_group", sa.String(length=32), nullable=False),
        sa.Column("score", sa.String(length=200), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column(
            "counts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "members",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "flags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["month_id"],
            ["assessment_months.id"],
            name=op.f("fk_assessment_unit_results_month_id_assessment_months"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_assessment_unit_results_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_unit_results")),
        sa.UniqueConstraint("month_id", "unit_id", name=op.f("uq_assessment_unit_results_month_id_unit_id")),
    )
    op.create_index(
        op.f("ix_assessment_unit_results_unit_id"), "assessment_unit_results", ["unit_id"], unique=False
    )
    op.create_index("ix_work_orders_assigned_at", "work_orders", ["assigned_at"], unique=False)
    op.create_index(
        "ix_work_orders_registered_at_with_returns",
        "work_orders",
        ["registered_at"],
        unique=False,
        postgresql_where=sa.text("returns <> '[]'::jsonb"),
        sqlite_where=sa.text("returns <> '[]'"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS assessment_contacted(jsonb, jsonb, text[])")
    op.drop_index(
        "ix_work_orders_registered_at_with_returns",
        table_name="work_orders",
        postgresql_where=sa.text("returns <> '[]'::jsonb"),
        sqlite_where=sa.text("returns <> '[]'"),
    )
    op.drop_index("ix_work_orders_assigned_at", table_name="work_orders")
    op.drop_index(op.f("ix_assessment_unit_results_unit_id"), table_name="assessment_unit_results")
    op.drop_table("assessment_unit_results")
    op.drop_index(op.f("ix_assessment_interviews_unit_id"), table_name="assessment_interviews")
    op.drop_table("assessment_interviews")
    op.drop_index(op.f("ix_assessment_escalations_unit_id"), table_name="assessment_escalations")
    op.drop_index(op.f("ix_assessment_escalations_month_id"), table_name="assessment_escalations")
    op.drop_table("assessment_escalations")
    op.drop_table("assessment_months")
