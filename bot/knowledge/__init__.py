"""Answers from knowledge articles that editors own (``knowledge/*.md``).

Modules: ``articles`` (format and validation), ``lexical`` (BM25), ``dense``
(FAISS), ``encoder`` (MiniLM through ONNX Runtime), ``index`` (search and
score fusion), ``calibration``, ``store`` (persisted, incremental builds),
``base`` (the served knowledge base and its hot reload), ``decision``
(answer, ask which, or admit not knowing).

Like ``bot.crm``, a tiny registry: the composition root ``configure()``s the
knowledge base and the dialogue's ``action_knowledge`` asks ``current()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.knowledge.base import KnowledgeBase

_base: "KnowledgeBase | None" = None


def configure(base: "KnowledgeBase | None") -> None:
    global _base
    _base = base


def current() -> "KnowledgeBase | None":
    """The configured knowledge base; None when the project has none (every question is a miss)."""
    return _base
