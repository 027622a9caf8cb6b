"""N-gram tf-idf features: the same numbers as scikit-learn's TfidfVectorizer, stored as JSON/npz only."""
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.ngrams import IDF_FILE, VOCABULARY_FILE, NgramFeatures

TEXTS = ["I lost my Visa card", "my card was stolen yesterday", "what is the exchange rate for EUR",
         "exchange rate euro to dollar", "top up my account by card", "why was my top-up declined?"]
NEW = ["my visa card got stolen", "rates for exchanging dollars", "unseen wörds äre here", ""]


def _reference(texts: list[str], new: list[str]) -> np.ndarray:
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
    words.fit(texts), chars.fit(texts)
    return np.hstack([words.transform(new).toarray(), chars.transform(new).toarray()])


def test_transform_matches_tfidf_vectorizer():
    features = NgramFeatures()
    fitted = features.fit_transform(TEXTS)
    assert fitted.shape == (len(TEXTS), features.dim)
    np.testing.assert_allclose(fitted.toarray(), _reference(TEXTS, TEXTS), atol=1e-6)
    np.testing.assert_allclose(features.transform(NEW).toarray(), _reference(TEXTS, NEW), atol=1e-6)


def test_saved_as_json_and_npz_and_loaded_back(tmp_path: Path):
    features = NgramFeatures()
    features.fit_transform(TEXTS)
    features.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([VOCABULARY_FILE, IDF_FILE])
    vocabulary = json.loads((tmp_path / VOCABULARY_FILE).read_text())
    assert "visa" in vocabulary["words"] and "card" in vocabulary["words"]
    loaded = NgramFeatures.load(tmp_path)
    np.testing.assert_array_equal(loaded.transform(NEW).toarray(), features.transform(NEW).toarray())


def test_refuses_pickled_or_malformed_files(tmp_path: Path):
    features = NgramFeatures()
    features.fit_transform(TEXTS)
    features.save(tmp_path)
    (tmp_path / IDF_FILE).unlink()
    np.savez(tmp_path / IDF_FILE, words=np.array([{"x": 1}], dtype=object), chars=np.zeros(1))
    with pytest.raises(ValueError, match="pickle"):
        NgramFeatures.load(tmp_path)
    (tmp_path / VOCABULARY_FILE).write_text(json.dumps({"words": [1, 2], "chars": []}))
    with pytest.raises(ValueError, match="list of strings"):
        NgramFeatures.load(tmp_path)


def test_tiny_data_without_repeated_character_ngrams():
    features = NgramFeatures()
    assert features.fit_transform(["hi", "yo"]).shape[0] == 2
    assert features.transform(["hey"]).shape[0] == 1
