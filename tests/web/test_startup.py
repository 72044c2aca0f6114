import pytest
from sqlalchemy import text

from marketplace.app import create_app
from marketplace.db import make_engine
from marketplace.schema import SchemaError, upgrade


def test_app_refuses_to_start_on_an_empty_database_and_says_what_to_run(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    with pytest.raises(SchemaError, match="marketplace init"):
        create_app(config.with_overrides(database_url=url, check_schema=True))


def test_app_refuses_an_old_schema_and_a_newer_one(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(SchemaError, match="newer"):
        create_app(config.with_overrides(database_url=url, check_schema=True))
    with pytest.raises(SchemaError, match="newer version"):
        upgrade(engine)
    engine.dispose()


def test_app_starts_on_a_migrated_database(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'ok.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(config.with_overrides(database_url=url, check_schema=True))
    assert app.test_client().get("/needs").status_code == 200
