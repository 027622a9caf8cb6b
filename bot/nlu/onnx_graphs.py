"""Exported ONNX graphs of MiniLM encoders: export, an on-disk cache, and inference sessions.

Serving runs encoders through ONNX Runtime on one thread (about twice as fast
as eager PyTorch for single short sentences, and no torch import at start-up).
Exporting takes seconds and needs the model loaded in torch, so graphs are
cached outside model archives, keyed by whatever determines their weights;
the intent classifier and the knowledge retriever share the cache.
"""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path
from typing import Iterable

CACHE_ENV = "HELPLINE_CACHE_DIR"
CACHE_KEEP = 8
INPUT_NAMES = ["input_ids", "attention_mask"]


def cache_file(parts: Iterable[bytes]) -> Path:
    """Cache path for the graph determined by ``parts`` (weights, versions, names)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "helpline" / "onnx")
    return cache / f"{digest.hexdigest()[:32]}.onnx"


def read_cached(path: Path) -> bytes | None:
    """The cached graph, marked as recently used so that eviction keeps it; None if absent."""
    try:
        graph = path.read_bytes()
    except OSError:
        return None
    try:
        os.utime(path)
    except OSError:
        pass
    return graph


def store_graph(path: Path, graph: bytes) -> None:
    """Write a graph to the cache atomically, keeping only the newest ``CACHE_KEEP`` graphs."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(graph)
        partial.replace(path)
        graphs = sorted(path.parent.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in graphs[CACHE_KEEP:]:  # each graph is the size of the base model
            stale.unlink(missing_ok=True)
    except OSError:  # a read-only home only costs the next start its export
        pass


def export_graph(module, output_names: list[str]) -> bytes:
    """``module(input_ids, attention_mask)`` as an ONNX graph with dynamic batch and length."""
    import torch

    module.eval()
    example = (torch.tensor([[101, 2023, 102]]), torch.ones(1, 3, dtype=torch.int64))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter warns that it is legacy
        torch.onnx.export(module, example, buffer, input_names=INPUT_NAMES, output_names=output_names,
                          opset_version=17, dynamo=False,
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in INPUT_NAMES})
    return buffer.getvalue()


def open_session(graph: bytes, num_threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
