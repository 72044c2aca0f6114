"""The migrations and the models describe the same schema, so no change escapes a migration."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from marketplace.db import Base


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
