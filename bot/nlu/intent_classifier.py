"""Intent classification: a partially fine-tuned MiniLM ensembled with a sparse linear model.

Why this design (BANKING77, 2-core CPU; see ``bench/nlu_banking77.py``):

* Frozen MiniLM embeddings + logistic regression plateau around 93 %. Fine-tuning
  the whole transformer on CPU is too slow, so only the last ``trainable_layers``
  are tuned: the frozen lower layers run once over the training set, their token
  states are cached, and each epoch then costs a forward/backward through the
  top layer only.
* A second, independent model - multinomial logistic regression on word and
  character tf-idf n-grams plus the pooled frozen middle layers - catches
  lexical cues (card names, currencies, typos) the embedding smooths over.
  Averaging the two models' probabilities beats either alone, and both are
  trained with regularisation (label smoothing / L2), which keeps the averaged
  probabilities usable for the NLU fallback threshold.
* Small training sets (a Rasa bot's usual 10-30 examples per intent) also get
  a supervised contrastive loss on intent-grouped batches while the top layer is
  tuned (see ``bot/nlu/fine_tuning.py``): examples of one intent are pulled
  together, which cross-entropy alone does poorly from ten examples.
* Training runs its matmuls in bfloat16 where the CPU has native kernels
  (AVX-512 BF16/AMX; ``precision``): about twice as fast, same accuracy on
  BANKING77. Serving stays float32.
* Inference runs the encoder through ONNX Runtime on one thread: about twice as
  fast as eager PyTorch for single short sentences. Persisted models stay small
  (a few MB) and hold data only (JSON and npz, no pickle): the graph is exported
  once from the bundled base model plus the saved top-layer weights and cached
  outside the archive, so a server start neither exports nor loads
  sentence-transformers.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import softmax

from bot.nlu.embedder import (SentenceEmbedder, fast_tokenizer, get_embedder, model_name, resolve_threads,
                               resolve_train_threads)
from bot.nlu.fine_tuning import intent_batches, length_batches, pad, supervised_contrastive_loss
from bot.nlu.ngrams import IDF_FILE, VOCABULARY_FILE, NgramFeatures
from bot.nlu.onnx_graphs import cache_file, export_graph, open_session, read_cached, store_graph
from bot.nlu.softmax_regression import fit_softmax_regression

Progress = Callable[[str, int, int], None]
FORMAT_VERSION = 2
ARTIFACTS = ("meta.json", "top_layers.npz", "heads.npz", VOCABULARY_FILE, IDF_FILE)
ENCODE_BATCH = 64
PRECISIONS = ("auto", "bfloat16", "float32")


def _bf16_supported() -> bool:
    """Whether oneDNN has native bfloat16 kernels here (AVX-512 BF16 or AMX); emulated bf16 is slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class ClassifierConfig:
    """Hyperparameters, chosen on the BANKING77 DNNC train/valid split (never on test).

    Fine-tuning runs ``min_epochs`` epochs, or more on small data so that the
    top layer sees at least ``min_steps`` optimiser steps (capped at
    ``max_epochs``); ``epochs`` forces a fixed number instead. On valid, three
    epochs beat two (94.3 vs 94.0 %), 50 L-BFGS iterations matched 100 at half
    the cost, and tuning two layers or a higher learning rate did not help the
    10-shot setting.

    Training sets of up to ``few_shot_max_examples`` are tuned with the
    supervised contrastive loss added (``contrastive_*``) and weighted
    ``few_shot_ensemble_weight`` instead of ``ensemble_weight`` in the ensemble.
    On 10-shot valid that took accuracy from 85.8 to 86.9 % (0.5 of the loss;
    a weight of 1.0, two tuned layers, or twice the steps did no better); the
    tuned head then deserves the larger share (0.6 beat 0.5 in every variant).
    Large sets keep plain cross-entropy, which full-data valid was tuned with.
    """

    trainable_layers: int = 1
    linear_layers: tuple[int, ...] = (3, 4, 5)
    epochs: int | None = None
    min_epochs: int = 3
    min_steps: int = 200
    max_epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 3e-4
    head_learning_rate: float = 3e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.1
    probe_c: float = 10.0
    linear_c: float = 20.0
    linear_max_iter: int = 50
    ensemble_weight: float = 0.5
    max_length: int = 128
    seed: int = 13
    train_threads: int | None = None
    precision: str = "auto"
    few_shot_max_examples: int = 3000
    few_shot_ensemble_weight: float = 0.6
    contrastive_weight: float = 0.5
    contrastive_temperature: float = 0.1
    contrastive_group: int = 4

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"IntentClassifier precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {self.precision!r}")

    @classmethod
    def from_dict(cls, values: dict) -> "ClassifierConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"unknown IntentClassifier options: {sorted(unknown)}")
        values = dict(values)
        if "linear_layers" in values:
            values["linear_layers"] = tuple(values["linear_layers"])
        return cls(**values)

    def few_shot(self, n_examples: int) -> bool:
        """Whether a training set this size is tuned and weighted the few-shot way."""
        return n_examples <= self.few_shot_max_examples

    def epochs_for(self, n_examples: int) -> int:
        if self.epochs is not None:
            return self.epochs
        steps_per_epoch = math.ceil(n_examples / self.batch_size)
        return min(self.max_epochs, max(self.min_epochs, math.ceil(self.min_steps / steps_per_epoch)))


# --- the encoder -------------------------------------------------------------------------------

def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit-length mean of the real (unpadded) token states, as sentence-transformers pools."""
    summed = (hidden * mask.unsqueeze(-1)).sum(1)
    return F.normalize(summed / mask.sum(1, keepdim=True).clamp(min=1.0), dim=-1)


def _additive_mask(mask: torch.Tensor) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min


class _Encoder(torch.nn.Module):
    """MiniLM split into frozen bottom layers (shared with the embedder) and tuned top copies.

    Returns the two feature sets the heads read: the concatenated pooled outputs
    of ``linear_layers`` (for the linear model) and the pooled final output
    (for the fine-tuned softmax head).
    """

    def __init__(self, transformer: torch.nn.Module, top: torch.nn.ModuleList, linear_layers: tuple[int, ...]):
        super().__init__()
        n_bottom = len(transformer.encoder.layer) - len(top)
        if not linear_layers or max(linear_layers) > n_bottom or min(linear_layers) < 1:
            raise ValueError(f"linear_layers must lie within the {n_bottom} frozen layers, got {linear_layers}")
        self.embeddings = transformer.embeddings
        self.bottom = torch.nn.ModuleList(transformer.encoder.layer[:n_bottom])
        self.top = top
        self.linear_layers = tuple(linear_layers)

    def bottom_forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states entering the top layers, and the pooled linear-model features."""
        additive = _additive_mask(mask)
        hidden = self.embeddings(input_ids=input_ids)
        pooled = []
        for depth, layer in enumerate(self.bottom, start=1):
            hidden = layer(hidden, attention_mask=additive)
            if depth in self.linear_layers:
                pooled.append(_mean_pool(hidden, mask))
        return hidden, torch.cat(pooled, dim=-1)

    def top_forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        additive = _additive_mask(mask)
        for layer in self.top:
            hidden = layer(hidden, attention_mask=additive)
        return _mean_pool(hidden, mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = attention_mask.to(torch.float32)
        hidden, linear_features = self.bottom_forward(input_ids, mask)
        return linear_features, self.top_forward(hidden, mask)


def _export_onnx(encoder: _Encoder) -> bytes:
    """The encoder (frozen base + tuned top layers) as an ONNX graph."""
    return export_graph(encoder, ["linear_features", "tuned_features"])


def _graph_cache_file(directory: Path) -> Path:
    """Where the exported graph of the classifier saved in ``directory`` is cached.

    Archives stay small because the graph (the size of the base model) lives in
    this cache instead, keyed by the saved weights and the exporter's version.
    """
    return cache_file([torch.__version__.encode(), *((directory / name).read_bytes()
                                                     for name in ("meta.json", "top_layers.npz"))])


# --- the classifier ------------------------------------------------------------------------------

class IntentClassifier:
    """Ranks intents for a message; see the module docstring for the model."""

    def __init__(self, embedder: SentenceEmbedder | None = None, **config):
        self.config = ClassifierConfig.from_dict(config)
        self._embedder = embedder
        self.labels: list[str] = []
        self._top: torch.nn.ModuleList | None = None
        self._heads: dict[str, np.ndarray] = {}
        self._ngrams: NgramFeatures | None = None
        self._graph: bytes | None = None
        self._session = None
        self._serving_tokenizer = None
        self._ensemble_weight = self.config.ensemble_weight

    @property
    def embedder(self) -> SentenceEmbedder:
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    # --- training ----------------------------------------------------------------------------

    def train(self, texts: list[str], labels: list[str], progress: Progress | None = None) -> None:
        """Fit both models on ``texts``/``labels``; deterministic for a given thread count."""
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        self.labels = sorted(set(labels))
        if len(self.labels) < 2:
            raise ValueError("intent classification needs examples of at least two intents")
        report = progress or (lambda *_: None)
        y = np.array([self.labels.index(label) for label in labels])
        self._ensemble_weight = (self.config.few_shot_ensemble_weight if self.config.few_shot(len(texts))
                                 else self.config.ensemble_weight)
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(resolve_train_threads(self.config.train_threads))
        try:
            self._train(list(texts), y, report)
        finally:
            torch.set_num_threads(previous_threads)
        self._graph = _export_onnx(self._encoder())
        self._session = open_session(self._graph, self.embedder.num_threads)

    def _train(self, texts: list[str], y: np.ndarray, report: Progress) -> None:
        torch.manual_seed(self.config.seed)
        transformer = self.embedder.transformer
        self._top = copy.deepcopy(transformer.encoder.layer[-self.config.trainable_layers:])
        encoder = self._encoder()
        states, linear_features, tuned_features = self._cache_frozen_pass(encoder, texts, report)
        report("intent classifier: linear model", 0, 2)
        probe = fit_softmax_regression(None, tuned_features, y, len(self.labels), self.config.probe_c,
                                        self.config.linear_max_iter)
        self._ngrams = NgramFeatures()
        linear = fit_softmax_regression(self._ngrams.fit_transform(texts), linear_features, y, len(self.labels),
                                         self.config.linear_c, self.config.linear_max_iter)
        report("intent classifier: linear model", 2, 2)
        head = self._fine_tune(encoder, states, y, probe, report)
        self._heads = {"tuned_weight": head.weight.detach().numpy().copy(),
                       "tuned_bias": head.bias.detach().numpy().copy(),
                       "linear_sparse": linear["sparse"], "linear_dense": linear["dense"],
                       "linear_bias": linear["bias"]}

    def _cache_frozen_pass(self, encoder: _Encoder, texts: list[str], report: Progress):
        """One pass of the frozen layers: cached token states plus both heads' starting features."""
        states: list[torch.Tensor] = [torch.empty(0)] * len(texts)
        linear_features = np.zeros((len(texts), 0), np.float32)
        tuned_features = np.zeros((len(texts), 0), np.float32)
        encoder.eval()
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths -> little padding
        done = 0
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(texts), ENCODE_BATCH):
                index = order[start:start + ENCODE_BATCH]
                batch = self._tokenize([texts[i] for i in index], "pt")
                mask = batch["attention_mask"].to(torch.float32)
                hidden, linear = encoder.bottom_forward(batch["input_ids"], mask)
                tuned = encoder.top_forward(hidden, mask)
                if not linear_features.shape[1]:
                    linear_features = np.zeros((len(texts), linear.shape[1]), np.float32)
                    tuned_features = np.zeros((len(texts), tuned.shape[1]), np.float32)
                linear_features[index], tuned_features[index] = linear.float().numpy(), tuned.float().numpy()
                for row, i in enumerate(index):
                    states[i] = hidden[row, :int(mask[row].sum())].to(torch.float32, copy=True)
                done += len(index)
                report("intent classifier: embedding", done, len(texts))
        return states, linear_features, tuned_features

    def _fine_tune(self, encoder: _Encoder, states: list[torch.Tensor], y: np.ndarray,
                   probe: dict[str, np.ndarray], report: Progress) -> torch.nn.Linear:
        """Tuning of the top layers and a softmax head started from the linear probe.

        Cross-entropy on every training set; small ones (up to
        ``contrastive_max_examples``) are batched by intent and add the supervised
        contrastive loss, weighted by ``contrastive_weight``.
        """
        cfg = self.config
        head = torch.nn.Linear(probe["dense"].shape[0], len(self.labels))
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(probe["dense"].T.copy()))
            head.bias.copy_(torch.from_numpy(probe["bias"]))
        optimizer = torch.optim.AdamW([{"params": encoder.top.parameters(), "lr": cfg.learning_rate},
                                       {"params": head.parameters(), "lr": cfg.head_learning_rate}],
                                      weight_decay=cfg.weight_decay)
        rng = np.random.default_rng(cfg.seed)
        epochs = cfg.epochs_for(len(states))
        contrastive = cfg.contrastive_weight > 0 and cfg.few_shot(len(states))
        lengths = [state.shape[0] for state in states]
        total = epochs * math.ceil(len(states) / cfg.batch_size)
        warmup = max(1.0, cfg.warmup_ratio * total)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total))
        targets = torch.from_numpy(y)
        encoder.top.train()
        step = 0
        while step < total:
            batches = (intent_batches(y, cfg.batch_size, cfg.contrastive_group, rng) if contrastive
                       else length_batches(lengths, cfg.batch_size, rng))
            for batch in batches[:total - step]:
                hidden, mask = pad(states, batch)
                with self._autocast():
                    features = encoder.top_forward(hidden, mask)
                    logits = head(features)
                loss = F.cross_entropy(logits.float(), targets[batch], label_smoothing=cfg.label_smoothing)
                if contrastive:
                    loss = loss + cfg.contrastive_weight * supervised_contrastive_loss(
                        features.float(), targets[batch], cfg.contrastive_temperature)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                step += 1
                report("intent classifier: fine-tuning", step, total)
        encoder.top.eval()
        self._top.requires_grad_(False)
        return head

    # --- prediction --------------------------------------------------------------------------

    def predict(self, text: str) -> list[tuple[str, float]]:
        """All intents with probabilities, most likely first."""
        return self.predict_batch([text])[0]

    def predict_batch(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        if self._session is None:
            raise RuntimeError("the intent classifier is not trained; call train() or load() first")
        rankings = []
        for start in range(0, len(texts), ENCODE_BATCH):
            for probs in self._probabilities(texts[start:start + ENCODE_BATCH]):
                order = np.argsort(-probs, kind="stable")
                rankings.append([(self.labels[i], float(probs[i])) for i in order])
        return rankings

    def _probabilities(self, texts: list[str]) -> np.ndarray:
        if self._serving_tokenizer is None:
            self._serving_tokenizer = fast_tokenizer(self.config.max_length)
        encodings = self._serving_tokenizer.encode_batch(texts)
        linear_features, tuned_features = self._session.run(
            None, {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                   "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)})
        h = self._heads
        tuned = softmax(tuned_features @ h["tuned_weight"].T + h["tuned_bias"], axis=1)
        ngrams = self._ngrams.transform(texts)
        linear = softmax(ngrams @ h["linear_sparse"] + linear_features @ h["linear_dense"] + h["linear_bias"],
                         axis=1)
        weight = self._ensemble_weight
        return weight * tuned + (1.0 - weight) * linear

    # --- persistence -------------------------------------------------------------------------

    def persist(self, directory: Path) -> None:
        """Write JSON/npz artifacts only (top-layer weights, heads, n-gram vocabularies): no pickle."""
        if self._top is None or self._graph is None:
            raise RuntimeError("only a freshly trained intent classifier can be persisted")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT_VERSION, "embedder": self.embedder.name, "labels": self.labels,
                "config": asdict(self.config), "ensemble_weight": self._ensemble_weight}
        (directory / "meta.json").write_text(json.dumps(meta, indent=2))
        np.savez(directory / "top_layers.npz",
                 **{k: v.detach().numpy() for k, v in self._top.state_dict().items()})
        np.savez(directory / "heads.npz", **self._heads)
        self._ngrams.save(directory)
        store_graph(_graph_cache_file(directory), self._graph)

    @classmethod
    def load(cls, directory: Path, embedder: SentenceEmbedder | None = None) -> "IntentClassifier":
        """A classifier ready to predict; the base model is loaded only if its graph is not cached."""
        directory = Path(directory)
        missing = [name for name in ARTIFACTS if not (directory / name).is_file()]
        if missing:
            raise FileNotFoundError(f"no trained intent classifier in {directory}: missing {', '.join(missing)}")
        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"intent classifier in {directory} has format {meta.get('format')}, "
                             f"expected {FORMAT_VERSION}; retrain the model")
        classifier = cls(embedder, **meta["config"])
        expected = embedder.name if embedder is not None else model_name()
        if meta["embedder"] != expected:
            raise ValueError(f"intent classifier in {directory} was trained on {meta['embedder']}, not {expected}")
        classifier.labels = list(meta["labels"])
        classifier._ensemble_weight = float(meta["ensemble_weight"])
        with np.load(directory / "heads.npz", allow_pickle=False) as heads:
            classifier._heads = {k: heads[k] for k in heads.files}
        classifier._ngrams = NgramFeatures.load(directory)
        cached = _graph_cache_file(directory)
        graph = read_cached(cached)
        if graph is None:
            graph = _export_onnx(classifier._encoder_from(directory))
            store_graph(cached, graph)
        classifier._session = open_session(graph, embedder.num_threads if embedder else resolve_threads())
        return classifier

    def _encoder_from(self, directory: Path) -> _Encoder:
        """The base model with the saved top layers, for exporting the graph."""
        transformer = self.embedder.transformer
        top = copy.deepcopy(transformer.encoder.layer[-self.config.trainable_layers:])
        with np.load(directory / "top_layers.npz", allow_pickle=False) as weights:
            top.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files})
        top.requires_grad_(False)
        return _Encoder(transformer, top, self.config.linear_layers)

    # --- helpers -----------------------------------------------------------------------------

    def _autocast(self):
        """bfloat16 matmuls while training where the CPU has them natively (``precision: auto``).

        About twice as fast on AVX-512 BF16 CPUs; serving stays float32 in ONNX Runtime.
        """
        wanted = self.config.precision == "bfloat16" or (self.config.precision == "auto" and _bf16_supported())
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=wanted)

    def _encoder(self) -> _Encoder:
        return _Encoder(self.embedder.transformer, self._top, self.config.linear_layers)

    def _tokenize(self, texts: list[str], tensor_type: str):
        return self.embedder.tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_length,
                                       return_tensors=tensor_type)
