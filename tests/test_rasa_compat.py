"""Rasa bots load, validate, train and pass their own test stories, NLU included, without edits."""
import pytest

from bot.model_archive import load, train
from bot.testing.story_test import StoryTester, load_test_stories
from bot.training_data.project import load_project
from bot.validation import validate_project
from tests.needs import rasa_bot

pytestmark = pytest.mark.slow  # trains models or loads the speech models


@pytest.mark.parametrize("bot, target", [("moodbot-initial-project", 1.0), ("financial-demo", 0.9),
                                         ("helpdesk-assistant", 0.9)])
def test_rasa_bot_end_to_end(bot, target, tmp_path):
    project = load_project(rasa_bot(bot))
    report = validate_project(project)
    assert report.ok, [str(e) for e in report.errors]
    model = load(train(project, tmp_path))
    tester = StoryTester(model.domain, model.ensemble, model.interpreter, project.data.nlu.entity_names)
    result = tester.run(load_test_stories(project.test_story_files()))
    failures = [r.describe() for r in result.results if not r.passed]
    assert result.pass_rate >= target, failures
