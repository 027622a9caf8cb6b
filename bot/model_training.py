"""Train a model version and record how it does: validation, training and the project's test stories.

Every path that trains (``helpline train``, ``helpline run`` when the content changed, reloads and
the editor page) goes through here, so each version in the registry carries the same results and
editors can compare them before they roll back.
"""
from __future__ import annotations

import time
from pathlib import Path

from bot.core.processor import BotModel
from bot.model_archive import Progress, load, train
from bot.model_registry import ARCHIVE_SUFFIX, ModelRegistry, ModelVersion
from bot.testing.story_test import run_project_stories
from bot.training_data.project import BotProject
from bot.validation import ValidationReport, validate_project

MAX_PROBLEMS = 20


def validation_summary(report: ValidationReport) -> dict:
    return {"errors": len(report.errors), "warnings": len(report.warnings),
            "problems": [str(issue) for issue in [*report.errors, *report.warnings]][:MAX_PROBLEMS]}


def story_results(project: BotProject, model: BotModel, progress: Progress = lambda *_: None) -> dict:
    """Run the project's test stories against ``model``: the summary the registry keeps."""
    started = time.time()
    report = run_project_stories(project, model, lambda done, total: progress("test stories", done, total))
    return report.summary(time.time() - started)


def train_version(project: BotProject, models_dir: Path, progress: Progress = lambda *_: None,
                  source: str = "train", report: ValidationReport | None = None,
                  change: dict | None = None) -> tuple[ModelVersion, BotModel]:
    """Train, load the archive back (as a server would), run the test stories, record everything."""
    report = report if report is not None else validate_project(project)
    archive = train(project, models_dir, progress, source)
    model = load(archive)
    results = {"validation": validation_summary(report), "tests": story_results(project, model, progress)}
    if change:
        results["change"] = change
    entry = ModelRegistry(models_dir).update(archive.name.removesuffix(ARCHIVE_SUFFIX), **results)
    return entry, model
