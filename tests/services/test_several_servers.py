"""Two real app servers, each with its own search index folder, on one PostgreSQL database.

Each server is ``marketplace serve`` in its own process. Changes written through either are
found by search on both; a server killed while it applies a long run of changes catches up
from the change log when it starts again (without rebuilding); a server whose folder is
deleted answers from the database while it rebuilds it; and ``marketplace check-index``
finds nothing missing, stale or extra in either folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.clock import council_today
from marketplace.db import make_engine, make_session_factory
from marketplace.schema import upgrade
from marketplace.search import replicas
from marketplace.search.sync import check, drain
from marketplace.services import accounts, needs, organisations
from marketplace.services.reference import seed_reference_data
from search_index import SearchIndex, SearchQuery, Viewer
from tests.conftest import PASSWORD, POSTGRES_ENV, _create_postgres_database, need_fields

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"several app servers share one PostgreSQL database: set {POSTGRES_ENV}"
)

START_SECONDS = 90
# Generous: this proves that changes arrive, not how fast (the sync polls every 2 s).
ARRIVAL_SECONDS = 60
# More than two batches of the sync (500 changes each), so a kill can land between them.
LONG_RUN = 1_300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``marketplace serve`` on loopback with its own index folder, its log in a file."""

    def __init__(self, name: str, database_url: str, folder: Path) -> None:
        self.name = name
        self.index_dir = folder / "index"
        self.log_path = folder / f"{name}.log"
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "MARKETPLACE_DATABASE_URL": database_url,
            "MARKETPLACE_SECRET_KEY": "several-servers-test-key",
            "MARKETPLACE_INSTANCE_DIR": str(folder),
            "MARKETPLACE_INDEX_DIR": str(self.index_dir),
            "MARKETPLACE_EMBEDDING_MODEL": "none",
            "MARKETPLACE_RATELIMIT_ENABLED": "0",
            "MARKETPLACE_LOG_LEVEL": "INFO",
        }
        folder.mkdir(parents=True, exist_ok=True)

    def command(self, *args: str) -> subprocess.CompletedProcess:
        """Run a ``marketplace`` command against this server's folder."""
        return subprocess.run(
            [sys.executable, "-c", "from marketplace.cli import main; main()", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - the server writes to it until stopped
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from marketplace.cli import main; main()", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.log()[-3000:]}"
            try:
                self.search("anything")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.name} did not answer within {START_SECONDS} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine loses power."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def search(self, words: str) -> dict:
        query = urllib.parse.urlencode({"q": words, "per_page": 100})
        return self._call("GET", f"/api/v1/search?{query}")

    def found(self, words: str) -> set[int]:
        return {hit["id"] for hit in self.search(words)["items"] if hit["kind"] == "need"}

    def post_need(self, token: str, title: str) -> int:
        return self._call("POST", "/api/v1/needs", need_fields(title=title), token)["id"]

    def wait_until_found(self, words: str, expected: set[int]) -> None:
        deadline = time.monotonic() + ARRIVAL_SECONDS
        while True:
            body = self.search(words)
            found = {hit["id"] for hit in body["items"] if hit["kind"] == "need"}
            if not body["fallback"] and found >= expected:
                return
            assert time.monotonic() < deadline, f"{self.name} finds {found}, not {expected}:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def check_index(self) -> str:
        done = self.command("check-index")
        assert done.returncode == 0, f"check-index on {self.name}:\n{done.stdout}\n{done.stderr}"
        assert "missing: 0" in done.stdout and "stale: 0" in done.stdout and "extra: 0" in done.stdout
        return done.stdout


@pytest.fixture
def database() -> Iterator[tuple[str, str]]:
    """A fresh, migrated PostgreSQL database with a verified group; its URL and an API token."""
    url, drop = _create_postgres_database(os.environ[POSTGRES_ENV])
    engine = make_engine(url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            seed_reference_data(session)
            officer = accounts.create_user(
                session, email="officer@example.gov.uk", role="officer", organisation_name="Council", password=PASSWORD
            )
            group = accounts.create_user(
                session, email="group@example.org", role="community", organisation_name="Lunch Club", password=PASSWORD
            )
            organisations.verify_organisation(session, officer, group.organisation_id)
            _, token = accounts.create_token(session, group, "servers")
            session.commit()
        yield url, token
    finally:
        engine.dispose()
        drop()


@pytest.fixture
def servers(database, tmp_path) -> Iterator[tuple[Server, Server]]:
    url, _ = database
    first, second = Server("first", url, tmp_path / "first"), Server("second", url, tmp_path / "second")
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        first.stop()
        second.stop()


def _post_long_run(database_url: str, word: str) -> list[int]:
    """Many needs in one transaction, written straight to the database as another server would."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            ids = [_post_as_group(session, f"{word} {number}").id for number in range(LONG_RUN)]
            session.commit()
        return ids
    finally:
        engine.dispose()


def test_two_servers_share_every_change_survive_a_kill_and_a_lost_folder(database, servers):
    url, token = database
    first, second = servers

    # Writes through each server are found on both.
    through_first = first.post_need(token, "Gazebo for the summer fete")
    through_second = second.post_need(token, "Marquee for the summer fete")
    for server in (first, second):
        server.wait_until_found("fete", {through_first, through_second})

    # The second server is killed while it applies a long run of changes.
    applied_before = replicas.read_position(second.index_dir).applied_through
    long_run = _post_long_run(url, "Lantern")
    top = max(long_run)
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while (position := replicas.read_position(second.index_dir)) is None or position.applied_through <= applied_before:
        assert time.monotonic() < deadline, second.log()[-3000:]
        time.sleep(0.005)
    second.kill()
    killed_at = replicas.read_position(second.index_dir).applied_through
    assert applied_before < killed_at < top, "the kill should land in the middle of the run"

    # While it is down, more is written through the first; then it starts again.
    while_down = first.post_need(token, "Bunting for the summer fete")
    first.wait_until_found("fete", {through_first, through_second, while_down})
    restarted_at = len(second.log())
    second.start()
    second.wait_until_found("fete", {through_first, through_second, while_down})
    second.wait_until_found("lantern", set(long_run[-100:]))
    assert "search index rebuilds" not in second.log()[restarted_at:], "it should catch up from the log, not rebuild"
    assert replicas.read_position(second.index_dir).applied_through >= top

    # The first server's folder is lost: it answers from the database while it rebuilds.
    lost_at = len(first.log())
    shutil.rmtree(first.index_dir)
    assert first.found("gazebo") == {through_first}
    first.wait_until_found("fete", {through_first, through_second, while_down})
    assert "search index rebuilds" in first.log()[lost_at:]

    for server in (first, second):
        report = server.check_index()
        assert f"Checked {LONG_RUN + 3} needs and offers." in report


def _post_as_group(session, title: str):
    group = accounts.get_user_by_email(session, "group@example.org")
    return needs.post_need(session, group, need_fields(title=title), council_today())


def test_a_replica_never_moves_past_a_change_whose_transaction_is_still_open(database, tmp_path):
    # PostgreSQL hands out ids before commit: here id n is written by a transaction still open
    # while id n + 1 commits. A replica that applied n + 1 and recorded it would never see n.
    url, _ = database
    engine = make_engine(url)
    factory = make_session_factory(engine)
    index = SearchIndex(tmp_path / "index")
    try:
        drain(factory, index, replica="only")
        with factory() as slow:
            early = _post_as_group(slow, "Early lantern")
            slow.flush()
            with factory() as quick:
                late = _post_as_group(quick, "Late lantern")
                quick.commit()
            assert early.id < late.id
            assert drain(factory, index, replica="only") == 0  # waits for the open transaction
            assert replicas.read_position(tmp_path / "index").applied_through < early.id
            slow.commit()
        drain(factory, index, replica="only")
        hits = index.search(SearchQuery(q="lantern"), Viewer(is_officer=True)).hits
        assert {hit.id for hit in hits} == {early.id, late.id}
        assert check(factory, index, fix=False).ok
    finally:
        index.close()
        engine.dispose()
