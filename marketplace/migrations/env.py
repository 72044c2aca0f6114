"""Alembic environment: runs migrations on the connection handed over by marketplace.schema."""

from alembic import context

from marketplace import models  # noqa: F401  (registers every table on Base.metadata)
from marketplace.db import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
