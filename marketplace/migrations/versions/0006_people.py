"""people: requests for offers, messages, invitations, requests to join, e-mail preferences

Revision ID: 0006_people
Revises: 0005_delivery
Create Date: 2026-12-05 01:45:00

Everyone existing keeps getting an e-mail for each event, as before.
"""

from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = "0006_people"
down_revision = "0005_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("email_preference", sa.String(length=20), server_default="each", nullable=False))
        batch_op.add_column(sa.Column("offer_alerts", sa.String(length=10), server_default="off", nullable=False))
        batch_op.add_column(sa.Column("last_offer_alert_at", marketplace.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notification") as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "offer_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "pledged", "declined", name="requeststatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("pledge_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"]),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledge.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_offer_request_need_id", "offer_request", ["need_id"])
    op.create_index("ix_offer_request_offer_id", "offer_request", ["offer_id"])
    op.create_index("ix_offer_request_organisation_id", "offer_request", ["organisation_id"])
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledge.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["offer_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_message_author_created", "message", ["author_id", "created_at"])
    op.create_index("ix_message_pledge_id", "message", ["pledge_id"])
    op.create_index("ix_message_request_id", "message", ["request_id"])
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invited_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invitation_organisation_id", "invitation", ["organisation_id"])
    op.create_table(
        "join_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_join_request_organisation_id", "join_request", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_join_request_organisation_id", table_name="join_request")
    op.drop_table("join_request")
    op.drop_index("ix_invitation_organisation_id", table_name="invitation")
    op.drop_table("invitation")
    op.drop_index("ix_message_request_id", table_name="message")
    op.drop_index("ix_message_pledge_id", table_name="message")
    op.drop_index("ix_message_author_created", table_name="message")
    op.drop_table("message")
    op.drop_index("ix_offer_request_organisation_id", table_name="offer_request")
    op.drop_index("ix_offer_request_offer_id", table_name="offer_request")
    op.drop_index("ix_offer_request_need_id", table_name="offer_request")
    op.drop_table("offer_request")
    with op.batch_alter_table("notification") as batch_op:
        batch_op.drop_column("summary")
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("last_offer_alert_at")
        batch_op.drop_column("offer_alerts")
        batch_op.drop_column("email_preference")
