"""an index on the pledges' updated_at, for the suggestion engine's stamps

Revision ID: 0011_pledge_updated_index
Revises: 0010_updated_at_indexes
Create Date: 2026-12-05 08:45:00

Every suggestion reads the newest change to needs, offers and pledges in one round trip
(``SuggestionEngine.stamps``), so that each process keeps the suppliers' pledge lists for fair
exposure until a pledge changes, wherever it was made. The (status, updated_at) index does
not answer max(updated_at) over every status without reading all of it; this one does at its end.
"""

from alembic import op

revision = "0011_pledge_updated_index"
down_revision = "0010_updated_at_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pledge_updated", "pledge", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_pledge_updated", table_name="pledge")
