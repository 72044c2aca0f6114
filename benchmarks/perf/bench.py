"""`marketplace bench`: every figure of issue #7 beside a yardstick measured in the same run.

Each size gets its own SQLite database and Whoosh index in a temporary folder, filled by
the synthetic generator through the services (so vectors and index entries are real).
Then, at that size:

- suggestions for one item, through the service a page calls (``offers_for_need`` /
  ``needs_for_offer``: database read, matcher, visibility filter), against an exact
  brute-force numpy top-10 over the same stored vectors; and the recall@10 of the
  matcher's top 10 against the top 10 it gives when it scores every item exactly: past
  ``matching.first_stage.APPROXIMATE_FROM`` items on a side, an approximate first stage
  picks which items are scored, and this is what it costs (over ``RECALL_QUERIES`` items of
  each side); below, both are the same computation;
- search through the service the search page calls (``queries.search``: parsed query,
  visibility, the five facet counts), against SQLite FTS5 over the same texts with the same
  visibility rules and facet counts;
- at the largest size: bulk load items/s end to end against bare
  ``SentenceTransformer.encode`` of a sample of the same texts, measured in slices
  between the load's chunks (so both see the same spells of machine load, and the slices
  are not counted in the load's time; the load encodes each chunk beside its database
  work, never during a slice), and the web figures and worker memory from
  :mod:`benchmarks.perf.web_load`.

Targets are attached to the figures at the largest size of the run (100k in the full run,
10k with ``--quick``). Progress goes to standard error so ``--json`` stays parseable.
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from threadpoolctl import ThreadpoolController

import matching
from benchmarks.perf import stores as kept_stores
from benchmarks.perf.exposure import measure_exposure
from benchmarks.perf.fts import build_fts, fts_search, percentile
from benchmarks.perf.results import Result, Target
from benchmarks.perf.synthetic import CHUNK, GENERATOR_VERSION, LoadReport, generate
from benchmarks.perf.vectors import CachedEncoder, cache_dir
from marketplace.clock import council_today
from marketplace.db import make_engine, make_session_factory, write_intent
from marketplace.models import ListingEmbedding, Need, Offer, Organisation, User
from marketplace.models.organisation import Verification
from marketplace.schema import upgrade
from marketplace.search.documents import all_documents
from marketplace.search.queries import search
from marketplace.search.sync import SearchSync
from marketplace.services.reference import seed_reference_data
from marketplace.services.suggestions import needs_for_offer, offers_for_need
from marketplace.suggestions.engine import SuggestionEngine
from matching import hubness, ranking
from search_index import SearchIndex, SearchQuery

_BLAS = ThreadpoolController()
FULL_SIZES = (1_000, 10_000, 100_000)
SEED = 2026  # the corpus every size is a prefix of
QUICK_SIZES = (1_000, 10_000)
SEARCH_FROM = 10_000
EXPOSURE_AT = 10_000  # issue #16: fair exposure on the synthetic 10k corpus (one query per offer)
SUGGESTION_QUERIES = 200
RECALL_QUERIES = 500  # of each side, for the approximate first stage's recall@10
SEARCH_ROUNDS = 3
ENCODE_SLICE = 64  # texts per yardstick slice: two of the encoder's batches
ENCODE_SAMPLE = 800  # about this many texts for the encode yardstick in all, spread over the load

SUGGEST_P95 = Target(20.0)
# Issue #15: the matcher alone within 3 times the numpy top-10 (at 10k and 100k); the service
# call within 3 ms of the matcher; a worker's matcher ready in 5 s at 100k, 0.5 s at 10k.
MATCHER_RATIO = Target(3.0, on_ratio=True)
SERVICE_OVER_MATCHER = Target(3.0)
MATCHER_RATIO_FROM = 10_000


def warm_up_target(items: int) -> Target | None:
    """The start-up budget at this size (None below 10k)."""
    return Target(5.0) if items >= 100_000 else Target(0.5) if items >= 10_000 else None


RECALL = Target(0.99, at_most=False)
SEARCH_MEDIAN = Target(50.0)
SEARCH_P95 = Target(150.0)
# Issue #15: "the load stays a measured figure (bulk load >= 0.9 of bare encode)"; #7 asked 0.7.
LOAD_RATIO = Target(0.90, at_most=False, on_ratio=True)
QUICK_BUDGET_MINUTES = 5.0
# With a warm vector cache the bulk load is measured on a load of its own, this size at most,
# from another seed (so its texts are new to the encoder).
LOAD_MEASURED_ITEMS = 1_000
LOAD_SEED = 7
# Issue #15: the full run within 20 minutes once the vector cache is warm (#7 gave it 30).
FULL_BUDGET_MINUTES = 20.0

# Typical one-to-three word searches, and some with a facet filter applied (as on the page).
QUERIES = [
    "volunteers", "minibus", "office space", "laptops", "food bank", "garden tools", "tree planting",
    "mentoring young people", "cafe", "community hall", "posters", "legal advice trustees", "apprenticeships",
    "grant", "older residents", "Loughborough", "van driver", "solar panels", "hedge", "football kit",
    "interview practice", "christmas hampers", "website help", "furniture",
]  # fmt: skip
FILTERED = [
    ("volunteers", {"district": "Melton"}),
    ("laptops", {"category": "goods"}),
    ("community transport", {"kind": "offer"}),
    ("room", {"outcome": "great-communities"}),
]


def say(message: str) -> None:
    """Progress for people, on standard error."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def label(items: int) -> str:
    """1k, 10k, 100k, or the plain number."""
    return f"{items // 1000}k" if items >= 1000 and items % 1000 == 0 else str(items)


@dataclass
class Store:
    """One loaded database with its index and suggestion engine."""

    items: int
    url: str
    factory: sessionmaker
    index_dir: Path
    engine: SuggestionEngine
    load: LoadReport
    bare_texts: int = 0
    bare_seconds: float = 0.0


def build_store(
    root: Path,
    items: int,
    *,
    model: str | None,
    today: date,
    seed: int = SEED,
    yardstick: bool = True,
    encoder: CachedEncoder | None = None,
) -> Store:
    """A fresh SQLite database and index in ``root`` holding ``items`` synthetic needs and offers."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / kept_stores.DATABASE}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        seed_reference_data(session)
        session.commit()
    factory = make_session_factory(engine)
    suggestions = SuggestionEngine(factory, model, encoder=encoder)
    model = suggestions.encoder()
    if isinstance(model, matching.LazySemanticEncoder):
        model.load()  # before the clock starts: the load measures encoding, not loading the model
    index = SearchIndex(root / kept_stores.INDEX)
    say(f"loading {items:,} items through the services into {root}")
    bare = {"texts": 0, "seconds": 0.0}
    sampler = random.Random(3)
    chunks: dict[str, float] = {"seen": 0}
    # Every chunk at 10k, every eighth at 100k: about ENCODE_SAMPLE texts in all.
    stride = max(1, round(items / CHUNK * ENCODE_SLICE / ENCODE_SAMPLE))

    began = time.perf_counter()

    def between_chunks(texts: list[str]) -> None:
        chunks["seen"] += 1
        if chunks["seen"] == 2 and items > 2 * CHUNK:
            # Said once, early: how long the rest of this load will take at the pace of the
            # second chunk (the first also creates every organisation and account).
            done = 2 * CHUNK
            pace = time.perf_counter() - chunks["first"]
            encoded = f"; {encoder.encoded:,} texts encoded so far, cached ones are not" if encoder else ""
            say(
                f"first {done:,} items in {time.perf_counter() - began:.0f} s{encoded}: the other "
                f"{items - done:,} should take about {pace * (items - done) / CHUNK / 60:.1f} minutes"
            )
        if yardstick:
            bare_encode(texts)
        if chunks["seen"] == 1:
            chunks["first"] = time.perf_counter()  # the second chunk's pace starts here

    def bare_encode(texts: list[str]) -> None:
        # The yardstick, in slices between chunks: bare SentenceTransformer.encode of 64 of a
        # chunk's texts, so it sees the same spells of machine load as the load does. Whole
        # batches, so that it is not slowed by batches smaller than the load's.
        if model is None or (chunks["seen"] - 1) % stride:
            return
        sample = sampler.sample(texts, min(len(texts), ENCODE_SLICE))
        # On a thread of its own, as the load encodes (synthetic._EncodeAhead): PyTorch was
        # measured up to twice as fast for the same texts on a started thread as on the main
        # one, and the yardstick must not gain or lose by where it runs.
        with ThreadPoolExecutor(1, thread_name_prefix="bench-bare-encode") as thread:
            started = time.perf_counter()
            thread.submit(
                model._model.encode,
                sample,
                batch_size=model.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
            ).result()
        bare["texts"] += len(sample)
        bare["seconds"] += time.perf_counter() - started

    report = generate(
        factory,
        index,
        suggestions,
        items,
        today=today,
        seed=seed,
        between_chunks=between_chunks,
        replica=kept_stores.REPLICA,
    )
    index.close()
    say(
        f"loaded {report.items:,} items in {report.seconds:.1f} s ({report.items / report.seconds:,.0f} items/s; "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.phases.items())
        + f"; the encoder ran beside the rest, which then waited {report.waited:.1f} s for it)"
    )
    return Store(items, url, factory, root / kept_stores.INDEX, suggestions, report, bare["texts"], bare["seconds"])


def restored_store(
    root: Path, items: int, *, model: str | None, today: date, encoder: CachedEncoder, seed: int = SEED
) -> Store | None:
    """The store a run built earlier today at this size and seed, copied into ``root`` (None if none is kept)."""
    report = kept_stores.restore(root, items, seed, encoder.model_name, today)
    if report is None:
        return None
    url = f"sqlite:///{root / kept_stores.DATABASE}"
    factory = make_session_factory(make_engine(url))
    say(f"{items:,} items: the store built earlier today is reused (kept in {cache_dir() / 'stores'})")
    return Store(
        items, url, factory, root / kept_stores.INDEX, SuggestionEngine(factory, model, encoder=encoder), report
    )


# -- suggestions ------------------------------------------------------------------------


def _vectors(session: Session, model: type[Need] | type[Offer], kind: str, model_name: str) -> dict[str, np.ndarray]:
    """The stored vectors of the open items of one kind, read straight from the database."""
    rows = session.execute(
        select(ListingEmbedding.item_id, ListingEmbedding.vector)
        .join(model, model.id == ListingEmbedding.item_id)
        .where(ListingEmbedding.kind == kind, ListingEmbedding.model == model_name, model.status == "open")
    )
    return {str(item_id): np.frombuffer(vector, dtype="<f4") for item_id, vector in rows}


class Exact:
    """The yardstick: brute-force cosine top-10 with numpy over one side's stored vectors."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.ids = list(vectors)
        self.matrix = np.vstack(list(vectors.values())) if vectors else np.zeros((0, 1), dtype=np.float32)

    def top(self, query: np.ndarray, k: int = 10) -> list[str]:
        """The ids of the k most similar vectors, best first."""
        sims = self.matrix @ query
        k = min(k, len(self.ids))
        top = np.argpartition(-sims, k - 1)[:k]
        return [self.ids[i] for i in top[np.argsort(-sims[top])]]


class _TimedEngine(SuggestionEngine):
    """The engine, timing the matcher's part of each call the service makes through it.

    What ``run`` hands the matcher (the ranking, and the ranked answer kept for the item)
    is timed inside the service's own call, so the service's figure less this one is what
    the service adds to that very call. (Timing the matcher alone in a separate call after the
    service's found its data in the caches the service's call had just warmed: the matcher
    then looked cheaper than it was inside the service, and the difference larger.)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matcher_ms: list[float] = []

    def run(self, action, session=None):
        """As :meth:`SuggestionEngine.run`, timing ``action``."""

        def timed(matcher):
            started = time.perf_counter()
            try:
                return action(matcher)
            finally:
                self.matcher_ms.append((time.perf_counter() - started) * 1000)

        return super().run(timed, session)


def _approximate_recall(engine: SuggestionEngine, kind: str, item_ids: list[int], today: date, k: int = 10) -> float:
    """Of the matcher's top ``k`` when it scores every item exactly, the share its answer holds.

    Both asked as a page asks (a top few, no reasons), with one BLAS thread as a worker runs.
    Where no side reaches ``approximate_from``, both are the same computation.
    """
    matcher = engine.catch_up()
    ask = matcher.suggest_offers if kind == "need" else matcher.suggest_needs
    setting, found, total = matcher.approximate_from, 0, 0
    with _BLAS.limit(limits=1, user_api="blas"):
        for item_id in item_ids:
            ours = {s.id for s in ask(str(item_id), k, today, explain=False).items}
            matcher.approximate_from = None
            try:
                exact = {s.id for s in ask(str(item_id), k, today, explain=False).items}
            finally:
                matcher.approximate_from = setting
            found += len(ours & exact)
            total += len(exact)
    return found / total if total else 1.0


def _approximate_on(engine: SuggestionEngine) -> bool:
    """Whether the matcher ranks either side through the approximate first stage."""
    matcher = engine.catch_up()
    at = matcher.approximate_from
    return matcher.semantic and at is not None and max(matcher.needs.n, matcher.offers.n) >= at


def measure_suggestions(store: Store, today: date, *, targets: bool, queries: int = SUGGESTION_QUERIES) -> list[Result]:
    """Suggestion latency through the service, the numpy yardstick, and recall@10."""
    name = label(store.items)
    # The first worker builds its matcher from the stored vectors and saves the snapshot; each
    # further worker opens that snapshot and checks it against the database.
    snapshots = store.index_dir.parent / "matcher"  # the web run's workers open it too
    started = time.perf_counter()
    SuggestionEngine(store.factory, store.engine.model, snapshot_dir=snapshots).catch_up()
    built = time.perf_counter() - started
    engine = _TimedEngine(store.factory, store.engine.model, snapshot_dir=snapshots)
    started = time.perf_counter()
    engine.catch_up()
    warm = time.perf_counter() - started
    model_name = engine.model_name
    rng = random.Random(7)
    with store.factory() as session:
        officer = session.scalar(select(User).where(User.role == "officer").order_by(User.id))
        verified = select(Organisation.id).where(Organisation.verification == Verification.VERIFIED)
        need_ids = list(
            session.scalars(select(Need.id).where(Need.status == "open", Need.organisation_id.in_(verified)))
        )
        offer_ids = list(
            session.scalars(select(Offer.id).where(Offer.status == "open", Offer.organisation_id.in_(verified)))
        )
        need_vectors = _vectors(session, Need, "need", model_name)
        offer_vectors = _vectors(session, Offer, "offer", model_name)
    exact = {"need": Exact(offer_vectors), "offer": Exact(need_vectors)}
    own = {"need": need_vectors, "offer": offer_vectors}
    # Each item asked once (the first five only to warm up): a server keeps answers until the
    # matcher changes, and an item asked twice would measure that, not a suggestion.
    needs_asked = _distinct(rng, need_ids, (queries + 1) // 2 + 3)
    offers_asked = _distinct(rng, offer_ids, queries // 2 + 2)
    picks = [("need", needs_asked.pop()) if i % 2 == 0 else ("offer", offers_asked.pop()) for i in range(queries + 5)]
    warm_ups, picks = picks[:5], picks[5:]
    ours_ms, within_ms, alone_ms, exact_ms, pooled = [], [], [], [], []
    for kind, item_id in warm_ups:  # warm caches (transposed lexical matrix, norms), as a running server is
        _suggest(store.factory, engine, officer.id, kind, item_id, today)
    for kind, item_id in picks:
        engine.matcher_ms.clear()
        started = time.perf_counter()
        _suggest(store.factory, engine, officer.id, kind, item_id, today)
        ours_ms.append((time.perf_counter() - started) * 1000)
        within_ms.append(sum(engine.matcher_ms))
        # The matcher alone, as the service asks it (30 ranked, ten shown, some may be hidden; no
        # reasons), after the engine's check against the database (the service's part), and the
        # numpy top-10: both with one BLAS thread, as a worker's matcher runs.
        matcher = engine.catch_up()
        ask = matcher.suggest_offers if kind == "need" else matcher.suggest_needs
        query = own[kind][str(item_id)]
        with _BLAS.limit(limits=1, user_api="blas"):
            started = time.perf_counter()
            ask(str(item_id), 30, today, explain=False)
            alone_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            exact[kind].top(query)
            exact_ms.append((time.perf_counter() - started) * 1000)
        pooled.append(_pool_recall(engine, kind, str(item_id), today))
    # The approximate first stage's cost in answers: other items than the timed ones, each once.
    recalls = [
        _approximate_recall(engine, kind, _distinct(random.Random(kind), ids, RECALL_QUERIES), today)
        for kind, ids in (("need", need_ids), ("offer", offer_ids))
    ]
    approximate = _approximate_on(engine)
    label_ = f"suggestions {name}"
    service_p95, alone_p95 = percentile(ours_ms, 0.95), percentile(alone_ms, 0.95)
    within_p95 = percentile(within_ms, 0.95)
    return [
        Result(f"{label_}: median latency", statistics.median(ours_ms), "ms", statistics.median(exact_ms)),
        Result(
            f"{label_}: p95 latency", service_p95, "ms", percentile(exact_ms, 0.95), SUGGEST_P95 if targets else None
        ),
        Result(
            f"{label_}: p95 latency, matcher alone",
            alone_p95,
            "ms",
            percentile(exact_ms, 0.95),
            MATCHER_RATIO if store.items >= MATCHER_RATIO_FROM else None,
        ),
        # The matcher's part of the service's calls, beside the matcher asked alone (right
        # after, its caches warmed by the service's call).
        Result(f"{label_}: p95 latency, matcher inside the service call", within_p95, "ms", alone_p95),
        Result(
            f"{label_}: p95 latency, service call less matcher alone",
            service_p95 - within_p95,
            "ms",
            None,
            SERVICE_OVER_MATCHER if targets else None,
        ),
        Result(
            f"{label_}: recall@10 vs exact top-10",
            statistics.mean(recalls),
            "",
            None,
            RECALL if approximate else None,
        ),
        Result(
            f"{label_}: recall@10 of the re-rank pool vs lexical for every item",
            statistics.mean(pooled),
            "",
            None,
            RECALL if targets else None,
        ),
        Result(f"{label_}: matcher built from stored vectors (first worker, saves the snapshot)", built, "s"),
        Result(
            f"{label_}: matcher ready from the snapshot (further workers)", warm, "s", None, warm_up_target(store.items)
        ),
    ]


def _distinct(rng: random.Random, ids: list[int], count: int) -> list[int]:
    """``count`` ids drawn without repeats while there are enough (then again from the start)."""
    drawn: list[int] = []
    while len(drawn) < count and ids:
        drawn += rng.sample(ids, min(len(ids), count - len(drawn)))
    return drawn


def _pool_recall(engine: SuggestionEngine, kind: str, item_id: str, today: date, k: int = 10) -> float:
    """Of the hybrid top 10 with the lexical term computed for every eligible item (no re-rank
    pool, no approximate first stage), the share the matcher's own top 10 holds (it computes
    the term for the pool only, and on a large side scores only the first stage's shortlist)."""
    from matching.scoring import raw_scores

    matcher = engine.catch_up()
    qside, cside = (matcher.needs, matcher.offers) if kind == "need" else (matcher.offers, matcher.needs)
    ours = engine.run(
        lambda m: (m.suggest_offers if kind == "need" else m.suggest_needs)(item_id, k, today, explain=False)
    )
    query = matcher._query(qside, item_id)
    _, _, cos, ok = matcher._raw(qside, cside, item_id, today)
    params, n = matcher.params, cside.n
    hubs = hubness.hubs(cside, params.hub_prior)
    qhub = float(hubness.hubs(qside, params.hub_prior)[query.slot])
    same = ranking.same_category(query.doc, cside, matcher.codes).astype(np.float32)
    lexical = cside.lex.scores(query.row, matcher.index.idf_sq(), matcher.index.version, np.flatnonzero(ok))
    every = np.zeros(n, dtype=np.float32)
    every[np.flatnonzero(ok)] = lexical
    raw = raw_scores(cos, qhub, hubs, every, same, params)
    if kind == "offer":
        raw = raw + ranking.fair_exposure(cside, (), params, today)
    raw = np.where(ok, raw, -np.inf)
    k = min(k, int(ok.sum()))
    if k == 0:
        return 1.0
    top = np.argpartition(-raw, k - 1)[:k]
    truth = {cside.docs[i].id for i in top}
    return len(truth & {s.id for s in ours.items}) / k


def _suggest(factory: sessionmaker, engine: SuggestionEngine, officer_id: int, kind: str, item_id: int, today: date):
    # One GET request's worth: a fresh read-only session, the officer (who sees every item), the service.
    with write_intent(False), factory() as session:
        officer = session.get(User, officer_id)
        if kind == "need":
            return offers_for_need(session, engine, officer, item_id, 10, today)
        return needs_for_offer(session, engine, officer, item_id, 10, today)


# -- search -----------------------------------------------------------------------------


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure_search(store: Store, workdir: Path, *, targets: bool, rounds: int = SEARCH_ROUNDS) -> list[Result]:
    """Search latency through the service (with facets) against FTS5 over the same texts."""
    sync = SearchSync(store.factory, store.index_dir, background=False, replica=kept_stores.REPLICA)
    sync.start()
    with store.factory() as session:
        fts = build_fts(all_documents(session), workdir / f"fts-{store.items}.sqlite3")
    cases = [(q, {}) for q in QUERIES] + FILTERED

    def ours(q: str, filters: dict[str, str]) -> None:
        with write_intent(False), store.factory() as session:
            outcome = search(session, sync, None, SearchQuery(q=q, **filters))
            assert not outcome.fallback and outcome.results.facets, "the index answered, with facets"

    for q, filters in cases:  # warm-up: open the searcher, build facet masks
        ours(q, filters)
        fts_search(fts, q, filters)
    ours_ms, fts_ms = [], []
    for _ in range(rounds):
        for q, filters in cases:
            ours_ms.append(_timed(lambda q=q, filters=filters: ours(q, filters)))
            fts_ms.append(_timed(lambda q=q, filters=filters: fts_search(fts, q, filters)))
    fts.close()
    sync.stop()
    name = f"search {label(store.items)}"
    return [
        Result(
            f"{name}: median latency (with facets)",
            statistics.median(ours_ms),
            "ms",
            statistics.median(fts_ms),
            SEARCH_MEDIAN if targets else None,
        ),
        Result(
            f"{name}: p95 latency (with facets)",
            percentile(ours_ms, 0.95),
            "ms",
            percentile(fts_ms, 0.95),
            SEARCH_P95 if targets else None,
        ),
    ]


# -- bulk load --------------------------------------------------------------------------


def measure_load(store: Store, *, targets: bool) -> list[Result]:
    """End-to-end load rate against bare ``SentenceTransformer.encode`` of the same texts, in the same spells."""
    report = store.load
    bare = store.bare_texts / store.bare_seconds if store.bare_seconds else None  # None: lexical-only
    name = f"bulk load {label(store.items)}"
    encoding = 100 * report.phases["embedding"] / report.seconds if report.seconds else 0.0
    return [
        Result(
            f"{name}: items/s end to end (db + embedding + index)",
            report.items / report.seconds,
            "items/s",
            bare,
            LOAD_RATIO if targets else None,
        ),
        Result(f"{name}: share of load time in the encoder", encoding, "%"),
    ]


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def _database_mb(path: Path) -> float:
    # The SQLite file and its write-ahead log (WAL mode keeps recent pages there).
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


# -- the whole run ----------------------------------------------------------------------


def run_bench(
    sizes: Iterable[int],
    *,
    web: bool = True,
    model: str | None = None,
    workdir: Path | None = None,
    web_duration: float = 20,
    queries: int = SUGGESTION_QUERIES,
    budget_minutes: float | None = None,
) -> list[Result]:
    """Run every figure at these sizes; targets go on the figures at the largest size.

    With ``budget_minutes`` the last row is the run's own wall clock against that budget
    (the issue gives ``--quick`` 5 minutes and the full run 30).
    """
    started = time.perf_counter()
    sizes = sorted(sizes)
    largest = sizes[-1]
    today = council_today()
    root = Path(workdir or tempfile.mkdtemp(prefix="svm-bench-"))
    results: list[Result] = []
    try:
        stores: dict[int, Store] = {}
        by_size: dict[int, list[Result]] = {}
        # Largest first: its load is the one measured, with nothing encoded yet. The smaller
        # sizes are prefixes of it (see synthetic.generate), so the process's encoder already
        # holds their vectors and they load at database and index speed.
        encoder = _cached_encoder(model)
        warm = encoder is not None and encoder.loaded > 0
        reused = False
        for items in reversed(sizes):
            # A store built earlier today from the same corpus is copied, not loaded again.
            store = (
                restored_store(root / f"items-{items}", items, model=model, today=today, encoder=encoder)
                if encoder
                else None
            )
            if store is None:
                store = build_store(
                    root / f"items-{items}",
                    items,
                    model=model,
                    today=today,
                    yardstick=items == largest and not warm,
                    encoder=encoder,
                )
                if encoder is not None:
                    encoder.save()
                    kept_stores.keep(store.index_dir.parent, items, SEED, encoder.model_name, today, store.load)
            else:
                reused = reused or items == largest
            stores[items] = store
            say(f"suggestions at {items:,} items")
            by_size[items] = measure_suggestions(store, today, targets=items == largest, queries=queries)
            if items >= SEARCH_FROM or len(sizes) == 1:
                say(f"search at {items:,} items")
                by_size[items] += measure_search(store, root, targets=items == largest)
            if items == EXPOSURE_AT or len(sizes) == 1:
                by_size[items] += measure_exposure(store.factory, store.engine, today, label(items), say=say)
        for items in sizes:
            results += by_size[items]
        store = stores[largest]
        measured = _measured_load(root, store, encoder, today) if warm or reused else store
        results += measure_load(measured, targets=True)
        results += [
            Result(f"search index on disk {label(largest)}", _size_mb(store.index_dir), "MB"),
            Result(
                f"database on disk {label(largest)}", _database_mb(Path(store.url.removeprefix("sqlite:///"))), "MB"
            ),
        ]
        if web:
            results += _web(store, web_duration)
        if budget_minutes is not None:
            minutes = (time.perf_counter() - started) / 60
            results.append(Result("whole run: wall clock", minutes, "min", target=Target(budget_minutes)))
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    return results


def _cached_encoder(model: str | None) -> CachedEncoder | None:
    """The sentence encoder behind the vector cache (None for lexical-only matching)."""
    real = SuggestionEngine(None, model).encoder()  # type: ignore[arg-type]  # no database needed
    if real is None:
        return None
    encoder = CachedEncoder(real, cache_dir())
    if encoder.loaded:
        say(f"{encoder.loaded:,} cached vectors of {encoder.model_name} from {encoder.path}")
    else:
        say(
            f"no cached vectors of {encoder.model_name} (generator version {GENERATOR_VERSION}) at {encoder.path}: "
            "every text is encoded once, most of this run's time (about 2 to 4 minutes per 10,000 texts on two "
            "quiet cores); the time left is said after the first 1,000 items, and the vectors are kept for next time"
        )
    return encoder


def _measured_load(root: Path, store: Store, encoder: CachedEncoder | None, today: date) -> Store:
    """With a warm cache the loads encoded little, so the bulk-load figure gets a load of its own.

    A smaller load (at most 1,000 items, another seed) encoded without the cache, beside bare
    encode in the same spells, as in a cold run.
    """
    items = min(store.items, LOAD_MEASURED_ITEMS)
    say(f"the vector cache was warm: bulk load measured on {items:,} other items, encoded without the cache")
    assert encoder is not None
    encoder.use_cache = False
    try:
        return build_store(
            root / "load-measured", items, model=store.engine.model, today=today, seed=LOAD_SEED, encoder=encoder
        )
    finally:
        encoder.use_cache = True


def _web(store: Store, duration: float) -> list[Result]:
    # Built by the load-test work in web_load.py: gunicorn, 2 workers, 20 clients.
    from benchmarks.perf.web_load import measure_web

    say(f"web: gunicorn with 2 workers and 20 clients, {duration:g} s per page, {store.items:,} items")
    env = {"MARKETPLACE_EMBEDDING_MODEL": store.engine.model} if store.engine.model else {}
    # The workers share one matcher snapshot, as the README runs production.
    env["MARKETPLACE_MATCHER_DIR"] = str(store.index_dir.parent / "matcher")
    env["MARKETPLACE_INDEX_REPLICA"] = kept_stores.REPLICA  # the name the store's index was built as
    return measure_web(store.url, store.index_dir, duration=duration, items=store.items, env=env)
