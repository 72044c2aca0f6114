"""A new app process serves its first pages while its e-mail thread sends a backlog: it must live.

Guards against the worker crash of issue #15 (docs/PERFORMANCE.md, "A worker dies now and
then"): under Python 3.11.7 a process died of a segmentation fault (heap corruption, only with
the cyclic garbage collector on) when the e-mail thread sent queued e-mails while request
threads served their first need lists, on SQLite and on PostgreSQL alike; under Python 3.12 it
does not. Here a real app process (``serve_first_pages.py``, created as a server creates it:
INFO logging through the JSON formatter, no embedding model) starts on a small marketplace
with a few hundred e-mails waiting, four clients ask for the need list, and the
test checks the process ended normally, every page answered 200 and every e-mail went out.
The app runs in a subprocess so that a crash fails this test instead of killing pytest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.clock import council_today
from marketplace.db import make_session_factory
from marketplace.models import Notification
from marketplace.search.replicas import replica_name
from marketplace.search.sync import rebuild
from marketplace.services import accounts, needs, organisations
from marketplace.services.notifications import queue_email
from search_index import SearchIndex
from tests.conftest import PASSWORD, POSTGRES_ENV, _create_postgres_database, migrated_engine, need_fields

# Slow (a real app process under load for about 20 s): run with `pytest -m perf tests/perf`.
pytestmark = pytest.mark.perf

GROUPS = 20
NEEDS_PER_GROUP = 5
EMAILS = 300
CLIENTS = 4
LOAD_SECONDS = 20.0
APP_PROCESS = Path(__file__).with_name("serve_first_pages.py")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the test's own: a SQLite file, or PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'marketplace.sqlite3'}"
        return
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}")
    url, drop = _create_postgres_database(os.environ[POSTGRES_ENV])
    yield url
    drop()


def _marketplace_with_waiting_emails(url: str, index_dir: Path) -> None:
    """Verified groups' needs, indexed, and ``EMAILS`` e-mails queued but not sent."""
    engine = migrated_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        officer = accounts.create_user(
            session, email="officer@example.gov.uk", role="officer", organisation_name="Council", password=PASSWORD
        )
        for g in range(GROUPS):
            group = accounts.create_user(
                session,
                email=f"group{g}@example.org",
                role="community",
                organisation_name=f"Lunch Club {g}",
                password=PASSWORD,
            )
            organisations.verify_organisation(session, officer, group.organisation_id)
            for n in range(NEEDS_PER_GROUP):
                needs.post_need(session, group, need_fields(title=f"Room for lunch club {g}, {n}"), council_today())
        # With the "organisation verified" e-mails above: a backlog such as a server finds on start.
        waiting = EMAILS - session.scalar(select(func.count()).select_from(Notification))
        queue_email(
            session, [f"member{i}@example.org" for i in range(waiting)], "Pledges this week", "Thank you. " * 40
        )
        session.commit()
    # Under the name the app's replica goes by, so the app starts with it rather than rebuilding it.
    rebuild(factory, SearchIndex(index_dir), replica=replica_name(index_dir))
    engine.dispose()


def test_a_new_process_serves_its_first_pages_while_sending_waiting_emails(
    fresh_database_url: str, tmp_path: Path
) -> None:
    _marketplace_with_waiting_emails(fresh_database_url, tmp_path / "index")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        "MARKETPLACE_DATABASE_URL": fresh_database_url,
        "MARKETPLACE_INDEX_DIR": str(tmp_path / "index"),
        "MARKETPLACE_INSTANCE_DIR": str(tmp_path / "instance"),
        "MARKETPLACE_SECRET_KEY": "worker-start-test-secret-key",
        "MARKETPLACE_LOG_LEVEL": "INFO",
        # Four clients from one address would soon be limited; the limits are not under test.
        "MARKETPLACE_RATELIMIT_ENABLED": "0",
        # Lexical suggestions only: no model to load or download.
        "MARKETPLACE_EMBEDDING_MODEL": "none",
    }
    for name in ("MARKETPLACE_SMTP_URL", "MARKETPLACE_MATCHER_DIR", "MARKETPLACE_INDEX_REPLICA"):
        env.pop(name, None)  # e-mails to the log, the matcher and the index as a lone server keeps them

    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(APP_PROCESS), str(LOAD_SECONDS), str(CLIENTS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=LOAD_SECONDS + 120,
        check=False,
    )

    if done.returncode < 0:
        pytest.fail(
            f"the app process was killed by {signal.Signals(-done.returncode).name} while serving its first pages "
            f"and sending e-mails; what it printed besides its log:\n{_besides_log(done.stderr)}"
        )
    assert done.returncode == 0, _besides_log(done.stderr)
    report = json.loads(done.stdout)
    assert set(report["answers"]) == {"200"}, report["answers"]
    assert sum(report["answers"].values()) > CLIENTS
    assert report["unsent"] == 0
    assert done.stderr.count("e-mail written to the log") == EMAILS


def _besides_log(stderr: str) -> str:
    """What the app process printed other than its JSON log: from a fatal error's report (each
    thread's stack, the faulting one first) when there is one, else the end."""
    lines = [line for line in stderr.splitlines() if not line.startswith(('{"time"', "Extension modules:"))]
    text = "\n".join(lines)
    fatal = text.find("Fatal Python error")
    return text[fatal : fatal + 6000] if fatal >= 0 else text[-4000:]
