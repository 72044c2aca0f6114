"""Fair exposure on the bench's synthetic corpus, with the fairness term and without it.

Issue #16 asks for the share of open needs that appear in at least one supplier's top 10,
and the Gini coefficient of that exposure, beside the same figures without the fairness
term. The figures themselves are computed in one place,
:func:`matching.evaluation.supplier_exposure` (the same simulation ``marketplace
evaluate-matching`` runs on the judged sets): suppliers arrive one after another, each is
shown its top 10 needs across its open offers and pledges to its best good one. Here the
matcher is the one the pages use, built from the corpus's stored vectors, and the needs
that already have a live pledge in the corpus are passed to it from the start. Every open
need the matcher holds counts (the pages would also hide the needs of the few unverified
organisations).

The "without" row is the same matcher with ``fairness_weight`` = 0, so the two rows differ
by the term alone. The yardstick column of the "with" rows holds the "without" figure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import sessionmaker

from benchmarks.perf.results import Result
from marketplace.db import write_intent
from marketplace.services.suggestions import attention
from marketplace.suggestions.engine import SuggestionEngine
from matching import Offer
from matching.evaluation import supplier_exposure, without_fairness

TOP = 10


def measure_exposure(
    factory: sessionmaker, engine: SuggestionEngine, today: date, name: str, *, say: Callable[[str], None] = print
) -> list[Result]:
    """Exposure figures for one loaded corpus, with the fairness term beside without it.

    Args:
        factory: the corpus's session factory.
        engine: its suggestion engine (the matcher is built from the stored vectors).
        today: the date expiry and waiting are judged by.
        name: the size label for the rows ("10k").
        say: where progress goes.

    Returns:
        Four rows: needs in a top 10 and the Gini of exposure, each with the figure without
        the term as its yardstick, then the same two figures without the term.
    """
    # Straight on the engine's matcher: nothing else uses this corpus while the bench measures.
    matcher = engine.catch_up()
    with write_intent(False), factory() as session:
        already = attention(session, None).pledged
    suppliers: dict[str, list[str]] = {}
    for slot in sorted(matcher.offers.pos.values()):  # suppliers arrive in the order they posted
        doc = matcher.offers.docs[slot]
        assert isinstance(doc, Offer)
        suppliers.setdefault(doc.supplier or f"offer:{doc.id}", []).append(doc.id)
    need_ids = list(matcher.needs.pos)
    say(f"fair exposure at {name}: {len(suppliers):,} suppliers, {len(need_ids):,} open needs, with and without")
    figures = {
        label: supplier_exposure(m, suppliers.values(), need_ids, TOP, today, already)
        for label, m in (("with", matcher), ("without", without_fairness(matcher)))
    }
    fair, plain = figures["with"], figures["without"]
    head = f"fair exposure {name}"
    return [
        Result(
            f"{head}: share of open needs in a supplier's top {TOP}", fair["share_exposed"], "", plain["share_exposed"]
        ),
        Result(f"{head}: Gini of exposure", fair["gini"], "", plain["gini"]),
        Result(f"{head}: share of open needs in a supplier's top {TOP}, without fairness", plain["share_exposed"], ""),
        Result(f"{head}: Gini of exposure, without fairness", plain["gini"], ""),
    ]
