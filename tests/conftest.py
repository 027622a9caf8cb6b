"""Shared fixtures: the demo bot trained once per test session (a real model, real NLU).

Tests that train a model or load the speech models are marked ``slow``; ``-m "not slow"`` runs the
rest in a few minutes. A test is slow when it uses one of ``SLOW_FIXTURES`` or is marked itself.
"""
from pathlib import Path

import pytest

from bot.model_archive import train
from bot.training_data.project import load_project

ROOT = Path(__file__).resolve().parents[1]
# A trained demo bot, the voice server with its speech models, a trained classifier, the knowledge
# encoder, the Piper voice.
SLOW_FIXTURES = {"demo_archive", "voice_server", "classifier", "demo_knowledge", "tts", "two_versions", "trained_bot"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory) -> Path:
    return train(load_project(ROOT), tmp_path_factory.mktemp("models"))


# Call-record stores on real SQLite and real PostgreSQL, for every test that takes ``records``.
from tests.records_support import records, records_backend  # noqa: E402,F401
