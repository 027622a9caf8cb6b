"""``helpline: knowledge:`` in config.yml: where articles live and when the bot answers from them."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from bot.config_model import ConfigModel


class KnowledgeConfig(ConfigModel):
    """Thresholds apply to the calibrated score (the estimated chance that the top article is right)."""

    model_config = ConfigDict(frozen=True)

    folder: str = "knowledge"
    """Folder of the Markdown articles, relative to the project; no folder: no knowledge base."""
    answer_threshold: float = Field(0.5, ge=0, le=1)
    """Read the top article out when its calibrated score is at least this."""
    clarify_threshold: float = Field(0.3, ge=0, le=1)
    """When the two best articles both reach this and their fused scores are closer than clarify_margin,
    ask which one was meant."""
    clarify_margin: float = Field(0.03, ge=0)
    lexical_weight: float = Field(0.03, ge=0)
    """Added to the dense cosine per standard deviation an article's BM25 score stands above the query's mean."""
    hnsw_above: int = Field(20000, ge=1)
    """Passages beyond which FAISS switches from exact search to HNSW."""
    top_k: int = Field(5, ge=1)
    after_answer: str | None = None
    """Action run after an answer (none: nothing)."""
    offer_person: str | None = None
    """Action run after a miss on a question."""
    fallback_action: str | None = None
    """Action run after a miss when the NLU had fallen back."""
