"""Fit the map from fused score to "the top article is right", from the articles' own sample questions.

Each sample question is held out in turn (its passage leaves the dense side,
its words leave its article's BM25 text, two folds) and searched:

* with its article in the index, the top hit is right or wrong - a question the
  knowledge base can answer;
* with its article removed, whatever comes top is wrong - a question it cannot.

A one-feature logistic regression on the top fused score then gives a
probability that means the same thing for every index, so one threshold in
config.yml works as articles come and go.
"""
from __future__ import annotations

import numpy as np

from bot.knowledge.articles import Article
from bot.knowledge.index import Calibration, article_passages, article_text, lexical_standout
from bot.knowledge.lexical import LexicalIndex

MAX_QUESTIONS = 400
MIN_QUESTIONS = 10
CHUNK = 64


def fit_calibration(articles: list[Article], vectors: np.ndarray, lexical_weight: float,
                    seed: int = 0) -> Calibration:
    """A fitted Calibration, or the default one when there are too few sample questions to learn from."""
    passages = [p for number, a in enumerate(articles) for p in article_passages(a, number)]
    questions = [i for i, p in enumerate(passages) if p.kind == "question"]
    if len(questions) < MIN_QUESTIONS or len(articles) < 3:
        return Calibration()
    rng = np.random.default_rng(seed)
    if len(questions) > MAX_QUESTIONS:
        questions = sorted(rng.choice(questions, MAX_QUESTIONS, replace=False).tolist())
    owner = np.array([p.article for p in passages])
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    scores, labels = [], []
    folds = [questions[0::2], questions[1::2]]
    for fold in folds:
        held_out = {passages[i].text for i in fold}
        lexical = LexicalIndex.build([article_text(a, frozenset(held_out)) for a in articles])
        for begin in range(0, len(fold), CHUNK):
            chunk = fold[begin:begin + CHUNK]
            similarity = vectors[chunk] @ vectors.T
            similarity[np.arange(len(chunk)), chunk] = -np.inf  # the question does not find itself
            dense = np.maximum.reduceat(similarity, starts, axis=1)
            for row, passage in enumerate(chunk):
                fused = dense[row] + lexical_weight * lexical_standout(lexical.scores(passages[passage].text))
                right = owner[passage]
                best = int(np.argmax(fused))
                scores.append(fused[best]), labels.append(best == right)
                fused[right] = -np.inf
                scores.append(float(np.max(fused))), labels.append(False)
    return _logistic(np.array(scores), np.array(labels, dtype=float))


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> Calibration:
    """One-feature logistic regression by Newton's method (no solver needed for two parameters)."""
    if y.min() == y.max():
        return Calibration()
    features = np.stack([x, np.ones_like(x)], axis=1)
    weights = np.zeros(2)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-features @ weights))
        gradient = features.T @ (p - y) + l2 * weights
        hessian = (features * (p * (1 - p))[:, None]).T @ features + l2 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-6:
            break
    return Calibration(float(weights[0]), float(weights[1]))
