"""Several processes writing to one index at once lose nothing."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from search_index import IndexedItem, SearchIndex, SearchQuery, Viewer

WORKERS = 4
BATCHES = 6
PER_BATCH = 5
START = datetime(2025, 1, 1, tzinfo=UTC)


def _item(worker: int, number: int) -> IndexedItem:
    item_id = worker * 10_000 + number
    return IndexedItem(
        kind="offer" if number % 2 else "need",
        id=item_id,
        title=f"Worker {worker} item {number}",
        description="Spare folding tables and chairs.",
        category="goods",
        districts=("Melton",),
        outcomes=("great-communities",),
        status="open",
        organisation_id=worker,
        organisation_name=f"Worker {worker}",
        organisation_verified=True,
        created_at=START + timedelta(seconds=item_id),
        updated_at=START + timedelta(seconds=item_id),
    )


def _write(path: str, worker: int, log: str | None) -> None:
    index = SearchIndex(Path(path), create=False, lock_timeout=120)
    for batch in range(BATCHES):
        items = [_item(worker, batch * PER_BATCH + n) for n in range(PER_BATCH)]
        if log:
            # "Commit to the database" before indexing, as the application does.
            with open(log, "a") as handle:
                handle.write("".join(f"{i.id}\n" for i in items))
        deletes = [_item(worker, (batch - 1) * PER_BATCH).key] if batch and not log else []
        index.apply(items, deletes=deletes)
    index.close()


def _expected_keys(with_deletes: bool) -> set[str]:
    keys = set()
    for worker in range(WORKERS):
        for number in range(BATCHES * PER_BATCH):
            deleted = with_deletes and number % PER_BATCH == 0 and number < (BATCHES - 1) * PER_BATCH
            if not deleted:
                keys.add(_item(worker, number).key)
    return keys


def _indexed_keys(index: SearchIndex) -> set[str]:
    keys: set[str] = set()
    page = 1
    while True:
        results = index.search(SearchQuery(status="*", page=page, per_page=100), Viewer(is_officer=True))
        keys.update(f"{h.kind}:{h.id}" for h in results.hits)
        if page >= results.pages:
            return keys
        page += 1


@pytest.fixture
def context():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    return multiprocessing.get_context("fork")


def test_concurrent_writer_processes_lose_nothing(tmp_path, context):
    path = tmp_path / "search"
    index = SearchIndex(path)
    processes = [context.Process(target=_write, args=(str(path), w, None)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert _indexed_keys(index) == _expected_keys(with_deletes=True)
    assert index.verify() == len(_expected_keys(with_deletes=True))
    index.close()


def test_writers_during_a_rebuild_lose_nothing(tmp_path, context):
    path = tmp_path / "search"
    index = SearchIndex(path)
    logs = [tmp_path / f"db-{w}.log" for w in range(WORKERS)]
    for log in logs:
        log.touch()
    base = [_item(99, n) for n in range(1500)]

    def database():
        # Read lazily, when the rebuild starts iterating: later commits reach the new
        # index only through the rebuild's journal.
        ids = {int(line) for log in logs for line in log.read_text().split()}
        yield from base
        for item_id in sorted(ids):
            yield _item(item_id // 10_000, item_id % 10_000)

    processes = [context.Process(target=_write, args=(str(path), w, str(logs[w]))) for w in range(WORKERS)]
    for process in processes:
        process.start()
    index.rebuild(database())
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    expected = _expected_keys(with_deletes=False) | {i.key for i in base}
    assert _indexed_keys(index) == expected
    index.close()


def _commit_many(path: str, commits: int) -> None:
    index = SearchIndex(Path(path), create=False, lock_timeout=120)
    for number in range(commits):
        index.apply([_item(7, number)])
    index.close()


def test_readers_opening_the_index_while_a_writer_commits_never_see_it_broken(tmp_path, context):
    # Each commit deletes the previous table of contents (_MAIN_<n>.toc): a reader that listed
    # the folder just before must try again, not report the index as unreadable.
    path = tmp_path / "search"
    SearchIndex(path).close()
    writer = context.Process(target=_commit_many, args=(str(path), 80))
    writer.start()
    opened = 0
    while writer.is_alive() or not opened:
        reader = SearchIndex(path, create=False)
        reader.verify()  # raises IndexUnavailable if a vanished file were taken for corruption
        reader.close()
        opened += 1
    writer.join(timeout=120)
    assert writer.exitcode == 0
    assert SearchIndex(path, create=False).verify() == 80
