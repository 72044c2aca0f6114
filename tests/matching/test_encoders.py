import numpy as np
import pytest

from matching.encoders import LexicalEncoder, ModelUnavailable, SemanticEncoder, load_semantic_encoder, stem, words


def test_embeddings_are_unit_float32_and_empty_text_is_zero(encoder):
    vecs = encoder.encode(["A meeting room for hire", "", "🙂", "x" * 5000])
    assert vecs.dtype == np.float32 and vecs.shape == (4, encoder.dimension)
    norms = np.linalg.norm(vecs, axis=1)
    assert norms[0] == pytest.approx(1.0, abs=1e-4)
    assert norms[1] == 0.0
    assert norms[3] == pytest.approx(1.0, abs=1e-4)


def test_progress_is_reported(encoder):
    seen = []
    encoder.encode([f"progress test text {i}" for i in range(5)], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5)


def test_text_cache_is_bounded_and_keeps_answers_the_same(encoder):
    small = SemanticEncoder(encoder.model_name, encoder._model, cache_size=3)
    texts = [f"a hall to hire for club number {i}" for i in range(5)]
    first = small.encode(texts)
    assert small.cached == 3  # only the three most recent texts are kept
    again = small.encode(texts[:1])  # dropped from the cache: embedded afresh, same vector
    np.testing.assert_allclose(again[0], first[0], atol=1e-5)
    assert small.cached == 3


def test_default_model_name_is_stored_with_vectors(encoder):
    assert encoder.model_name == "all-MiniLM-L6-v2"
    assert load_semantic_encoder("all-MiniLM-L6-v2") is encoder  # loaded once per process


def test_none_means_lexical_only(monkeypatch):
    assert load_semantic_encoder("none") is None
    monkeypatch.setenv("MARKETPLACE_EMBEDDING_MODEL", "none")
    assert load_semantic_encoder(None) is None


@pytest.mark.parametrize("name", ["/no/such/model-dir", "some-org/model-that-is-not-installed"])
def test_missing_model_is_a_clear_error(name):
    with pytest.raises(ModelUnavailable) as info:
        load_semantic_encoder(name)
    message = str(info.value)
    assert name in message and "MARKETPLACE_EMBEDDING_MODEL" in message


def test_broken_model_directory_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(ModelUnavailable, match="not available locally"):
        load_semantic_encoder(str(tmp_path))


def test_stemming_folds_plurals_and_verb_forms():
    assert stem("rooms") == stem("room")
    assert stem("volunteers") == stem("volunteering")
    assert stem("minibus") == "minibus"
    assert words("The café's rooms, 🙂 and Saturdays!") == ["cafe", "room", "saturday"]


def test_lexical_counts_are_sparse_rows():
    counts = LexicalEncoder().counts(["meeting room", "", "🙂"])
    assert counts.shape[0] == 3
    assert counts[0].nnz > 0 and counts[1].nnz == 0
