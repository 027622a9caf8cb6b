"""Shared fixtures: the demo bot trained once per test session (a real model, real NLU)."""
from pathlib import Path

import pytest

from bot.model_archive import train
from bot.training_data.project import load_project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory) -> Path:
    return train(load_project(ROOT), tmp_path_factory.mktemp("models"))
