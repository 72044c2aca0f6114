"""Schema management: Alembic migrations run in code, and the start-up schema check.

``marketplace init`` upgrades the database to the newest migration; the app refuses to
start on a database that is behind (or ahead of) the code, with a message saying what to
do instead of failing on the first query.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaError(RuntimeError):
    """The database schema does not match this version of the code."""


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def known_revision(revision: str) -> bool:
    """Whether this code knows the migration (a database at an unknown one is newer or another branch's)."""
    try:
        return ScriptDirectory.from_config(_alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(bind: Engine | Connection) -> str | None:
    """The migration the database is at, or None for an empty database."""
    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with bind.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(connection: Connection, revision: str = "head") -> None:
    """Apply migrations on this connection, inside its transaction (which the caller commits)."""
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``, refusing a database newer than the code."""
    current = current_revision(engine)
    if current is not None and not known_revision(current):
        raise SchemaError(
            f"The database is at migration {current}, which this version of the marketplace "
            "does not know: it was created by a newer version. Upgrade the code instead."
        )
    with engine.begin() as connection:
        migrate(connection, revision)


def check_schema(engine: Engine) -> None:
    """Raise SchemaError with a clear instruction unless the database is at the head migration."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaError("The database has no marketplace tables yet. Run `marketplace init` to create them.")
    if not known_revision(current):
        raise SchemaError(
            f"The database is at migration {current}, newer than this code knows ({head}). "
            "Upgrade the marketplace code."
        )
    raise SchemaError(
        f"The database schema is out of date (at {current}, the code needs {head}). "
        "Run `marketplace init` to upgrade it; your data is kept."
    )
