"""A matcher saved to a folder opens again as the same matcher, sharing its vectors by memory map."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from matching import explain, lexical, snapshot
from matching.documents import Need
from matching.matcher import Matcher
from tests.matching.test_candidates import TODAY, synthetic_matcher


def tops(matcher: Matcher, ids: list[str]) -> list[list[tuple[str, float]]]:
    return [[(s.id, s.score) for s in matcher.suggest_offers(i, today=TODAY, explain=False).items] for i in ids]


def reopened(built: Matcher, folder: Path) -> Matcher:
    """The matcher a further worker gets: ``built`` saved to ``folder`` and opened again."""
    snapshot.save(built, folder, {}, "db-a")
    empty = Matcher(dimension=built.dim)
    opened = snapshot.open_snapshot(folder, snapshot.describe(empty, "db-a"), empty)
    assert opened is not None
    return opened.matcher


def mapped(array: np.ndarray) -> bool:
    """Whether an array is a view of a memory map (not a copy of one)."""
    while array is not None and not isinstance(array, np.memmap):
        array = array.base
    return array is not None


def test_an_opened_snapshot_suggests_what_the_built_matcher_does(tmp_path):
    built = synthetic_matcher(700, 600)
    versions = {"need": {f"n{i}": "v1" for i in range(700)}, "offer": {f"o{i}": "v1" for i in range(600)}}
    snapshot.save(built, tmp_path, versions, "db-a")
    empty = Matcher(dimension=built.dim)
    opened = snapshot.open_snapshot(tmp_path, snapshot.describe(empty, "db-a"), empty)
    assert opened is not None and opened.versions["need"]["n5"] == "v1"
    ids = [f"n{i}" for i in range(0, 700, 35)]
    assert tops(opened.matcher, ids) == tops(built, ids)
    # The vectors are a copy-on-write map of the saved file (a plain view of it), not a copy.
    vecs = opened.matcher.offers.vecs
    assert isinstance(vecs.base, np.memmap) and vecs.base.mode == "c" and not vecs.flags.owndata
    # So are the IDF and the rows' lengths: what the worker would have computed, not computed.
    lex, idf2 = opened.matcher.offers.lex, opened.matcher.index.idf_sq()
    assert isinstance(idf2.base, np.memmap) and isinstance(lex.main_norm.base, np.memmap)
    assert np.array_equal(lex.main_norm, lexical.norms(lex.main, idf2))
    assert np.array_equal(idf2, built.index.fresh_idf_sq())
    # It keeps working as items come and go, like a built one.
    for matcher in (built, opened.matcher):
        matcher.remove_offer("o3")
        doc = matcher.need("n1")
        assert isinstance(doc, Need)
        matcher.upsert_need(Need(**{**doc.__dict__, "id": "new"}), built.needs.vecs[built.needs.pos["n1"]])
    assert tops(opened.matcher, [*ids, "new"]) == tops(built, [*ids, "new"])


def test_a_snapshot_of_another_database_or_setting_is_not_used(tmp_path):
    built = synthetic_matcher(80, 70)
    snapshot.save(built, tmp_path, {}, "db-a")
    other = Matcher(dimension=built.dim)
    assert snapshot.open_snapshot(tmp_path, snapshot.describe(other, "db-b"), other) is None
    lexical_only = Matcher()
    assert snapshot.open_snapshot(tmp_path, snapshot.describe(lexical_only, "db-a"), lexical_only) is None
    assert snapshot.open_snapshot(tmp_path / "nothing-here", snapshot.describe(other, "db-a"), other) is None


def test_saving_again_replaces_the_generation_and_leaves_one(tmp_path):
    built = synthetic_matcher(80, 70)
    first = snapshot.save(built, tmp_path, {}, "db-a")
    second = snapshot.save(built, tmp_path, {}, "db-a")
    assert first != second and not first.exists() and second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.json", second.name]


def test_an_opened_snapshot_keeps_its_documents_through_changes_compaction_and_saving_again(tmp_path):
    # The saved documents stay in the snapshot's files until one is asked for: what a worker
    # reads of them (a document, its title, the reasons) is what a built matcher gives, also
    # once a side is compacted and after the opened matcher is saved and opened again.
    built = synthetic_matcher(300, 250, seed=18)
    snapshot.save(built, tmp_path / "a", {}, "db-a")
    empty = Matcher(dimension=built.dim)
    opened = snapshot.open_snapshot(tmp_path / "a", snapshot.describe(empty, "db-a"), empty)
    assert opened is not None
    for matcher in (built, opened.matcher):
        for i in range(0, 250, 2):  # more than a quarter of the offers: the side is compacted
            matcher.remove_offer(f"o{i}")
        doc = matcher.offer("o1")
        assert doc is not None
        matcher.upsert_offer(replace(doc, id="o-new", title="Another room"), built.offers.vecs[built.offers.pos["o1"]])
    assert len(opened.matcher.offers.pos) == len(built.offers.pos) == 126
    snapshot.save(opened.matcher, tmp_path / "b", {}, "db-a")
    again = Matcher(dimension=built.dim)
    reopened = snapshot.open_snapshot(tmp_path / "b", snapshot.describe(again, "db-a"), again)
    assert reopened is not None
    needs = [f"n{i}" for i in range(0, 300, 15)]
    for matcher in (opened.matcher, reopened.matcher):
        assert all(matcher.offer(i) == built.offer(i) for i in built.offers.pos)
        assert all(matcher.need(i) == built.need(i) for i in built.needs.pos)
        for need_id in needs:
            got, expected = matcher.suggest_offers(need_id, today=TODAY), built.suggest_offers(need_id, today=TODAY)
            assert got == expected, need_id  # ids, titles, scores and reasons


def test_a_snapshot_written_by_an_earlier_release_is_not_used(tmp_path):
    built = synthetic_matcher(80, 70)
    generation = snapshot.save(built, tmp_path, {}, "db-a")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    (generation / "manifest.json").write_text(json.dumps({**manifest, "format": 1}), encoding="utf-8")
    empty = Matcher(dimension=built.dim)
    assert snapshot.open_snapshot(tmp_path, snapshot.describe(empty, "db-a"), empty) is None
    assert "format" in snapshot.why_not(tmp_path, snapshot.describe(empty, "db-a"))


def test_many_new_items_leave_the_shared_lexical_rows_shared(tmp_path):
    # Past DELTA_LIMIT new rows are merged into a block of the worker's own; merging them into
    # the snapshot's block copied every row of the side into each worker.
    built = synthetic_matcher(300, 250, seed=19)
    opened = reopened(built, tmp_path)
    donor = synthetic_matcher(lexical.DELTA_LIMIT + 60, 10, seed=20)
    for matcher in (built, opened):
        for i in range(0, lexical.DELTA_LIMIT + 60):
            doc = donor.need(f"n{i}")
            assert doc is not None
            matcher.upsert_need(replace(doc, id=f"new{i}"), donor.needs.vecs[i])
        matcher.remove_need("n7")
    needs, offers = [f"new{i}" for i in range(0, 316, 45)] + ["n1", "n150"], ["o3", "o99", "o200"]
    for matcher in (built, opened):  # a query of the needs merges their new rows
        matcher.suggest_needs("o1", today=TODAY)
    assert mapped(opened.needs.lex.main.data)
    assert opened.needs.lex.tail.shape[0] > lexical.DELTA_LIMIT
    assert tops(opened, needs) == tops(built, needs)
    for offer_id in offers:
        assert opened.suggest_needs(offer_id, today=TODAY) == built.suggest_needs(offer_id, today=TODAY)


def test_an_opened_snapshot_explains_from_the_words_it_saved(tmp_path):
    # Each saved item's words (what reasons name) are recorded beside its document, so a
    # worker explaining suggestions at 100k reads them instead of analysing each text again.
    built = synthetic_matcher(200, 180, seed=21)
    opened = reopened(built, tmp_path)
    for side in (opened.needs, opened.offers):
        for i in range(side.n):
            assert side.docs.words(i) == explain.text_words(side.docs[i]), i
    pairs = [(f"n{i}", f"o{(7 * i) % 180}") for i in range(0, 200, 9)]
    explain._text_words.cache_clear()
    got = opened.explain_pairs(pairs)
    assert explain._text_words.cache_info().currsize == 0  # no text analysed again
    assert got == built.explain_pairs(pairs)
    assert any(reason.startswith("both mention") for reasons in got.values() for reason in reasons)


def test_a_words_record_reads_back_as_the_text_s_words():
    need = Need(
        id="n1",
        title="Café space for a youth club",
        description="Ages 11–16, Thursdays; café & kitchen",
        category="community",
    )
    assert explain.recorded_words(explain.words_record(need)) == explain.text_words(need)
    blank = replace(need, title="", description="")
    assert explain.recorded_words(explain.words_record(blank)) == explain.TextWords({}, {})
