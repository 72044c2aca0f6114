"""one row per search index replica, so the change log is kept until every server applied it

Revision ID: 0007_index_replicas
Revises: 0006_people
Create Date: 2026-12-05 02:00:00

Each app server keeps its own search index folder, fed from ``listing_change``. Until now any
process deleted the rows it had applied, so a second server never saw them. Each replica
now records how far it has applied the log; rows are pruned only behind the slowest replica
seen lately.
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0007_index_replicas"
down_revision = "0006_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_replica",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("applied_through", sa.Integer(), nullable=False),
        sa.Column("seen_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_index_replica")),
    )


def downgrade() -> None:
    op.drop_table("index_replica")
