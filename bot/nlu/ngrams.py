"""Word and character n-gram tf-idf features, stored as plain JSON and npz (never pickle).

The intent classifier's linear model reads lexical cues (card names,
currencies, typos) that sentence embeddings smooth over. scikit-learn's
``TfidfVectorizer`` fits the vocabulary and idf weights; a trained model keeps
only those (the terms in column order as JSON, the weights as an npz array),
so loading an archive reads data and runs no code from it. Transforming
reuses scikit-learn's ``CountVectorizer`` with the fixed vocabulary and applies
the same sublinear tf, idf and L2 normalisation as ``TfidfVectorizer``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

VOCABULARY_FILE = "ngrams.json"
IDF_FILE = "ngrams_idf.npz"


@dataclass(frozen=True)
class NgramSpec:
    """One block of n-grams: the analyzer, n-gram range and minimum document frequency."""

    name: str
    analyzer: str
    ngram_range: tuple[int, int]
    min_df: int = 1


SPECS = (NgramSpec("words", "word", (1, 2)),  # uni/bi-grams of words
         NgramSpec("chars", "char_wb", (2, 5), min_df=2))  # within-word character 2-5-grams


class _Block:
    """The fitted vocabulary and idf of one spec, with the transform TfidfVectorizer would apply."""

    def __init__(self, spec: NgramSpec, terms: list[str], idf: np.ndarray):
        if len(terms) != len(idf):
            raise ValueError(f"n-gram block {spec.name!r} has {len(terms)} terms but {len(idf)} idf weights")
        self.spec, self.terms, self.idf = spec, terms, idf.astype(np.float32)
        self._counts = (CountVectorizer(analyzer=spec.analyzer, ngram_range=spec.ngram_range,
                                        vocabulary={term: i for i, term in enumerate(terms)}, dtype=np.float32)
                        if terms else None)

    @classmethod
    def fit(cls, spec: NgramSpec, texts: list[str]) -> tuple["_Block", sp.csr_matrix]:
        vectorizer = TfidfVectorizer(analyzer=spec.analyzer, ngram_range=spec.ngram_range, min_df=spec.min_df,
                                     sublinear_tf=True, dtype=np.float32)
        try:
            features = vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # no term reaches min_df (tiny training sets)
            return cls(spec, [], np.zeros(0, np.float32)), sp.csr_matrix((len(texts), 0), dtype=np.float32)
        terms = [str(t) for t in vectorizer.get_feature_names_out()]
        return cls(spec, terms, vectorizer.idf_), features

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        if self._counts is None:
            return sp.csr_matrix((len(texts), 0), dtype=np.float32)
        counts = self._counts.transform(texts).tocsr().astype(np.float32)
        np.log(counts.data, out=counts.data)
        counts.data += 1.0  # sublinear tf: 1 + log(count)
        return normalize(counts @ sp.diags(self.idf), norm="l2", copy=False).tocsr()


class NgramFeatures:
    """Tf-idf of word uni/bi-grams and within-word character 2-5-grams, side by side."""

    def __init__(self, blocks: list[_Block] | None = None):
        self._blocks = blocks or []

    @property
    def dim(self) -> int:
        return sum(len(block.terms) for block in self._blocks)

    def fit_transform(self, texts: list[str]) -> sp.csr_matrix:
        fitted = [_Block.fit(spec, texts) for spec in SPECS]
        self._blocks = [block for block, _ in fitted]
        return sp.hstack([features for _, features in fitted], format="csr", dtype=np.float32)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        if not self._blocks:
            raise RuntimeError("the n-gram features are not fitted")
        return sp.hstack([block.transform(texts) for block in self._blocks], format="csr", dtype=np.float32)

    def save(self, directory: Path) -> None:
        vocabulary = {block.spec.name: block.terms for block in self._blocks}
        (Path(directory) / VOCABULARY_FILE).write_text(json.dumps(vocabulary, ensure_ascii=False),
                                                       encoding="utf-8")
        np.savez(Path(directory) / IDF_FILE, **{block.spec.name: block.idf for block in self._blocks})

    @classmethod
    def load(cls, directory: Path) -> "NgramFeatures":
        vocabulary = json.loads((Path(directory) / VOCABULARY_FILE).read_text(encoding="utf-8"))
        with np.load(Path(directory) / IDF_FILE, allow_pickle=False) as idf:
            blocks = []
            for spec in SPECS:
                if spec.name not in vocabulary or spec.name not in idf.files:
                    raise ValueError(f"{directory}: n-gram block {spec.name!r} is missing")
                terms = vocabulary[spec.name]
                if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
                    raise ValueError(f"{directory}/{VOCABULARY_FILE}: {spec.name!r} must be a list of strings")
                blocks.append(_Block(spec, terms, idf[spec.name]))
        return cls(blocks)
