"""The knowledge base's tables: kb_articles and the append-only kb_article_versions.

Revision ID: 0200
Revises: 0100
Create Date: 2026-11-23 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import minhu.db.types

revision: str = "0200"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION minhu_kb_versions_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'kb_article_versions is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def _instant() -> minhu.db.types.UTCDateTime:
    return minhu.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("article_key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_state", sa.String(length=16), nullable=False),
        sa.Column("reviewed_at", _instant(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("article_key", name=op.f("uq_kb_articles_article_key")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_unit_code"), ["unit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_articles_valid_to"), ["valid_to"], unique=False)

    op.create_table(
        "kb_article_versions",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("article_id", _BIG_ID, nullable=False),
        sa.Column("article_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changed_at", _instant(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_by_role", sa.String(length=32), nullable=False),
        sa.Column("changed_by_unit", sa.String(length=64), nullable=True),
        sa.Column("changes", _JSON, nullable=False),
        sa.Column("snapshot", _JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_versions_article_id_kb_articles"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint(
            "article_id", "version", name=op.f("uq_kb_article_versions_article_id_version")
        ),
    )
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_article_versions_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kb_article_versions_changed_at"), ["changed_at"], unique=False
        )

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER kb_article_versions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            "ON kb_article_versions FOR EACH STATEMENT "
            "EXECUTE FUNCTION minhu_kb_versions_are_append_only()"
        )
    elif dialect == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER kb_article_versions_no_{operation.lower()} BEFORE {operation} "
                f"ON kb_article_versions BEGIN SELECT RAISE(ABORT, "
                f"'kb_article_versions is append-only ({operation} refused)'); END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS kb_article_versions_append_only ON kb_article_versions")
        op.execute("DROP FUNCTION IF EXISTS minhu_kb_versions_are_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS kb_article_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS kb_article_versions_no_delete")
    with op.batch_alter_table("kb_article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_versions_changed_at"))
        batch_op.drop_index(batch_op.f("ix_kb_article_versions_article_id"))
    op.drop_table("kb_article_versions")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_articles_valid_to"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_unit_code"))
    op.drop_table("kb_articles")
