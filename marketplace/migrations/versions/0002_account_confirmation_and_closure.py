"""account e-mail confirmation and closure

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:40:00

People who registered before confirmation existed are treated as confirmed from the day
they registered, so nobody already using the marketplace is locked out.
"""

from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", marketplace.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE user_account SET email_confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("email_confirmed_at")
