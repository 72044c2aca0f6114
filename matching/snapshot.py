"""A built matcher saved to a folder and opened again without rebuilding it.

Building a matcher from 100,000 stored vectors takes minutes: every item's lexical row and
every item's nearest neighbours on the other side. A worker that starts from a snapshot only
reads files. The vectors (and, on a large side, their projections for the approximate first
stage, with its basis), the lexical matrices, frequencies and row lengths, the IDF and the documents
(pickled field values in one blob, titles in another, the words reasons name in a third:
:class:`matching.store.Documents`)
are memory-mapped copy-on-write, so the workers of one machine share one copy in the page
cache (a worker copies only the pages it changes); the ids, the rules' per-item arrays and
the hubness neighbours are each worker's own (read, not rebuilt from the documents).

The snapshot records, per item, a version string the caller chose (the application: the
row's ``updated_at``). The caller checks it against its source of truth after opening and
applies what changed with ``upsert_*``/``remove_*``; :func:`save` again when much changed.

Layout: ``FOLDER/current.json`` names the generation folder holding the files; a new
generation is written beside it and ``current.json`` replaced atomically, so a reader never
sees a half-written snapshot. Older generations are removed (an open memory map of a removed
file stays valid).
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from matching import lexical
from matching.documents import Need, Offer
from matching.matcher import Matcher
from matching.store import Documents, Side

FORMAT = 4
"""Bump when the files change meaning; older snapshots are then ignored (and rebuilt).
3: the approximate first stage's basis and projected vectors. 4: the words reasons name.
Bump it too when the text analysis changes (``matching.encoders``: normalising, stop words,
stemming): the saved lexical rows and words records were made by it, and a query's words
would then no longer meet a saved item's."""
HEADROOM = 0.125
"""Spare vector rows saved after each side's items, so new items are written into the shared
map (one page each) instead of growing a private copy of the whole matrix."""


@dataclass(frozen=True)
class Opened:
    """A matcher opened from a snapshot, and each item's version when it was saved.

    Attributes:
        matcher: the matcher, ready to answer.
        versions: ``{"need": {id: version}, "offer": {id: version}}``.
    """

    matcher: Matcher
    versions: dict[str, dict[str, str]]


def describe(matcher: Matcher, source: str) -> dict[str, Any]:
    """What a snapshot must agree with to be used: the source, the model and the settings."""
    return {
        "format": FORMAT,
        "source": source,
        "model": matcher.model_name,
        "dimension": matcher.dim,
        "hub_k": matcher.hub_k,
        "n_features": matcher.lexical.n_features,
        "params": matcher.params.to_json(),
        # Documents are pickled: a release that changes their fields must not read old ones.
        "documents": [[f.name for f in fields(Need)], [f.name for f in fields(Offer)]],
    }


def save(matcher: Matcher, folder: Path, versions: Mapping[str, Mapping[str, str]], source: str) -> Path:
    """Write the matcher's open items to a new generation in ``folder`` and make it current.

    Args:
        matcher: the matcher.
        folder: the snapshot folder (created if need be).
        versions: each stored item's version by kind and id (items without one are saved
            with an empty version, so the caller's check will refresh them).
        source: names the source of truth (e.g. the database), so another's snapshot is ignored.

    Returns:
        The generation folder written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    tmp = folder / f"tmp-{token}"
    tmp.mkdir()
    ids: dict[str, list[str]] = {}
    saved_versions: dict[str, dict[str, str]] = {}
    # The IDF a worker opening the snapshot computes first, and the rows' lengths with it.
    idf2 = matcher.index.fresh_idf_sq()
    for kind, side in (("need", matcher.needs), ("offer", matcher.offers)):
        live = np.flatnonzero(side.alive[: side.n])
        spare = max(64, int(live.size * HEADROOM))
        vecs = np.zeros((live.size + spare, side.dim), dtype=np.float32)
        vecs[: live.size] = side.vecs[: side.n][live]
        np.save(tmp / f"{kind}-vecs.npy", vecs)
        if side.basis is not None:
            # With the same spare rows: a new item's projection goes into the shared map too.
            reduced = np.zeros((live.size + spare, side.basis.shape[1]), dtype=np.float32)
            reduced[: live.size] = side.reduced[: side.n][live]
            np.save(tmp / f"{kind}-reduced.npy", reduced)
        np.save(tmp / f"{kind}-top.npy", side.top[: side.n][live])
        for name in Side.ATTRIBUTES:
            np.save(tmp / f"{kind}-{name}.npy", getattr(side, name)[: side.n][live])
        rows = side.lex.rows()[live] if live.size else sp.csr_matrix((0, side.n_features), dtype=np.float32)
        rows = sp.csr_matrix(rows, dtype=np.float32)
        np.save(tmp / f"{kind}-lex-data.npy", rows.data)
        # Both index arrays of one integer type, or SciPy converts them on open (a private copy).
        index_type = np.int32 if rows.nnz < np.iinfo(np.int32).max else np.int64
        np.save(tmp / f"{kind}-lex-indices.npy", rows.indices.astype(index_type))
        np.save(tmp / f"{kind}-lex-indptr.npy", rows.indptr.astype(index_type))
        np.save(tmp / f"{kind}-lex-norms.npy", lexical.norms(rows, idf2))
        slots = live.tolist()
        _save_blob(tmp / f"{kind}-docs", [side.docs.values(i) for i in slots])
        _save_blob(tmp / f"{kind}-titles", [side.docs.title(i).encode("utf-8") for i in slots])
        _save_blob(tmp / f"{kind}-words", [side.docs.saved_words(i) for i in slots])
        ids[kind] = [side.docs.id(i) for i in slots]  # type: ignore[misc]
        known = versions.get(kind, {})
        saved_versions[kind] = {item_id: known.get(item_id, "") for item_id in ids[kind]}
    if matcher.needs.basis is not None:
        np.save(tmp / "basis.npy", matcher.needs.basis)
    np.save(tmp / "lexical-df.npy", matcher.index.df)
    np.save(tmp / "lexical-idf.npy", idf2)
    codes = {"categories": matcher.codes.categories, "districts": matcher.codes.districts}
    with (tmp / "documents.pickle").open("wb") as out:
        saved = {"ids": ids, "versions": saved_versions, "ndocs": matcher.index.ndocs, "codes": codes}
        pickle.dump(saved, out, protocol=5)
    manifest = {
        **describe(matcher, source),
        "needs": len(ids["need"]),
        "offers": len(ids["offer"]),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    generation = folder / f"gen-{token}"
    tmp.rename(generation)
    pointer = folder / f"current.{token}.json"
    pointer.write_text(json.dumps({"generation": generation.name}), encoding="utf-8")
    os.replace(pointer, folder / "current.json")
    for old in folder.iterdir():
        # Earlier generations and abandoned temporary folders; maps of them stay valid.
        if old.is_dir() and old.name != generation.name and old.name.startswith(("gen-", "tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return generation


def open_snapshot(folder: Path, expected: Mapping[str, Any], matcher: Matcher) -> Opened | None:
    """Fill an empty matcher from the current snapshot in ``folder``, if there is a usable one.

    Args:
        folder: the snapshot folder.
        expected: what :func:`describe` gives for this matcher and source; any difference
            (another model, other settings, another database) means the snapshot is not used.
        matcher: a new, empty matcher with the settings to use.

    Returns:
        The filled matcher and the saved versions, or None (no snapshot, another's, unreadable).
    """
    folder = Path(folder)
    try:
        pointer = json.loads((folder / "current.json").read_text(encoding="utf-8"))
        generation = folder / str(pointer["generation"])
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
        if any(manifest.get(key) != value for key, value in expected.items()):
            return None
        with (generation / "documents.pickle").open("rb") as handle:
            saved = pickle.load(handle)
        matcher.codes.categories = dict(saved["codes"]["categories"])
        matcher.codes.districts = dict(saved["codes"]["districts"])
        basis = np.load(generation / "basis.npy") if (generation / "basis.npy").exists() else None
        for kind, side in (("need", matcher.needs), ("offer", matcher.offers)):
            ids = saved["ids"][kind]
            blob, at = _open_blob(generation / f"{kind}-docs")
            titles, title_at = _open_blob(generation / f"{kind}-titles")
            words, words_at = _open_blob(generation / f"{kind}-words")
            docs = Documents.saved(Need if kind == "need" else Offer, ids, blob, at, titles, title_at, words, words_at)
            attributes = {name: np.load(generation / f"{kind}-{name}.npy") for name in Side.ATTRIBUTES}
            vecs = _mapped(generation / f"{kind}-vecs.npy")
            top = np.load(generation / f"{kind}-top.npy")
            data = _mapped(generation / f"{kind}-lex-data.npy")
            indices = _mapped(generation / f"{kind}-lex-indices.npy")
            indptr = _mapped(generation / f"{kind}-lex-indptr.npy")
            rows = sp.csr_matrix((data, indices, indptr), shape=(len(ids), side.n_features), copy=False)
            _adopt(side, ids, docs, vecs, top, rows, attributes)
            if basis is not None:
                reduced = _mapped(generation / f"{kind}-reduced.npy")
                if reduced.shape != (vecs.shape[0], basis.shape[1]) or basis.shape[0] != side.dim:
                    raise ValueError("snapshot arrays do not fit the matcher's settings")
                side.basis, side.reduced = basis, reduced  # the shared map: not copied
        matcher.index.df = _mapped(generation / "lexical-df.npy")
        matcher.index.ndocs = int(saved["ndocs"])
        idf2 = _mapped(generation / "lexical-idf.npy")
        matcher.index.saved_idf_sq(idf2)
        for kind, side in (("need", matcher.needs), ("offer", matcher.offers)):
            side.lex.saved_norms(_mapped(generation / f"{kind}-lex-norms.npy"), idf2)
        return Opened(matcher, saved["versions"])
    except Exception:  # any damage (a truncated file, a foreign pickle) only means: build instead
        return None


def why_not(folder: Path, expected: Mapping[str, Any]) -> str:
    """Why :func:`open_snapshot` gave None, in a few words (for the log)."""
    try:
        pointer = json.loads((Path(folder) / "current.json").read_text(encoding="utf-8"))
        manifest = json.loads((Path(folder) / str(pointer["generation"]) / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no snapshot yet"
    except Exception as error:
        return f"unreadable ({type(error).__name__})"
    differ = sorted(key for key, value in expected.items() if manifest.get(key) != value)
    return f"made with another {', '.join(differ)}" if differ else "damaged files"


def _mapped(path: Path) -> np.ndarray:
    """A saved array memory-mapped copy-on-write, as a plain array (a view of the map).

    ``np.memmap`` itself would make every slice and product of it a memmap too, a cost paid
    on every suggestion.
    """
    return np.asarray(np.load(path, mmap_mode="c"))


def _save_blob(path: Path, items: list[bytes]) -> None:
    """Byte strings one after another (``PATH.npy``) and each one's (start, stop) (``PATH-at.npy``)."""
    stops = np.cumsum([len(item) for item in items], dtype=np.int64)
    at = np.stack([stops - [len(item) for item in items], stops], axis=1) if items else np.zeros((0, 2), np.int64)
    np.save(path.with_name(path.name + ".npy"), np.frombuffer(b"".join(items), dtype=np.uint8))
    np.save(path.with_name(path.name + "-at.npy"), at.astype(np.int64))


def _open_blob(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`_save_blob` wrote: the bytes mapped (shared), the places read."""
    return _mapped(path.with_name(path.name + ".npy")), np.load(path.with_name(path.name + "-at.npy"))


def _adopt(
    side: Side,
    ids: list[str],
    docs: Documents,
    vecs: np.ndarray,
    top: np.ndarray,
    rows: sp.csr_matrix,
    attributes: Mapping[str, np.ndarray],
) -> None:
    n, cap = len(docs), vecs.shape[0]
    if top.shape != (n, side.hub_k) or vecs.shape[1] != side.dim or cap < n:
        raise ValueError("snapshot arrays do not fit the matcher's settings")
    if any(values.shape != (n,) for values in attributes.values()):
        raise ValueError("snapshot arrays do not fit the matcher's settings")
    side.grow(cap, vectors=False)
    side.vecs = vecs  # the shared map: not copied
    side.docs = docs
    side.pos = {item_id: i for i, item_id in enumerate(ids)}
    side.n = n
    side.alive[:n] = True
    side.top[:n] = top
    for name, values in attributes.items():
        getattr(side, name)[:n] = values
    side.lex.adopt(rows)
    side.changed()
