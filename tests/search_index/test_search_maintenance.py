"""Writing, rebuilding with an atomic swap, checking and repairing, corruption."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest

from search_index import IndexUnavailable, SearchIndex, SearchQuery, Viewer
from search_index.docsets import _leaf_ids

ALL = SearchQuery(status="*", per_page=100)
OFFICER = Viewer(is_officer=True)


def indexed_keys(index):
    return {f"{h.kind}:{h.id}" for h in index.search(ALL, OFFICER).hits}


def test_apply_is_idempotent_and_replaces_by_key(index, make_item):
    item = make_item(title="Bicycle")
    index.apply([item])
    index.apply([item])
    changed = dataclasses.replace(item, title="Tricycle")
    index.apply([changed, changed])
    assert index.search(SearchQuery(q="bicycle")).total == 0
    (hit,) = index.search(SearchQuery(q="tricycle")).hits
    assert (hit.kind, hit.id) == ("need", item.id)
    assert index.verify() == 1


def test_delete_wins_over_upsert_in_one_batch_and_unknown_keys_are_ignored(index, make_item):
    keep, drop = make_item(title="Tent"), make_item(title="Tent")
    index.apply([keep, drop])
    index.apply([drop], deletes=[drop.key, "offer:999999"])
    assert indexed_keys(index) == {keep.key}
    index.apply(deletes=[drop.key])  # again: still fine
    assert indexed_keys(index) == {keep.key}


def test_many_small_batches_make_segments_that_search_correctly(index, make_item):
    items = [make_item(title=f"Paint {n}", category=("goods", "other")[n % 2]) for n in range(30)]
    for start in range(0, 30, 3):
        index.apply(items[start : start + 3])
    index.apply(deletes=[i.key for i in items[:5]])
    results = index.search(SearchQuery(q="paint", per_page=50))
    assert results.total == 25
    assert {v.value: v.count for v in results.facets["category"]} == {"goods": 12, "other": 13}


def test_fast_posting_reader_matches_whoosh(index, make_item):
    index.apply([make_item(title="Common word", description=f"text {n}") for n in range(700)])
    index.apply([make_item(title="Rare word")])
    snapshot = index._current()
    reader = snapshot.searcher.reader()
    for sub, _ in reader.leaf_readers():
        for term in ("common", "word", "rare"):
            if ("title", term) in sub:
                slow = list(sub.postings("title", term).all_ids())
                assert _leaf_ids(sub.postings("title", term)).tolist() == slow


def test_rebuild_swaps_atomically_while_a_reader_is_open(tmp_path, make_item):
    path = tmp_path / "search"
    writer_side, reader_side = SearchIndex(path), SearchIndex(path)
    old = [make_item(title="Old hammer") for _ in range(3)]
    writer_side.apply(old)
    assert reader_side.search(SearchQuery(q="hammer")).total == 3
    open_snapshot = reader_side._current()

    seen = []
    new = [make_item(title="New saw") for _ in range(2500)]
    report = writer_side.rebuild(iter(new), progress=seen.append)
    assert report.items == 2500 and seen[-1] == 2500 and seen[:2] == [1000, 2000]

    # The reader's already-open searcher still works on the old generation...
    assert len(list(open_snapshot.searcher.documents())) == 3
    # ...and its next search sees the new one.
    assert reader_side.search(SearchQuery(q="hammer")).total == 0
    assert reader_side.search(SearchQuery(q="saw")).total == 2500
    writer_side.rebuild(iter(new[:1]))
    generations = sorted(p.name for p in path.iterdir() if p.name.startswith("gen-"))
    assert len(generations) == 2  # the live one and the one it replaced
    writer_side.close()
    reader_side.close()


def test_batches_applied_during_a_rebuild_are_replayed(tmp_path, make_item):
    path = tmp_path / "search"
    index, other_process = SearchIndex(path), SearchIndex(path)
    stale = make_item(title="Stale rope")
    index.apply([stale])
    late = make_item(title="Late ladder")

    def progress(done):
        # Committed to the database after the rebuild read it: only the journal has it.
        other_process.apply([late], deletes=[stale.key])

    report = index.rebuild(iter([stale, make_item(title="Rope")]), progress=progress)
    assert report.replayed == 2
    assert index.search(SearchQuery(q="ladder")).total == 1
    assert index.search(SearchQuery(q="rope")).total == 1
    other_process.apply([make_item(title="After ladder")])  # writes go to the new generation
    assert index.search(SearchQuery(q="ladder")).total == 2
    assert not (path / "journal.jsonl").exists()


def test_rebuild_skips_duplicate_keys(index, make_item):
    item = make_item(title="Duplicate drum")
    report = index.rebuild([item, item])
    assert (report.items, report.duplicates) == (1, 1)
    assert index.search(SearchQuery(q="drum")).total == 1


def test_check_finds_missing_stale_and_extra_and_fix_repairs(index, make_item):
    kept, stale, missing, extra = (make_item(title=t) for t in ("Kept", "Stale", "Missing", "Extra"))
    index.apply([kept, stale, extra])
    newer = dataclasses.replace(stale, title="Fresh", updated_at=stale.updated_at + timedelta(hours=1))
    database = [kept, newer, missing]

    report = index.check(database)
    assert report.missing == (missing.key,)
    assert report.stale == (stale.key,)
    assert report.extra == (extra.key,)
    assert report.checked == 3 and not report.ok and not report.fixed

    fixed = index.check(database, fix=True)
    assert fixed.fixed
    assert index.check(database).ok
    assert indexed_keys(index) == {kept.key, newer.key, missing.key}
    assert index.search(SearchQuery(q="fresh")).total == 1


def test_naive_and_aware_datetimes_compare_equal_in_check(index, make_item):
    aware = make_item()
    naive = dataclasses.replace(aware, updated_at=aware.updated_at.replace(tzinfo=None))
    index.apply([aware])
    assert index.check([naive]).ok


def _garble(directory):
    for file in directory.rglob("*"):
        if file.is_file():
            file.write_bytes(b"\x00garbage\xff" * 64)


def test_corrupt_files_raise_index_unavailable_and_rebuild_recovers(tmp_path, make_item):
    path = tmp_path / "search"
    SearchIndex(path).apply([make_item(title="Sieve")])
    (generation,) = [p for p in path.iterdir() if p.name.startswith("gen-")]
    _garble(generation)

    index = SearchIndex(path)
    with pytest.raises(IndexUnavailable):
        index.verify()
    with pytest.raises(IndexUnavailable):
        index.search(SearchQuery(q="sieve"))
    with pytest.raises(IndexUnavailable):
        index.apply([make_item(title="Sieve")])
    index.rebuild([make_item(title="Sieve")])
    assert index.search(SearchQuery(q="sieve")).total == 1
    index.close()


@pytest.mark.parametrize("damage", ["pointer_garbage", "pointer_to_nowhere", "no_pointer", "empty_generation"])
def test_missing_index_raises_index_unavailable(tmp_path, make_item, damage):
    path = tmp_path / "search"
    SearchIndex(path).apply([make_item()])
    (generation,) = [p for p in path.iterdir() if p.name.startswith("gen-")]
    if damage == "pointer_garbage":
        (path / "CURRENT").write_bytes(b"\xff\xfe../../etc")
    elif damage == "pointer_to_nowhere":
        (path / "CURRENT").write_text("gen-nope")
    elif damage == "no_pointer":
        (path / "CURRENT").unlink()
    else:
        for file in generation.iterdir():
            file.unlink()
    index = SearchIndex(path)
    assert damage == "empty_generation" or not index.exists()
    with pytest.raises(IndexUnavailable):
        index.search(SearchQuery())
    index.rebuild([])
    assert index.verify() == 0


def test_search_on_a_path_without_an_index(tmp_path):
    index = SearchIndex(tmp_path / "nothing", create=False)
    assert not index.exists()
    with pytest.raises(IndexUnavailable):
        index.search(SearchQuery(q="x"))


def test_masks_are_consistent_with_deleted_documents(index, make_item):
    items = [make_item(title="Cup", category="goods") for _ in range(5)]
    index.apply(items)
    index.apply(deletes=[items[0].key, items[1].key])
    snapshot = index._current()
    assert int(np.count_nonzero(snapshot.live)) == 3
    assert int(np.count_nonzero(snapshot.value("category", "goods"))) == 3
