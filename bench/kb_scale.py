"""Knowledge search latency and memory at 1k, 10k and 100k passages, and query embedding time.

    python bench/kb_scale.py

Synthetic articles (a title, three questions and an answer each, words drawn
from a Zipf vocabulary; random unit vectors, so no embedding is needed to
build them) go through the same index as the bot: FAISS (exact up to
``hnsw_above`` passages, HNSW above), BM25 and fusion. Search latency excludes
the query embedding, which is timed on its own with the real encoder. All of it
runs with one thread while a busy-loop process keeps the other core busy, as
on a loaded 2-core box. Writes bench/results/kb_scale.json.
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from bot.knowledge.articles import Article  # noqa: E402
from bot.knowledge.config import KnowledgeConfig  # noqa: E402
from bot.knowledge.encoder import TextEncoder  # noqa: E402
from bot.knowledge.index import KnowledgeIndex, article_passages  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
PASSAGES_PER_ARTICLE = 5
QUERIES = 300
DIM = 384
VOCABULARY = 30_000
QUESTIONS = ["what's the warranty on my label printer", "do you ship to canada", "how do i return a gift",
             "can i pay by invoice", "my standing desk won't go up"]


def busy_loop() -> None:
    while True:
        pass


def rss_mb() -> float:
    """Resident memory after handing freed heap back to the OS (so it counts what is still held)."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def letters(number: int) -> str:
    """A made-up word for a number: 0 -> "qa", 27 -> "qbb" (letters only, so the tokenizer keeps it whole)."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(ord("a") + digit) + word
        if number == 0:
            return "q" + word


def synthetic_articles(n_passages: int, rng: np.random.Generator) -> list[Article]:
    """Articles of a 5-word title, three 8-word questions and a 30-word answer, Zipf-distributed words."""
    weights = 1.0 / np.arange(1, VOCABULARY + 1)
    lengths = [5, 8, 8, 8, 30]
    n_articles = n_passages // PASSAGES_PER_ARTICLE
    drawn = iter(rng.choice(VOCABULARY, n_articles * sum(lengths), p=weights / weights.sum()).tolist())

    def text(n: int) -> str:
        return " ".join(letters(next(drawn)) for _ in range(n))

    return [Article(id=f"a{i}", title=text(5), questions=(text(8), text(8), text(8)), skill="general",
                    answer=text(30)) for i in range(n_articles)]


def percentiles(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3)}


def measure_search(n_passages: int, config: KnowledgeConfig, rng: np.random.Generator) -> dict:
    articles = synthetic_articles(n_passages, rng)
    before = rss_mb()
    vectors = rng.standard_normal((n_passages, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building the graph may use both cores
    started = time.perf_counter()
    index = KnowledgeIndex.build(articles, vectors, config.lexical_weight, config.hnsw_above)
    build_seconds = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    del vectors  # the index keeps its own copy; reading it back below counts nothing twice
    vectors = index.vectors
    memory = rss_mb() - before
    passages = [p for n, a in enumerate(articles) for p in article_passages(a, n)]
    picks = rng.choice(len(passages), QUERIES, replace=False)
    timings, found = [], 0
    for pick in picks:  # a query near a known passage, with a few of its words
        noisy = vectors[pick] + 0.5 * rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)
        noisy /= np.linalg.norm(noisy)
        query = " ".join(passages[pick].text.split()[:4])
        started = time.perf_counter()
        hits = index.search(query, noisy, k=config.top_k)
        timings.append(time.perf_counter() - started)
        found += hits[0].article.id == articles[passages[pick].article].id
    return {"passages": n_passages, "articles": len(articles), "dense_index": index.dense.kind,
            "build_seconds": round(build_seconds, 2), "index_memory_mb": round(memory, 1),
            "top1_found": round(found / QUERIES, 3), **percentiles(timings)}


def measure_embedding(threads: int) -> dict:
    encoder = TextEncoder(num_threads=threads)
    for question in QUESTIONS:
        encoder.encode([question])  # warm up
    timings = []
    for i in range(100):
        started = time.perf_counter()
        encoder.encode([QUESTIONS[i % len(QUESTIONS)]])
        timings.append(time.perf_counter() - started)
    return {"threads": threads, **percentiles(timings)}


def main() -> None:
    config = KnowledgeConfig()
    rng = np.random.default_rng(7)
    busy = multiprocessing.Process(target=busy_loop, daemon=True)
    busy.start()
    try:
        search = []
        for size in SIZES:
            result = measure_search(size, config, rng)
            print(f"{size:>7} passages ({result['dense_index']}): search p50 {result['p50_ms']} ms, "
                  f"p99 {result['p99_ms']} ms, index memory {result['index_memory_mb']} MB, "
                  f"built in {result['build_seconds']} s", flush=True)
            search.append(result)
        embedding = [measure_embedding(1), measure_embedding(2)]
        for result in embedding:
            print(f"query embedding, {result['threads']} thread(s): p50 {result['p50_ms']} ms, "
                  f"p99 {result['p99_ms']} ms", flush=True)
    finally:
        busy.terminate()
        busy.join()
    path = write_result("kb_scale.json", {
        "command": "python bench/kb_scale.py", "other_core": "busy-loop process",
        "hnsw_above": config.hnsw_above, "load_average": os.getloadavg()[0], "search": search,
        "query_embedding": embedding})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
