"""Training the intent classifier: the split encoder, the frozen pass, the fine-tuning, the graph export.

Only training and exporting a graph need torch. ``bot.nlu.intent_classifier`` imports this module
when it does either, so a server that only classifies runs on ONNX Runtime without loading torch
(about 235 MB of memory per process). The design is described in that module's docstring.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bot.nlu.fine_tuning import intent_batches, length_batches, pad, supervised_contrastive_loss
from bot.nlu.intent_classifier import ENCODE_BATCH, ClassifierConfig, Progress
from bot.nlu.minilm import resolve_train_threads
from bot.nlu.ngrams import NgramFeatures
from bot.nlu.onnx_graphs import export_graph
from bot.nlu.softmax_regression import fit_softmax_regression


def bf16_supported() -> bool:
    """Whether oneDNN has native bfloat16 kernels here (AVX-512 BF16 or AMX); emulated bf16 is slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Unit-length mean of the real (unpadded) token states, as sentence-transformers pools."""
    summed = (hidden * mask.unsqueeze(-1)).sum(1)
    return F.normalize(summed / mask.sum(1, keepdim=True).clamp(min=1.0), dim=-1)


def _additive_mask(mask: torch.Tensor) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min


class Encoder(torch.nn.Module):
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
                pooled.append(mean_pool(hidden, mask))
        return hidden, torch.cat(pooled, dim=-1)

    def top_forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        additive = _additive_mask(mask)
        for layer in self.top:
            hidden = layer(hidden, attention_mask=additive)
        return mean_pool(hidden, mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = attention_mask.to(torch.float32)
        hidden, linear_features = self.bottom_forward(input_ids, mask)
        return linear_features, self.top_forward(hidden, mask)


def export_encoder(encoder: Encoder) -> bytes:
    """The encoder (frozen base + tuned top layers) as an ONNX graph."""
    return export_graph(encoder, ["linear_features", "tuned_features"])


def export_saved(config: ClassifierConfig, embedder, directory: Path) -> bytes:
    """The serving graph of the classifier saved in ``directory``: the base model with its saved top layers."""
    transformer = embedder.transformer
    top = copy.deepcopy(transformer.encoder.layer[-config.trainable_layers:])
    with np.load(directory / "top_layers.npz", allow_pickle=False) as weights:
        top.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files})
    top.requires_grad_(False)
    return export_encoder(Encoder(transformer, top, config.linear_layers))


def top_layer_weights(top: torch.nn.ModuleList) -> dict[str, np.ndarray]:
    """The tuned top layers as arrays, for an npz file."""
    return {k: v.detach().numpy() for k, v in top.state_dict().items()}


@dataclass
class TrainedIntents:
    """What one training run leaves: the tuned top layers, both heads' weights, the n-grams, the graph."""
    top: torch.nn.ModuleList
    heads: dict[str, np.ndarray]
    ngrams: NgramFeatures
    graph: bytes


def train_intents(config: ClassifierConfig, embedder, texts: list[str], y: np.ndarray, n_labels: int,
                  report: Progress) -> TrainedIntents:
    """Fit both models on ``texts`` (labels ``y``); deterministic for a given thread count."""
    training = _Training(config, embedder, n_labels)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(resolve_train_threads(config.train_threads))
    try:
        training._fit(list(texts), y, report)
    finally:
        torch.set_num_threads(previous_threads)
    return TrainedIntents(training.top, training.heads, training.ngrams, export_encoder(training._encoder()))


class _Training:
    def __init__(self, config: ClassifierConfig, embedder, n_labels: int):
        self.config, self.embedder, self.n_labels = config, embedder, n_labels
        self.top: torch.nn.ModuleList | None = None
        self.heads: dict[str, np.ndarray] = {}
        self.ngrams: NgramFeatures | None = None

    def _fit(self, texts: list[str], y: np.ndarray, report: Progress) -> None:
        torch.manual_seed(self.config.seed)
        transformer = self.embedder.transformer
        self.top = copy.deepcopy(transformer.encoder.layer[-self.config.trainable_layers:])
        encoder = self._encoder()
        states, linear_features, tuned_features = self._cache_frozen_pass(encoder, texts, report)
        report("intent classifier: linear model", 0, 2)
        probe = fit_softmax_regression(None, tuned_features, y, self.n_labels, self.config.probe_c,
                                        self.config.linear_max_iter)
        self.ngrams = NgramFeatures()
        linear = fit_softmax_regression(self.ngrams.fit_transform(texts), linear_features, y, self.n_labels,
                                         self.config.linear_c, self.config.linear_max_iter)
        report("intent classifier: linear model", 2, 2)
        head = self._fine_tune(encoder, states, y, probe, report)
        self.heads = {"tuned_weight": head.weight.detach().numpy().copy(),
                       "tuned_bias": head.bias.detach().numpy().copy(),
                       "linear_sparse": linear["sparse"], "linear_dense": linear["dense"],
                       "linear_bias": linear["bias"]}

    def _cache_frozen_pass(self, encoder: Encoder, texts: list[str], report: Progress):
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

    def _fine_tune(self, encoder: Encoder, states: list[torch.Tensor], y: np.ndarray,
                   probe: dict[str, np.ndarray], report: Progress) -> torch.nn.Linear:
        """Tuning of the top layers and a softmax head started from the linear probe.

        Cross-entropy on every training set; small ones (up to
        ``contrastive_max_examples``) are batched by intent and add the supervised
        contrastive loss, weighted by ``contrastive_weight``.
        """
        cfg = self.config
        head = torch.nn.Linear(probe["dense"].shape[0], self.n_labels)
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
        self.top.requires_grad_(False)
        return head

    def _autocast(self):
        """bfloat16 matmuls while training where the CPU has them natively (``precision: auto``).

        About twice as fast on AVX-512 BF16 CPUs; serving stays float32 in ONNX Runtime.
        """
        wanted = self.config.precision == "bfloat16" or (self.config.precision == "auto" and bf16_supported())
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=wanted)

    def _encoder(self) -> Encoder:
        return Encoder(self.embedder.transformer, self.top, self.config.linear_layers)

    def _tokenize(self, texts: list[str], tensor_type: str):
        return self.embedder.tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_length,
                                       return_tensors=tensor_type)
