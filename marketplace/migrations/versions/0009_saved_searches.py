"""saved searches: the search page's query and filters, e-mailed daily or weekly

Revision ID: 0009_saved_searches
Revises: 0008_publish
Create Date: 2026-12-05 06:00:00

A person's saved searches go when their account is deleted (they are nobody else's).
"""

from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = "0009_saved_searches"
down_revision = "0008_publish"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("q", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=True),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("district", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=80), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_saved_search_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search")),
    )
    op.create_index(op.f("ix_saved_search_user_id"), "saved_search", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_search_user_id", table_name="saved_search")
    op.drop_table("saved_search")
