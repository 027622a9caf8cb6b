"""Model folders for tests: a trained archive installed as a version, and the demo project in a scratch folder."""
from __future__ import annotations

import shutil
from pathlib import Path

from bot.model_archive import read_manifest
from bot.model_registry import ModelRegistry
from tests.conftest import ROOT

PROJECT_PARTS = ("config.yml", "nlu_data", "knowledge", "tests/stories")


def install_archive(archive: Path, models_dir: Path) -> str:
    """Copy a trained archive into ``models_dir`` and record it there, as an operator's import would."""
    models_dir.mkdir(parents=True, exist_ok=True)
    copy = models_dir / archive.name
    shutil.copy(archive, copy)
    manifest = read_manifest(copy)
    return ModelRegistry(models_dir).add(copy, manifest["fingerprint"], manifest["trained_at"]).version


def demo_project(folder: Path) -> Path:
    """The demo's content (config, NLU data, knowledge, test stories) in ``folder``, which a test may edit."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_PARTS:
        source, target = ROOT / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return folder
