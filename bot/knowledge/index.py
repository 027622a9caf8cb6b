"""The searchable knowledge index: dense passages, lexical articles, and their fused score.

Each article becomes several passages for the dense side - its title, each
sample question and the spoken answer - and an article scores as its best
passage (a caller's question usually paraphrases one sample question much
better than it matches the whole article). The lexical side scores whole
articles with BM25 (see ``lexical``). The fused score is

    fused = dense cosine + lexical_weight * max(0, z)

where z is how many standard deviations an article's BM25 score stands above
the mean over all articles for this query. The cosine keeps its meaning
(rank fusion throws the dense margin away: equal-weight RRF fell from 0.945 to
0.774 recall@1 on StackFAQ); the lexical term is large only when an article is
the one of few that contain the query's rare words - a product code, a name,
a misspelling's trigrams - and near zero when common words match everywhere.
A plain weighted sum of raw scores could not serve both kinds of query: the
weight that helped StackFAQ was too small for codes and misspellings, and the
one that helped those hurt StackFAQ (``bench/kb_stackfaq.py``, ``bench/kb_demo.py``).
The fused score is mapped to the chance that the top article is right by
``calibration``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.knowledge.articles import Article
from bot.knowledge.dense import DenseIndex
from bot.knowledge.lexical import LexicalIndex, words

DENSE_CANDIDATES = 64
LEXICAL_CANDIDATES = 24
METHODS = ("fused", "dense", "lexical")


@dataclass(frozen=True)
class Passage:
    article: int  # position in the index's article list
    kind: str     # title, question or answer
    text: str


def article_passages(article: Article, number: int) -> list[Passage]:
    return [Passage(number, "title", article.title), *(Passage(number, "question", q) for q in article.questions),
            Passage(number, "answer", article.answer)]


def article_text(article: Article, leave_out: frozenset[str] = frozenset()) -> str:
    """What BM25 indexes: everything a caller might name (``leave_out``: held-out sample questions)."""
    return " ".join([article.title, *(q for q in article.questions if q not in leave_out), *article.tags,
                     article.answer])


def lexical_standout(scores: np.ndarray) -> np.ndarray:
    """Per-article BM25 as standard deviations above this query's mean, negatives cut to zero."""
    spread = float(scores.std())
    if spread < 1e-9:
        return np.zeros_like(scores)
    return np.maximum(0.0, (scores - float(scores.mean())) / spread)


@dataclass(frozen=True)
class Calibration:
    """Logistic map from fused score to the chance the top article is the right one (fitted per index)."""

    slope: float = 14.0
    intercept: float = -10.0

    def probability(self, fused: float | np.ndarray):
        return 1.0 / (1.0 + np.exp(-(self.slope * np.asarray(fused) + self.intercept)))


@dataclass
class Hit:
    article: Article
    score: float          # calibrated: chance that this is the article the caller wants
    fused: float
    dense: float
    lexical: float        # BM25 as the share of the query's information found (about 0..1; repeats go above)
    passage: str          # the passage that matched best (a sample question, the title or the answer)
    passage_kind: str
    terms: list[str] = field(default_factory=list)  # query words found in the article


class KnowledgeIndex:
    def __init__(self, articles: list[Article], dense: DenseIndex, lexical: LexicalIndex, lexical_weight: float,
                 calibration: Calibration = Calibration()):
        self.articles = articles
        self.passages = [p for number, a in enumerate(articles) for p in article_passages(a, number)]
        self.vectors = dense.vectors  # one row per passage, read from FAISS's storage (not a second copy)
        self.passage_article = np.array([p.article for p in self.passages], dtype=np.int64)
        counts = np.bincount(self.passage_article, minlength=len(articles))
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.ends = self.starts + counts
        self.dense = dense
        self.lexical = lexical
        self.lexical_weight = lexical_weight
        self.calibration = calibration

    @classmethod
    def build(cls, articles: list[Article], vectors: np.ndarray, lexical_weight: float, hnsw_above: int,
              calibration: Calibration = Calibration()) -> "KnowledgeIndex":
        """``vectors``: one row per passage, in ``article_passages`` order."""
        return cls(articles, DenseIndex.build(vectors, hnsw_above),
                   LexicalIndex.build([article_text(a) for a in articles]), lexical_weight, calibration)

    def __len__(self) -> int:
        return len(self.articles)

    def search(self, query: str, vector: np.ndarray, k: int = 5, method: str = "fused") -> list[Hit]:
        """The ``k`` best articles for a query and its embedding, best first, ranked by ``method``."""
        if not self.articles:
            return []
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        tokens = words(query)
        lexical = self.lexical.scores(tokens)
        standout = lexical_standout(lexical)
        _, passage_ids = self.dense.search(vector, min(len(self.passages), max(DENSE_CANDIDATES, 8 * k)))
        candidates = set(self.passage_article[passage_ids[passage_ids >= 0]].tolist())
        n_lexical = min(len(self.articles), max(LEXICAL_CANDIDATES, 4 * k))
        candidates.update(np.argpartition(-lexical, n_lexical - 1)[:n_lexical].tolist())
        numbers = np.fromiter(sorted(candidates), dtype=np.int64)
        counts = self.ends[numbers] - self.starts[numbers]
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rows = np.repeat(self.starts[numbers] - offsets, counts) + np.arange(int(counts.sum()))
        similarities = self.vectors[rows] @ vector  # every passage of every candidate, in one product
        dense = np.maximum.reduceat(similarities, offsets)
        fused = dense + self.lexical_weight * standout[numbers]
        key = {"fused": fused, "dense": dense, "lexical": lexical[numbers]}[method]
        hits = []
        for i in np.lexsort((numbers, -key))[:k]:
            number = int(numbers[i])
            best = int(self.starts[number]) + int(np.argmax(similarities[offsets[i]:offsets[i] + counts[i]]))
            hits.append(Hit(self.articles[number], float(self.calibration.probability(fused[i])), float(fused[i]),
                            float(dense[i]), float(lexical[number]), self.passages[best].text,
                            self.passages[best].kind, self.lexical.matched_terms(tokens, number)))
        return hits
