"""The search index's folder failing for real: a full disk and a read-only disk.

The index lives on a tiny tmpfs mounted for the test, then filled up or remounted read-only.
The tests run as root, so ``chmod`` would not stop a single write; a full or read-only file
system stops root too, exactly as on a server. Where the machine does not allow mounting,
the tests are skipped and say why.

While the folder fails: posting still works (the database is the source of truth, and the
index changes wait in the ``listing_change`` outbox), search answers from the database with
its notice, and nothing crashes at start-up or in ``check-index``. Once the folder works
again, the waiting changes reach the index.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from marketplace.models import IndexReplica, ListingChange
from tests.conftest import need_fields


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


class SmallDisk:
    """A 1 MB tmpfs: enough for a small index, easily filled, and remountable read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount") is None:
            pytest.skip("no mount command on this machine: cannot make a small or read-only disk")
        done = _run("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(self.path))
        if done.returncode != 0:
            pytest.skip(f"this machine does not allow mounting a tmpfs ({done.stderr.strip()}); chmod cannot stop root")

    def read_only(self, on: bool = True) -> None:
        done = _run("mount", "-o", f"remount,{'ro' if on else 'rw'}", str(self.path))
        assert done.returncode == 0, done.stderr

    def fill(self) -> None:
        """Write until the disk refuses: ENOSPC from here on, for every writer."""
        chunk = b"\0" * 4096
        with open(self.filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(chunk)
            except OSError as error:
                assert error.errno == 28, error  # ENOSPC
        # Small writes that may have found a last partial block are taken as well.
        with open(self.path / "filler-tail", "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0")
            except OSError:
                pass

    def free(self) -> None:
        self.filler.unlink()
        (self.path / "filler-tail").unlink()

    def unmount(self) -> None:
        if _run("umount", str(self.path)).returncode != 0:
            _run("umount", "-l", str(self.path))  # a searcher still holds a file: detach it


@pytest.fixture
def disk(tmp_path) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / f"small-disk-{uuid.uuid4().hex[:6]}")
    disk.mount()
    yield disk
    disk.unmount()


@pytest.fixture
def index_app(config, session_factory, disk):
    from marketplace.app import create_app

    app = create_app(config.with_overrides(index_dir=disk.path / "index"), session_factory=session_factory)
    yield app
    app.extensions["marketplace"].search.stop()


@pytest.fixture
def post_need(index_app, make_user, session):
    from marketplace.services import accounts

    member = make_user("community")
    _, token = accounts.create_token(session, member, "index fault tests")
    session.commit()
    client = index_app.test_client()

    def post(title: str) -> int:
        response = client.post(
            "/api/v1/needs", json=need_fields(title=title), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return post


def api_search(app, words: str) -> dict:
    response = app.test_client().get("/api/v1/search", query_string={"q": words})
    assert response.status_code == 200
    return response.get_json()


def hit_ids(body: dict) -> set[int]:
    return {hit["id"] for hit in body["items"] if hit["kind"] == "need"}


def waiting_changes(session, sync, need_id: int) -> int:
    """The need's changes that this server's index replica has not applied yet."""
    session.expire_all()
    replica = session.get(IndexReplica, sync.replica)
    applied = replica.applied_through if replica is not None else 0
    rows = session.scalars(
        select(ListingChange).where(
            ListingChange.kind == "need", ListingChange.item_id == need_id, ListingChange.id > applied
        )
    )
    return len(list(rows))


def search_page(app, words: str) -> str:
    response = app.test_client().get("/search", query_string={"q": words})
    assert response.status_code == 200
    return response.get_data(as_text=True)


FALLBACK_NOTICE = "Search is running in a simpler mode"


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_failing_index_folder_leaves_posting_and_search_working(fault, index_app, disk, post_need, session):
    sync = index_app.extensions["marketplace"].search
    before = post_need("Gazebo for the village fete")
    assert hit_ids(api_search(index_app, "gazebo")) == {before}
    assert api_search(index_app, "gazebo")["fallback"] is False

    disk.read_only() if fault == "read-only" else disk.fill()
    during = post_need("Marquee for the village fete")

    # Saved, and its index change waits in the outbox.
    assert waiting_changes(session, sync, during) == 1
    assert not sync.available
    expected = "Read-only file system" if fault == "read-only" else "No space left on device"
    assert expected in sync.problem
    # Search answers from the database, says so, and finds what was posted meanwhile.
    body = api_search(index_app, "marquee")
    assert body["fallback"] is True and hit_ids(body) == {during}
    page = search_page(index_app, "village fete")
    assert FALLBACK_NOTICE in page
    assert "Gazebo for the village fete" in page and "Marquee for the village fete" in page

    disk.read_only(False) if fault == "read-only" else disk.free()
    # What the background thread does every few seconds: the waiting change goes in.
    assert sync.drain() == 1
    assert sync.available and sync.problem is None
    assert waiting_changes(session, sync, during) == 0
    body = api_search(index_app, "village fete")
    assert body["fallback"] is False and hit_ids(body) == {before, during}
    assert FALLBACK_NOTICE not in search_page(index_app, "marquee")
    assert sync.index.verify() == 2


def test_start_up_on_a_read_only_disk_uses_the_database(config, session_factory, disk, make_need, session, caplog):
    from marketplace.app import create_app

    need = make_need(title="Bunting for the street party")
    session.commit()
    disk.read_only()
    app = create_app(config.with_overrides(index_dir=disk.path / "index"), session_factory=session_factory)
    try:
        sync = app.extensions["marketplace"].search
        assert not sync.available and "Read-only file system" in sync.problem
        assert "search index cannot be updated" in caplog.text
        body = api_search(app, "bunting")
        assert body["fallback"] is True and hit_ids(body) == {need.id}
        assert FALLBACK_NOTICE in search_page(app, "bunting")

        disk.read_only(False)
        sync.drain()
        body = api_search(app, "bunting")
        assert body["fallback"] is False and hit_ids(body) == {need.id}
    finally:
        app.extensions["marketplace"].search.stop()


def check_index(runner: CliRunner, options: list[str]):
    """Run ``marketplace check-index`` as from a shell, closing its database connections after."""
    from marketplace.cli import Context, main

    context = Context()
    try:
        return runner.invoke(main, ["check-index", *options], obj=context)
    finally:
        context.engine.dispose()


def test_check_index_reports_a_read_only_disk_clearly(config, database_url, disk, monkeypatch):
    from marketplace.db import make_engine, make_session_factory
    from marketplace.search.sync import SearchSync

    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", database_url)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(config.instance_dir))
    monkeypatch.setenv("MARKETPLACE_SECRET_KEY", "test-secret-key")
    runner = CliRunner()

    # No index, and the folder cannot be written: a plain explanation, not a traceback.
    disk.read_only()
    monkeypatch.setenv("MARKETPLACE_INDEX_DIR", str(disk.path / "index"))
    result = check_index(runner, ["--fix"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"Error: no search index at {disk.path / 'index'}" in result.output
    assert "marketplace reindex" in result.output

    # An index in place on a disk that has become read-only can still be checked.
    disk.read_only(False)
    engine = make_engine(database_url)
    sync = SearchSync(make_session_factory(engine), disk.path / "index", background=False)
    sync.start()
    sync.stop()
    engine.dispose()
    disk.read_only()
    result = check_index(runner, [])
    assert result.exit_code == 0, result.output
    assert "Checked" in result.output
