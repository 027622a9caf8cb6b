"""Knowledge retrieval on StackFAQ: each user rephrasing must find its FAQ thread (125 threads).

    python bench/kb_stackfaq.py

Each thread becomes an article: its question is the title, its answers the
body. Dense, BM25 and fused rankings use the same index as the bot
(bot/knowledge). Writes bench/results/kb_stackfaq.json.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, write_result  # noqa: E402
from bench.kb_eval import evaluate, print_table  # noqa: E402
from bot.knowledge.articles import Article  # noqa: E402
from bot.knowledge.config import KnowledgeConfig  # noqa: E402
from bot.knowledge.encoder import get_encoder  # noqa: E402
from bot.knowledge.store import build_index  # noqa: E402
from bot.progress import StageProgress  # noqa: E402

DATA = SHARED_DATA / "stackfaq" / "stackExchange-FAQ.json"


def load_threads() -> tuple[list[Article], list[str], list[str]]:
    threads = json.loads(DATA.read_text())["root"]["qapair"]
    articles, queries, answers = [], [], []
    for number, thread in enumerate(threads):
        replies = thread["answer"] if isinstance(thread["answer"], list) else [thread["answer"]]
        article = Article(id=f"thread-{number}", title=thread["question"], questions=(), skill="general",
                          answer=" ".join(r for r in replies if r))
        articles.append(article)
        for rephrasing in thread["rephr"]:
            if rephrasing and rephrasing.strip() not in ("", "*"):
                queries.append(rephrasing)
                answers.append(article.id)
    return articles, queries, answers


def main() -> None:
    articles, queries, answers = load_threads()
    print(f"StackFAQ: {len(articles)} threads, {len(queries)} rephrasings", flush=True)
    progress = StageProgress()
    encoder = get_encoder()
    config = KnowledgeConfig()
    with tempfile.TemporaryDirectory() as tmp:
        index, _ = build_index(articles, Path(tmp), config, encoder, progress)
    vectors = encoder.encode(queries, lambda done, total: progress("embedding queries", done, total))
    metrics = evaluate(index, queries, answers, vectors, progress)
    progress.close()
    print_table("StackFAQ (rephrasing -> thread)", metrics)
    path = write_result("kb_stackfaq.json", {
        "command": "python bench/kb_stackfaq.py", "threads": len(articles), "queries": len(queries),
        "lexical_weight": config.lexical_weight, **metrics})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
