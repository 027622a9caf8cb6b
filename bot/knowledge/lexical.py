"""BM25 over article text: finds product codes, model numbers and rare names that embeddings smooth over.

Two fields are scored: words (so "NW-4410", "nw 4410", "n w forty four ten"
all become ``nw 4410``) and, for query words the index has never seen,
character trigrams (so "kestral" still meets "kestrel"; known words match
exactly, which also keeps the long trigram postings out of most queries). Each field's score is divided by what a document of average
length containing every query term once would score (unknown terms count with
the highest idf), which puts it on a fixed scale, about 0..1: the share of the
query's information the article contains. Unlike
normalising by the best hit of each query, a weak lexical match stays weak, so
the fused score can be calibrated and thresholded.
"""
from __future__ import annotations

import re
from itertools import groupby
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bot.nlu.normalizer import normalize_digits

K1 = 1.2
B = 0.75
TOKEN = re.compile(r"[a-z]+|[0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by can could did do does for from get got had has have how i i'm if in is it its "
    "me my of on or our so that the their them there this to was we what when where which who why will with "
    "would you your im whats".split())


def words(text: str) -> list[str]:
    """Lowercase word tokens: spoken numbers as digits, letters split from digits, spelled-out letters joined."""
    tokens = TOKEN.findall(normalize_digits(text.replace("'", "")).lower())
    joined: list[str] = []
    for is_letter, run in groupby(tokens, key=lambda t: len(t) == 1 and t.isalpha()):
        run = list(run)
        # "n w 4410" -> "nw 4410": a code read out letter by letter is one word
        joined.extend(["".join(run)] if is_letter and len(run) > 1 else run)
    return [_stem(t) for t in joined if t not in STOPWORDS]


def _stem(token: str) -> str:
    """Plural and third-person ``s`` off: returns/return, labels/label, ships/ship."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def trigrams(tokens: list[str]) -> list[str]:
    """Character trigrams of each word with boundary marks: ``kestrel`` -> ``#ke kes ... el#``."""
    grams = []
    for word in tokens:
        if word.isdigit():
            grams.append(word)  # numbers match whole or not at all
            continue
        padded = f"#{word}#"
        grams.extend(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


class BM25:
    """Okapi BM25 with a term-major weight matrix: scoring touches only the query terms' postings."""

    def __init__(self, documents: list[list[str]]):
        self.vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        for doc, terms in enumerate(documents):
            unique, tf = np.unique(np.array([self.vocabulary.setdefault(t, len(self.vocabulary)) for t in terms],
                                            dtype=np.int64), return_counts=True)
            rows.append(np.full(len(unique), doc)), cols.append(unique), counts.append(tf)
        n_docs = len(documents)
        lengths = np.array([len(d) for d in documents], dtype=np.float32)
        tf = sp.csc_matrix((np.concatenate(counts or [[]]).astype(np.float32),
                            (np.concatenate(rows or [[]]), np.concatenate(cols or [[]]))),
                           shape=(n_docs, len(self.vocabulary)))
        df = np.diff(tf.indptr)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.unknown_idf = float(np.log1p((n_docs + 0.5) / 0.5))
        norm = K1 * (1 - B + B * lengths / max(float(lengths.mean()) if n_docs else 1.0, 1.0))
        data = tf.data * (K1 + 1) / (tf.data + norm[tf.indices])
        self.weights = sp.csc_matrix((data * np.repeat(self.idf, df), tf.indices, tf.indptr), shape=tf.shape)
        self.n_docs = n_docs

    def contains(self, term: str, document: int) -> bool:
        column = self.vocabulary.get(term)
        if column is None:
            return False
        postings = self.weights.indices[self.weights.indptr[column]:self.weights.indptr[column + 1]]
        position = int(np.searchsorted(postings, document))
        return position < len(postings) and postings[position] == document

    def scores(self, terms: list[str]) -> tuple[np.ndarray, float]:
        """BM25 of every document, and what a document of average length matching each query term once scores."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        ceiling = 0.0
        indptr, indices, data = self.weights.indptr, self.weights.indices, self.weights.data
        for term in set(terms):
            column = self.vocabulary.get(term)
            if column is None:
                ceiling += self.unknown_idf
                continue
            ceiling += float(self.idf[column])
            start, end = indptr[column], indptr[column + 1]
            scores[indices[start:end]] += data[start:end]
        return scores, ceiling


@dataclass
class LexicalIndex:
    """Word and trigram BM25 over one text per document; ``scores`` is on a 0..1 scale."""

    word_bm25: BM25
    gram_bm25: BM25
    gram_weight: float = 0.3

    @classmethod
    def build(cls, texts: list[str], gram_weight: float = 0.3) -> "LexicalIndex":
        tokens = [words(t) for t in texts]
        return cls(BM25(tokens), BM25([trigrams(t) for t in tokens]), gram_weight)

    def scores(self, query: str | list[str]) -> np.ndarray:
        """Scores of every document for a query (or its ``words``, to tokenize only once)."""
        tokens = words(query) if isinstance(query, str) else query
        word_scores, word_ceiling = self.word_bm25.scores(tokens)
        unknown = [t for t in tokens if t not in self.word_bm25.vocabulary]  # misspelt or never seen
        gram_scores, gram_ceiling = self.gram_bm25.scores(trigrams(unknown))
        result = (1 - self.gram_weight) * word_scores / max(word_ceiling, 1e-6)
        if self.gram_weight:
            result += self.gram_weight * gram_scores / max(gram_ceiling, 1e-6)
        return result

    def matched_terms(self, tokens: list[str], document: int) -> list[str]:
        """Query words that occur in ``document`` (to explain a hit), read from the postings."""
        return sorted({w for w in tokens if self.word_bm25.contains(w, document)})
