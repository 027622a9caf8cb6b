"""The knowledge base a running bot answers from, and its hot reload.

``reload()`` reads the articles, validates them, builds (or loads) the index
and only then swaps it in with a single assignment: a search running at that
moment finishes on the old index, the next one uses the new. Invalid articles
are reported with file and line and the old index keeps serving.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge.articles import load_articles
from bot.knowledge.config import KnowledgeConfig
from bot.knowledge.index import Hit, KnowledgeIndex
from bot.knowledge.store import BuildReport, Progress, build_index
from bot.validation import Issue

logger = logging.getLogger(__name__)
INDEX_FOLDER = "knowledge"


@dataclass
class ReloadResult:
    ok: bool
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    build: BuildReport | None = None
    changed: bool = False

    def as_dict(self) -> dict:
        result = {"ok": self.ok, "errors": [str(i) for i in self.errors],
                  "warnings": [str(i) for i in self.warnings], "changed": self.changed}
        if self.build:
            result.update(index=self.build.content_hash, articles=self.build.articles,
                          embedded_articles=self.build.embedded_articles)
        return result


class KnowledgeBase:
    def __init__(self, folder: Path, models_dir: Path, config: KnowledgeConfig, encoder=None):
        self.folder = folder
        self.index_root = models_dir / INDEX_FOLDER
        self.config = config
        self._encoder = encoder
        self.index: KnowledgeIndex | None = None
        self.content_hash: str | None = None
        self._reloading = threading.Lock()

    @classmethod
    def for_project(cls, root: Path, config: KnowledgeConfig, models_dir: Path) -> "KnowledgeBase | None":
        """The project's knowledge base per ``helpline: knowledge:``; None if it has no articles folder."""
        folder = root / config.folder
        return cls(folder, models_dir, config) if folder.is_dir() else None

    def validate(self) -> ReloadResult:
        """Check the articles on disk without building anything."""
        report = load_articles(self.folder).report
        return ReloadResult(report.ok, report.errors, report.warnings)

    @property
    def encoder(self):
        if self._encoder is None:
            from bot.knowledge.encoder import get_encoder

            self._encoder = get_encoder()
        return self._encoder

    def fingerprint(self) -> str:
        """Hash of the article files as they are on disk (cheap: for noticing edits)."""
        digest = hashlib.sha256()
        for path in sorted(self.folder.rglob("*.md")) if self.folder.is_dir() else []:
            digest.update(str(path.relative_to(self.folder)).encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                continue
        return digest.hexdigest()[:16]

    def reload(self, progress: Progress = lambda *_: None) -> ReloadResult:
        """Validate the articles on disk and swap in their index; on errors keep the current one."""
        with self._reloading:
            articles = load_articles(self.folder)
            report = articles.report
            if not report.ok:
                logger.error("knowledge change refused", extra={"errors": [str(i) for i in report.errors][:20],
                                                                "serving": self.content_hash})
                return ReloadResult(False, report.errors, report.warnings)
            index, build = build_index(articles.articles, self.index_root, self.config, self.encoder, progress)
            changed = build.content_hash != self.content_hash
            self.index, self.content_hash = index, build.content_hash  # the swap
            if changed:
                logger.info("knowledge index serving", extra={"index": build.content_hash,
                                                              "articles": build.articles,
                                                              "embedded_articles": build.embedded_articles})
            return ReloadResult(True, [], report.warnings, build, changed)

    async def reload_async(self) -> ReloadResult:
        return await asyncio.to_thread(self.reload)

    def search(self, text: str, k: int | None = None, method: str = "fused") -> list[Hit]:
        index = self.index  # one read: a concurrent swap cannot mix two indexes in one search
        if index is None or not text.strip():
            return []
        return index.search(text, self.encoder.encode([text])[0], k or self.config.top_k, method)
