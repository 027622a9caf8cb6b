"""Rasa compatibility: the example bots load, validate, train and pass their own test stories.

    python bench/rasa_compat.py

Writes bench/results/rasa_compat.json. Test stories are evaluated like
`rasa test`: NLU parses each user text (intent and trained entities must
match), policies predict each action, gold events are applied after each step.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

from bench.common import SHARED_DATA, write_result  # noqa: E402
from bot.model_archive import load, train  # noqa: E402
from bot.testing.story_test import StoryTester, load_test_stories  # noqa: E402
from bot.training_data.project import load_project  # noqa: E402
from bot.validation import validate_project  # noqa: E402

BOTS = ["moodbot-initial-project", "financial-demo", "helpdesk-assistant"]


def run_bot(name: str, models: Path) -> dict:
    project = load_project(SHARED_DATA / "rasa_bots" / name)
    report = validate_project(project)
    started = time.time()
    model = load(train(project, models / name))
    train_seconds = time.time() - started
    stories = load_test_stories(project.test_story_files())
    tester = StoryTester(model.domain, model.ensemble, model.interpreter, project.data.nlu.entity_names)
    bar = tqdm(total=len(stories), desc=name, leave=False)
    result = tester.run(stories, lambda *_: bar.update(1))
    bar.close()
    failures = [r.describe() for r in result.results if not r.passed]
    return {"validation_errors": len(report.errors), "validation_warnings": len(report.warnings),
            "train_seconds": round(train_seconds, 1), "stories": len(result.results), "passed": result.passed,
            "pass_rate": round(result.pass_rate, 4), "failures": failures}


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in BOTS:
            results[name] = run_bot(name, Path(tmp))
            r = results[name]
            print(f"| {name} | {r['passed']}/{r['stories']} | {r['pass_rate']:.1%} | {r['train_seconds']} s | "
                  f"{r['validation_errors']} errors, {r['validation_warnings']} warnings |", flush=True)
            for failure in r["failures"]:
                print(f"    {failure}")
    path = write_result("rasa_compat.json", {"command": "python bench/rasa_compat.py", "bots": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
