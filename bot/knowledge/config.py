"""``helpline: knowledge:`` in config.yml: where articles live and when the bot answers from them."""
from __future__ import annotations

from dataclasses import dataclass, fields

from bot.training_data.yaml_reader import TrainingDataError, plain


@dataclass(frozen=True)
class KnowledgeConfig:
    """Thresholds apply to the calibrated score (the estimated chance that the top article is right).

    * ``answer_threshold``: read the top article out at or above this.
    * ``clarify_threshold`` / ``clarify_margin``: when the two best articles both reach
      ``clarify_threshold`` and their fused scores are closer than ``clarify_margin``, ask which
      one was meant.
    * ``lexical_weight``: added to the dense cosine per standard deviation an article's BM25 score
      stands above the query's mean (see ``index``).
    * ``hnsw_above``: passages beyond which FAISS switches from exact search to HNSW.
    * ``after_answer``, ``offer_person``, ``fallback_action``: what runs next after an answer,
      after a miss on a question, and after a miss when the NLU had fallen back (None: nothing).
    """

    folder: str = "knowledge"
    answer_threshold: float = 0.5
    clarify_threshold: float = 0.3
    clarify_margin: float = 0.03
    lexical_weight: float = 0.03
    hnsw_above: int = 20000
    top_k: int = 5
    after_answer: str | None = None
    offer_person: str | None = None
    fallback_action: str | None = None

    @classmethod
    def from_dict(cls, raw: dict | None, path=None) -> "KnowledgeConfig":
        raw = plain(raw or {})
        if not isinstance(raw, dict):
            raise TrainingDataError("'helpline: knowledge:' must be a mapping", path)
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise TrainingDataError(f"unknown knowledge settings {unknown} (expected {sorted(known)})", path)
        return cls(**raw)
