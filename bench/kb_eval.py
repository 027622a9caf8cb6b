"""Shared by the knowledge benchmarks: recall@1, recall@5 and MRR of dense, BM25 and fused ranking."""
from __future__ import annotations

import numpy as np

from bot.knowledge.index import METHODS, KnowledgeIndex

DEPTH = 20  # MRR counts a right article ranked below this as 0
NAMES = {"fused": "fused", "dense": "dense", "lexical": "bm25"}


def evaluate(index: KnowledgeIndex, queries: list[str], answers: list[str], vectors: np.ndarray,
             progress=lambda stage, done, total: None) -> dict:
    """Metrics per method (``dense``, ``bm25``, ``fused``) for queries whose right article ids are ``answers``."""
    results = {}
    for method in METHODS:
        ranks = []
        for number, (query, answer) in enumerate(zip(queries, answers)):
            ids = [hit.article.id for hit in index.search(query, vectors[number], DEPTH, method)]
            ranks.append(ids.index(answer) if answer in ids else DEPTH)
            progress(f"searching ({NAMES[method]})", number + 1, len(queries))
        ranks = np.array(ranks)
        results[NAMES[method]] = {"recall_at_1": round(float((ranks == 0).mean()), 4),
                                  "recall_at_5": round(float((ranks < 5).mean()), 4),
                                  "mrr": round(float(np.where(ranks < DEPTH, 1.0 / (ranks + 1), 0.0).mean()), 4)}
    return {name: results[name] for name in ("dense", "bm25", "fused")}


def print_table(title: str, metrics: dict) -> None:
    print(title)
    for method, values in metrics.items():
        print(f"  {method:6s} recall@1 {values['recall_at_1']:.3f}  recall@5 {values['recall_at_5']:.3f}  "
              f"MRR {values['mrr']:.3f}")
