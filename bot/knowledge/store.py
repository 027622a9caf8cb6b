"""Build the knowledge index and persist it beside the models, keyed by a content hash.

``<models>/knowledge/<hash>/`` holds the FAISS index, the passage vectors
again as ``.npy`` (memory-mapped when a later build reuses them) and the
articles with the fitted calibration. The hash covers every article's
content, the embedding model and the settings that shape the index, so an
unchanged knowledge base loads without embedding anything. When articles
change, vectors of unchanged articles are taken from earlier builds and only
the changed ones are embedded. Builds are written to a temporary folder and
renamed, so a reader never sees half an index.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from bot.knowledge.articles import Article
from bot.knowledge.calibration import fit_calibration
from bot.knowledge.config import KnowledgeConfig
from bot.knowledge.dense import DenseIndex
from bot.knowledge.index import Calibration, KnowledgeIndex, article_passages, article_text
from bot.knowledge.lexical import LexicalIndex

logger = logging.getLogger(__name__)
FORMAT_VERSION = 2
KEEP_BUILDS = 3
META, VECTORS, DENSE = "meta.json", "vectors.npy", "dense.faiss"
Progress = Callable[[str, int, int], None]


class Encoder(Protocol):
    """What a build needs of ``encoder.TextEncoder``."""

    name: str
    dim: int

    def encode(self, texts: list[str], progress=None) -> np.ndarray: ...


@dataclass(frozen=True)
class BuildReport:
    path: Path
    content_hash: str
    articles: int
    embedded_articles: int  # articles whose passages were embedded in this build
    reused_articles: int


def content_hash(articles: list[Article], config: KnowledgeConfig, encoder_name: str) -> str:
    digest = hashlib.sha256(f"{FORMAT_VERSION}|{encoder_name}|{config.lexical_weight}|{config.hnsw_above}".encode())
    for article in articles:
        digest.update(f"{article.id}:{article.content_hash}:{article.skill}:{article.details}\n".encode())
    return digest.hexdigest()[:16]


def build_index(articles: list[Article], root: Path, config: KnowledgeConfig, encoder: Encoder,
                progress: Progress = lambda *_: None) -> tuple[KnowledgeIndex, BuildReport]:
    """The index for ``articles``: loaded if already built, else built reusing earlier vectors."""
    key = content_hash(articles, config, encoder.name)
    target = root / key
    if (target / META).is_file():
        return load_index(target), BuildReport(target, key, len(articles), 0, len(articles))
    known = _earlier_vectors(root, encoder.name)
    passages = [article_passages(a, n) for n, a in enumerate(articles)]
    changed = {n for n, a in enumerate(articles) if a.content_hash not in known}
    texts = [p.text for n in sorted(changed) for p in passages[n]]
    progress("knowledge: embedding changed articles", 0, max(len(texts), 1))
    fresh = encoder.encode(texts, lambda done, total: progress("knowledge: embedding changed articles", done, total))
    rows, offset = [], 0
    for n, article in enumerate(articles):
        if n in changed:
            rows.append(fresh[offset:offset + len(passages[n])])
            offset += len(passages[n])
        else:
            rows.append(known[article.content_hash])
    vectors = np.concatenate(rows) if rows else np.zeros((0, encoder.dim), np.float32)
    progress("knowledge: calibrating scores", 0, 1)
    calibration = fit_calibration(articles, vectors, config.lexical_weight)
    progress("knowledge: indexing", 0, 1)
    index = KnowledgeIndex.build(articles, vectors, config.lexical_weight, config.hnsw_above, calibration)
    _write(index, target, key, encoder.name)
    _prune(root, keep=target)
    logger.info("knowledge index built", extra={"content_hash": key, "articles": len(articles),
                                                "embedded_articles": len(changed)})
    return index, BuildReport(target, key, len(articles), len(changed), len(articles) - len(changed))


def load_index(path: Path) -> KnowledgeIndex:
    meta = json.loads((path / META).read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"knowledge index {path} has format {meta.get('format')}, expected {FORMAT_VERSION}")
    articles = [_article(raw) for raw in meta["articles"]]
    lexical = LexicalIndex.build([article_text(a) for a in articles])
    return KnowledgeIndex(articles, DenseIndex.load(path / DENSE), lexical, meta["lexical_weight"],
                          Calibration(**meta["calibration"]))


def _write(index: KnowledgeIndex, target: Path, key: str, encoder_name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{key}.{time.time_ns()}.partial"
    partial.mkdir()
    try:
        np.save(partial / VECTORS, index.vectors)
        index.dense.save(partial / DENSE)
        meta = {"format": FORMAT_VERSION, "content_hash": key, "embedder": encoder_name, "built_at": time.time(),
                "lexical_weight": index.lexical_weight, "calibration": asdict(index.calibration),
                "articles": [{**asdict(a), "valid_until": a.valid_until.isoformat() if a.valid_until else None,
                              "content_hash": a.content_hash} for a in index.articles]}
        (partial / META).write_text(json.dumps(meta, indent=1))
        partial.rename(target)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        if not (target / META).is_file():  # another process may have finished the same build first
            raise


def _earlier_vectors(root: Path, encoder_name: str) -> dict[str, np.ndarray]:
    """Passage vectors of every article in earlier builds, by article content hash."""
    known: dict[str, np.ndarray] = {}
    for build in _builds(root):
        try:
            meta = json.loads((build / META).read_text())
            if meta.get("format") != FORMAT_VERSION or meta.get("embedder") != encoder_name:
                continue
            vectors = np.load(build / VECTORS, mmap_mode="r")
        except (OSError, ValueError):
            continue
        offset = 0
        for number, raw in enumerate(meta["articles"]):
            count = len(article_passages(_article(raw), number))
            known.setdefault(raw["content_hash"], np.array(vectors[offset:offset + count]))
            offset += count
    return known


def _builds(root: Path) -> list[Path]:
    """Finished builds, newest first."""
    builds = [p for p in root.iterdir() if (p / META).is_file()] if root.is_dir() else []
    return sorted(builds, key=lambda p: p.stat().st_mtime, reverse=True)


def _prune(root: Path, keep: Path) -> None:
    for stale in [b for b in _builds(root) if b != keep][KEEP_BUILDS - 1:]:
        shutil.rmtree(stale, ignore_errors=True)


def _article(raw: dict) -> Article:
    fields = {k: v for k, v in raw.items() if k != "content_hash"}
    fields["questions"], fields["tags"] = tuple(fields["questions"]), tuple(fields["tags"])
    fields["valid_until"] = dt.date.fromisoformat(raw["valid_until"]) if raw.get("valid_until") else None
    return Article(**fields)
