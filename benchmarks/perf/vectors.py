"""The synthetic corpus's vectors, kept between bench runs outside the repository.

Encoding every text once is most of a bench run, and the generator is deterministic (the same
seed gives the same texts), so the vectors are kept in a cache folder
(``$MARKETPLACE_BENCH_CACHE``, else ``~/.cache/marketplace-bench``), one file per model and
generator version, keyed by each text's SHA-1. :class:`CachedEncoder` stands in for the sentence
encoder: texts it has seen are answered from the cache, the others are encoded and remembered.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.perf.synthetic import GENERATOR_VERSION

CACHE_ENV = "MARKETPLACE_BENCH_CACHE"


def cache_dir() -> Path:
    """Where cached vectors live: ``$MARKETPLACE_BENCH_CACHE``, else ``~/.cache/marketplace-bench``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "marketplace-bench"


def _key(text: str) -> bytes:
    return hashlib.sha1((text or "").strip().encode("utf-8"), usedforsecurity=False).digest()


class CachedEncoder:
    """A sentence encoder that answers texts it has seen from the cache file.

    Args:
        encoder: the real encoder (``matching.SemanticEncoder``).
        folder: the cache folder.
    """

    def __init__(self, encoder: Any, folder: Path) -> None:
        self.inner = encoder
        self.model_name: str = encoder.model_name
        self.dimension: int = encoder.dimension
        self.batch_size: int = encoder.batch_size
        self._model = encoder._model  # the bare yardstick encodes with the model itself
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model_name)[-80:]
        self.path = Path(folder) / f"vectors-{safe}-generator-{GENERATOR_VERSION}.npz"
        self.vectors: dict[bytes, np.ndarray] = {}
        self.loaded = 0
        self.encoded = 0
        self._unsaved = 0
        # False while a figure must see real encoding (the bulk load beside bare encode).
        self.use_cache = True
        if self.path.exists():
            with np.load(self.path) as data:
                keys, matrix = data["keys"], data["vectors"]
            if matrix.ndim == 2 and matrix.shape[1] == self.dimension:
                # NumPy's S20 drops a digest's trailing zero bytes (1 key in 256): put them back.
                self.vectors = {bytes(key).ljust(20, b"\0"): row for key, row in zip(keys, matrix, strict=True)}
            self.loaded = len(self.vectors)

    def encode(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Vectors for the texts, encoding only those not in the cache."""
        if not self.use_cache:
            return self.inner.encode(texts, progress=progress, show_progress_bar=show_progress_bar)
        keys = [_key(text) for text in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing = [i for i, key in enumerate(keys) if key not in self.vectors]
        if missing:
            fresh = self.inner.encode([texts[i] for i in missing], progress=progress)
            for i, vector in zip(missing, fresh, strict=True):
                if (texts[i] or "").strip():
                    self.vectors[keys[i]] = np.asarray(vector, dtype=np.float32)
            self.encoded += len(missing)
            self._unsaved += len(missing)
        for i, key in enumerate(keys):
            vector = self.vectors.get(key)
            if vector is not None:
                out[i] = vector
        return out

    def save(self) -> None:
        """Write the cache file (atomically) if anything new was encoded since the last save."""
        if not self._unsaved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype="S20")
        matrix = np.vstack(list(self.vectors.values())).astype(np.float32)
        tmp = self.path.with_name(f"{self.path.stem}.{secrets.token_hex(4)}.tmp.npz")
        np.savez(tmp, keys=keys, vectors=matrix)
        os.replace(tmp, self.path)
        self._unsaved = 0


def warm_cache(items: int, *, model: str | None = None, seed: int = 2026, save_every: int = 5_000) -> CachedEncoder:
    """Encode the texts of the first ``items`` synthetic needs and offers into the cache, loading nothing.

    The bench's loads then find every vector cached. The texts are planned exactly as a load
    plans them (``synthetic.planned_items``), with the reference lists of a scratch database;
    the cache is saved every ``save_every`` texts, so an interrupted warm-up keeps its work.

    Returns:
        The cached encoder (its ``encoded`` says how many texts were new).
    """
    # Imported here: the warm-up is a command-line step, the cache itself needs none of this.
    import tempfile
    from itertools import islice

    from sqlalchemy.orm import Session
    from tqdm import tqdm

    import matching
    from benchmarks.perf.synthetic import planned_items
    from marketplace.db import make_engine
    from marketplace.schema import upgrade
    from marketplace.services.reference import reference_lists, seed_reference_data

    real = matching.load_semantic_encoder(model)
    if real is None:
        raise ValueError("lexical-only matching has no vectors to cache")
    encoder = CachedEncoder(real, cache_dir())
    with tempfile.TemporaryDirectory(prefix="svm-bench-lists-") as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'lists.sqlite3'}")
        upgrade(engine)
        with Session(engine) as session:
            seed_reference_data(session)
            session.commit()
            lists = reference_lists(session)
            categories = [c.code for c in lists.categories]
            districts = [d.code for d in lists.districts]
        engine.dispose()
    plan = planned_items(categories, districts, seed)
    with tqdm(total=items, desc=f"Encoding {items:,} synthetic texts", unit="text") as bar:
        done = 0
        while done < items:
            batch = list(islice(plan, min(save_every, items - done)))
            texts = [p.text for p in batch]
            encoder.encode(texts)
            bar.update(len(batch))
            encoder.save()
            done += len(batch)
    return encoder


if __name__ == "__main__":  # python -m benchmarks.perf.vectors [ITEMS]
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.perf.vectors",
        description="Encode the first ITEMS synthetic needs and offers into the bench's vector cache "
        f"(${CACHE_ENV}, else ~/.cache/marketplace-bench), loading nothing. Resumable: texts already "
        "cached are skipped, and the cache is saved every 5,000 texts.",
    )
    parser.add_argument("items", nargs="?", type=int, default=100_000, help="how many items (default 100000)")
    warmed = warm_cache(parser.parse_args().items)
    print(f"{warmed.encoded:,} texts encoded, {len(warmed.vectors):,} in {warmed.path}")
