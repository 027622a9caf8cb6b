"""Knowledge retrieval on the demo articles with queries that need the lexical side.

    python bench/kb_demo.py

Queries (bench/data/kb_demo_queries.yml) name product codes, model numbers and
rare names, or misspell them, as callers and ASR do. The index is the one the
demo bot serves from knowledge/. Writes bench/results/kb_demo.json.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, write_result  # noqa: E402
from bench.kb_eval import evaluate, print_table  # noqa: E402
from bot.knowledge.base import KnowledgeBase  # noqa: E402
from bot.progress import StageProgress  # noqa: E402
from bot.training_data.project import load_project  # noqa: E402
from bot.training_data.yaml_reader import read_yaml_file  # noqa: E402
from helpline.settings import load_settings  # noqa: E402

QUERIES = ROOT / "bench" / "data" / "kb_demo_queries.yml"


def main() -> None:
    queries = read_yaml_file(QUERIES)["queries"]
    progress = StageProgress()
    with tempfile.TemporaryDirectory() as tmp:
        knowledge = KnowledgeBase.for_project(ROOT, load_settings(ROOT, load_project(ROOT).config).config.knowledge,
                                              Path(tmp))
        result = knowledge.reload(progress)
        if not result.ok:
            sys.exit("\n".join(str(issue) for issue in result.errors))
    texts = [q["text"] for q in queries]
    vectors = knowledge.encoder.encode(texts)
    metrics = evaluate(knowledge.index, texts, [q["article"] for q in queries], vectors,
                       progress)
    progress.close()
    print_table(f"Demo articles, {len(texts)} lexical-heavy queries", metrics)
    path = write_result("kb_demo.json", {
        "command": "python bench/kb_demo.py", "articles": len(knowledge.index), "queries": len(texts),
        "lexical_weight": knowledge.config.lexical_weight, **metrics})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
