"""Nearest passages by inner product of unit vectors (cosine), with FAISS.

Exact search (``IndexFlatIP``) scans every vector: fastest and exact for the
sizes knowledge bases usually have. Above ``hnsw_above`` passages the scan
costs milliseconds per query, so an HNSW graph takes over (``bench/kb_scale.py``
measures both). FAISS runs on one thread for the same reason the encoder does.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 64

faiss.omp_set_num_threads(1)


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray, hnsw_above: int) -> "DenseIndex":
        dim = vectors.shape[1]
        if len(vectors) > hnsw_above:
            index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSWFlat) else "exact"

    @property
    def vectors(self) -> np.ndarray:
        """The stored passage vectors, read in place (no second copy in memory); valid while this index lives."""
        flat = faiss.downcast_index(self._index.storage) if isinstance(self._index, faiss.IndexHNSWFlat) \
            else self._index
        n, dim = int(flat.ntotal), int(flat.d)
        return faiss.rev_swig_ptr(flat.get_xb(), n * dim).reshape(n, dim) if n else np.zeros((0, dim), np.float32)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage numbers of the ``k`` nearest passages (-1 where fewer exist)."""
        if isinstance(self._index, faiss.IndexHNSWFlat):
            self._index.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], ids[0]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        return cls(faiss.read_index(str(path)))
