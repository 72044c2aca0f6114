"""delivery you can prove: due dates, committed amounts, evidence review and evidence files

Revision ID: 0005_delivery
Revises: 0004_hardening
Create Date: 2026-12-05 01:40:00

Pledges approved before this change keep their approved quantity and value as what was
committed, so the reports' committed figures do not drop for old pledges.
"""

from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = "0005_delivery"
down_revision = "0004_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pledge") as batch_op:
        batch_op.add_column(sa.Column("deliver_by", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("committed_quantity", sa.Numeric(14, 2), nullable=True))
        batch_op.add_column(sa.Column("committed_value", sa.Numeric(16, 2), nullable=True))
        batch_op.add_column(sa.Column("pending_quantity", sa.Numeric(14, 2), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("evidence_review", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("declaration", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("declared_at", marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_pledge_deliver_by", ["deliver_by"])
    op.execute("UPDATE pledge SET committed_quantity = quantity, committed_value = value WHERE approved_at IS NOT NULL")
    # Pledges confirmed before evidence review existed were accepted on the group's word.
    op.execute("UPDATE pledge SET evidence_review = 'accepted' WHERE status = 'confirmed'")
    op.execute("UPDATE pledge SET evidence_review = 'waiting' WHERE status = 'delivered'")
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledge.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("storage_key"),
    )
    op.create_index("ix_evidence_file_pledge_id", "evidence_file", ["pledge_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_file_pledge_id", table_name="evidence_file")
    op.drop_table("evidence_file")
    with op.batch_alter_table("pledge") as batch_op:
        batch_op.drop_index("ix_pledge_deliver_by")
        for name in (
            "reminded_at", "declared_at", "declaration", "review_note", "evidence_review", "delivered_at",
            "pending_quantity", "committed_value", "committed_quantity", "deliver_by",
        ):  # fmt: skip
            batch_op.drop_column(name)
