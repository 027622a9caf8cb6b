"""Rasa compatibility: Rasa bots load, validate, train and pass their own test stories, unchanged.

    python bench/rasa_compat.py                          # the three bots in ../shared/data/rasa_bots
    python bench/rasa_compat.py /tmp/rasa-bots/*/        # those plus any other Rasa bot folders

Writes bench/results/rasa_compat.json with, per bot: whether it loads, validates
and trains, its test-story pass rate and the cause of every failure. Test
stories run like `rasa test` (NLU parses each user text, policies predict each
action, the gold step is applied after each one), and stricter in one way:
every expected response (`utter_...`) is also run through the bot's action
registry and must say something, so a bot that would be silent fails. Custom
actions are predicted, not run (their action servers are not started here).

A Rasa 2.x project is reported as such (with the 2.x constructs found); its
domain is then migrated in a temporary copy with `helpline data migrate`'s code
and the copy is loaded and validated (and, with --train-migrated, trained and tested).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

from bench.common import SHARED_DATA, write_result  # noqa: E402
from bot.core.actions.custom import ChainedActionRunner  # noqa: E402
from bot.model_archive import load, train  # noqa: E402
from bot.testing.action_check import ActionChecker  # noqa: E402
from bot.testing.story_test import StoryTester, load_test_stories  # noqa: E402
from bot.training_data.project import load_project  # noqa: E402
from bot.training_data.rasa2 import Rasa2ProjectError, migrate_domain  # noqa: E402
from bot.training_data.yaml_reader import TrainingDataError  # noqa: E402
from bot.validation import validate_project  # noqa: E402

SHARED_BOTS = ["moodbot-initial-project", "financial-demo", "helpdesk-assistant"]


class ResponsesSpoken(ActionChecker):
    """Runs the expected responses for real (custom actions stay predicted only)."""

    def check(self, name, tracker):
        return super().check(name, tracker) if name.startswith("utter_") else None


def test_bot(root: Path, models: Path) -> dict:
    """Validate, train and run the test stories of a loadable 3.x project."""
    project = load_project(root)
    report = validate_project(project)
    result: dict = {"loads": True, "validation_errors": [str(e) for e in report.errors],
                    "validation_warnings": len(report.warnings), "notes": len(report.notes)}
    if report.errors:
        return {**result, "trains": False, "cause": "validation errors (Helpline trains only valid content)"}
    started = time.time()
    try:
        model = load(train(project, models / root.name))
    except Exception as error:  # a benchmark reports every failure instead of stopping
        return {**result, "trains": False, "cause": f"training failed: {type(error).__name__}: {error}"}
    result.update(trains=True, train_seconds=round(time.time() - started, 1))
    stories = load_test_stories(project.test_story_files())
    checker = ResponsesSpoken(model.domain, ChainedActionRunner([]))
    tester = StoryTester(model.domain, model.ensemble, model.interpreter, project.data.nlu.entity_names, checker)
    bar = tqdm(total=len(stories), desc=root.name, leave=False)
    tested = tester.run(stories, lambda *_: bar.update(1))
    bar.close()
    checker.close()
    return {**result, "stories": len(tested.results), "passed": tested.passed,
            "pass_rate": round(tested.pass_rate, 4),
            "failures": [r.describe() for r in tested.results if not r.passed]}


def run_bot(root: Path, models: Path, train_migrated: bool) -> dict:
    try:
        return {"rasa": "3.x", **test_bot(root, models)}
    except Rasa2ProjectError as error:
        result = {"rasa": "2.x", "loads": False, "trains": False,
                  "cause": f"Rasa 2.x project ({len(error.findings)} 2.x constructs)",
                  "rasa2_constructs": [str(f) for f in error.findings]}
        return {**result, "after_migrate": _migrated(root, models, train_migrated)}
    except TrainingDataError as error:
        return {"rasa": "3.x", "loads": False, "trains": False, "cause": str(error)}


def _migrated(root: Path, models: Path, train_migrated: bool) -> dict:
    """The 2.x project with its domain migrated (in a temporary copy): what is left to do by hand."""
    with tempfile.TemporaryDirectory(prefix="migrated-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git", "models", "*.tar.gz", "*.db"))
        domain = next(p for p in (copy / "domain.yml", copy / "domain") if p.exists())
        migrate_domain(domain, domain)
        try:
            if train_migrated:
                return test_bot(copy, models)
            report = validate_project(load_project(copy))
            return {"loads": True, "validation_errors": [str(e) for e in report.errors]}
        except TrainingDataError as error:
            return {"loads": False, "cause": str(error).replace(str(copy), str(root))}


def _row(name: str, r: dict) -> str:
    if r.get("stories"):
        tested = f"{r['passed']}/{r['stories']} ({r['pass_rate']:.1%})"
    else:
        tested = r.get("cause", "-")
    return (f"| {name} | {r['rasa']} | {'yes' if r['loads'] else 'no'} | {'yes' if r['trains'] else 'no'} | "
            f"{tested} | {r.get('train_seconds', '-')} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bots", nargs="*", type=Path, help="more Rasa bot folders (beyond the shared three)")
    parser.add_argument("--train-migrated", action="store_true", help="also train and test migrated 2.x bots")
    args = parser.parse_args()
    bots = [SHARED_DATA / "rasa_bots" / name for name in SHARED_BOTS] + [p.resolve() for p in args.bots]
    results = {}
    print("| bot | Rasa | loads | trains | test stories passed | train s |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for root in bots:
            name = root.name
            results[name] = {"path": str(root), **run_bot(root, Path(tmp), args.train_migrated)}
            print(_row(name, results[name]), flush=True)
            for failure in results[name].get("failures", []):
                print("    " + failure.replace("\n", "\n    "))
    command = "python bench/rasa_compat.py " + " ".join(str(p) for p in args.bots)
    path = write_result("rasa_compat.json", {"command": command.strip(), "bots": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
