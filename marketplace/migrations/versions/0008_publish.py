"""information pages officers can edit, and feedback on the service

Revision ID: 0008_publish
Revises: 0007_index_replicas
Create Date: 2026-12-05 02:00:00

The accessibility statement, privacy notice, cookies and help pages ship with wording of
their own; a row in page_text holds an officer's version. Feedback from the phase banner's
link is stored without who sent it.
"""

from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = "0008_publish"
down_revision = "0007_index_replicas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_text",
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_page_text_updated_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_page_text")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("satisfaction", sa.String(length=30), nullable=True),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("page", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index(op.f("ix_feedback_created_at"), "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_created_at", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("page_text")
