"""per-user session version, so signing out ends a session on the server

Revision ID: 0004_hardening
Revises: 0003
Create Date: 2026-12-05 01:45:00

Every signed-in session carries the user's session version; signing out adds one to it,
so a copied session cookie stops working at once instead of living on until it expires.
"""

from alembic import op
import sqlalchemy as sa


revision = "0004_hardening"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("session_version")
