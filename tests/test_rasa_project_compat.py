"""Rasa project semantics that need no trained model: action kinds, validation, config notes,
one validation rule for every command, PERSON names, and Rasa 2.x projects."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.core.actions.builtin import CustomAction, ResponseAction, RetrievalResponseAction
from bot.core.actions.registry import action_for_name
from bot.nlu.extractors.person_names import PersonNameExtractor
from bot.training_data.domain_reader import load_domain
from bot.training_data.project import load_project
from bot.training_data.rasa2 import Rasa2ProjectError
from bot.validation import validate_project
from tests.conftest import ROOT
from tests.needs import rasa_bot


def helpline(*args, env_extra=None):
    return subprocess.run([sys.executable, "-m", "helpline.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, **(env_extra or {})})


def write_project(root: Path, domain: str, data: dict[str, str], config: str = "language: en\n") -> Path:
    (root / "data").mkdir(parents=True)
    (root / "config.yml").write_text(config)
    (root / "domain.yml").write_text(domain)
    for name, text in data.items():
        (root / "data" / name).write_text(text)
    return root


def test_utter_names_under_actions_are_responses_and_retrieval_actions_are_known(tmp_path):
    (tmp_path / "domain.yml").write_text("""version: "3.1"
intents: [greet, faq]
actions: [utter_greet, action_lookup, action_restart]
responses:
  utter_greet:
  - text: hi
  utter_faq/hours:
  - text: nine to five
""")
    domain = load_domain([tmp_path / "domain.yml"])
    assert isinstance(action_for_name("utter_greet", domain), ResponseAction)
    assert isinstance(action_for_name("utter_faq", domain), RetrievalResponseAction)
    assert isinstance(action_for_name("action_lookup", domain), CustomAction)
    assert isinstance(action_for_name("action_restart", domain), CustomAction)  # the domain's own replaces the default
    assert "utter_faq" in domain.action_names and "utter_faq/hours" not in domain.action_names


RETRIEVAL_DOMAIN = """version: "3.1"
intents: [greet, faq]
responses:
  utter_greet:
  - text: hi
  utter_faq/hours:
  - text: nine to five
"""
RETRIEVAL_NLU = """nlu:
- intent: greet
  examples: |
    - hi
- intent: faq/hours
  examples: |
    - when are you open
- intent: faq/parking
  examples: |
    - where can I park
"""


def test_validation_knows_retrieval_intents_and_two_stage_fallback_loops(tmp_path):
    rules = """rules:
- rule: faq
  steps:
  - intent: faq
  - action: utter_faq
- rule: activate two stage fallback
  steps:
  - intent: nlu_fallback
  - action: action_two_stage_fallback
  - active_loop: action_two_stage_fallback
"""
    project = load_project(write_project(tmp_path, RETRIEVAL_DOMAIN, {"nlu.yml": RETRIEVAL_NLU, "rules.yml": rules}))
    report = validate_project(project)
    assert report.errors == [], str(report)
    [warning] = [str(w) for w in report.warnings]
    assert "nlu.yml:10" in warning and "'faq/parking'" in warning and "utter_faq/parking" in warning


def test_unused_rasa_options_are_noted_with_what_helpline_does_instead(tmp_path):
    config = """language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: DIETClassifier
    epochs: 100
  - name: FallbackClassifier
    threshold: 0.4
policies:
  - name: TEDPolicy
    max_history: 5
    epochs: 40
"""
    project = load_project(write_project(tmp_path, RETRIEVAL_DOMAIN, {"nlu.yml": RETRIEVAL_NLU}, config))
    notes = [str(n) for n in validate_project(project).notes]
    assert len(notes) == 2, notes
    assert notes[0].startswith(f"{tmp_path / 'config.yml'}:4: note: DIETClassifier epochs: 100 has no effect: ")
    assert "intent classifier" in notes[0]
    assert notes[1].startswith(f"{tmp_path / 'config.yml'}:9: note: TEDPolicy epochs: 40 has no effect: ")
    shown = helpline("--project", str(tmp_path), "validate")
    assert "DIETClassifier epochs: 100 has no effect" in shown.stdout


@pytest.mark.parametrize("command", [["train"], ["test"], ["run", "--port", "0"], ["shell"]])
def test_invalid_content_is_refused_the_same_way_by_every_command(command, tmp_path):
    stories = "stories:\n- story: s\n  steps:\n  - intent: greet\n  - action: utter_greet\n  - intent: goodbye\n"
    project = write_project(tmp_path / "bot", RETRIEVAL_DOMAIN, {"nlu.yml": RETRIEVAL_NLU, "stories.yml": stories})
    models = tmp_path / "models"
    result = helpline("--project", str(project), *command, env_extra={"HELPLINE_MODELS_DIR": str(models)})
    assert result.returncode == 1
    assert f"{project / 'data' / 'stories.yml'}:6: error: The intent 'goodbye'" in result.stderr
    assert "error: validation failed with 1 error(s)" in result.stderr
    assert not models.exists() or not list(models.iterdir())  # nothing was trained from it


@pytest.fixture
def financial_demo_examples():
    bot = rasa_bot("financial-demo")
    if not bot.exists():
        if os.environ.get("HELPLINE_REQUIRE_DATA") == "1":
            pytest.fail(f"{bot} is missing")
        pytest.skip(f"{bot} is missing (shared data not present)")
    return load_project(bot).data.nlu.examples


def test_bare_first_names_are_person_entities(financial_demo_examples):
    names = PersonNameExtractor()
    names.train(financial_demo_examples)

    def people(text):
        return [(e.value, e.start, e.end) for e in names.extract(text)]

    assert people("lisa") == [("lisa", 0, 4)]
    assert people("send $50 to Lisa Smith") == [("Lisa Smith", 12, 22)]
    assert people("transfer money to john please") == [("john", 18, 22)]
    # words this bot uses as words: stop words, and lower-case words of its own examples
    assert people("may I pay my bill") == [] and people("I want to pay chase") == []
    assert people("send lisa money") == [("lisa", 5, 9)]


RASA2_DOMAIN = """version: "2.0"
intents:
- greet
- faq:
    is_retrieval_intent: true
- inform
entities:
- city
slots:
  city:
    type: rasa.shared.core.slots.TextSlot
    auto_fill: true
  notes:
    type: unfeaturized
  confirmed:
    type: rasa.shared.core.slots.BooleanSlot
    influence_conversation: true
forms:
  address_form:
    required_slots:
      city:
      - type: from_entity
        entity: city
      - type: from_text
        intent: inform
responses:
  utter_greet:
  - text: hi
"""
RASA2_CONFIG = """language: en
pipeline:
  - name: ConveRTTokenizer
  - name: DIETClassifier
policies:
  - name: MappingPolicy
  - name: RulePolicy
"""


def test_a_rasa_2_project_is_named_as_such_with_every_2x_construct(tmp_path):
    project = write_project(tmp_path, RASA2_DOMAIN, {}, RASA2_CONFIG)
    with pytest.raises(Rasa2ProjectError) as raised:
        load_project(project)
    message = str(raised.value)
    assert "this is a Rasa 2.x project" in message
    for expected in [f"{project / 'domain.yml'}:10: slot 'city' has the Rasa 2 type 'rasa.shared.core.slots.TextSlot'",
                     f"{project / 'domain.yml'}:10: slot 'city' uses auto_fill",
                     f"{project / 'domain.yml'}:13: slot 'notes' has the Rasa 2 type 'unfeaturized'",
                     f"{project / 'domain.yml'}:19: form 'address_form' lists slot mappings under required_slots",
                     f"{project / 'config.yml'}:3: ConveRTTokenizer was removed in Rasa 3",
                     f"{project / 'config.yml'}:6: MappingPolicy was removed in Rasa 3",
                     "helpline --project", "data migrate"]:
        assert expected in message
    shown = helpline("--project", str(project), "validate")
    assert shown.returncode == 1 and "this is a Rasa 2.x project" in shown.stderr


def test_data_migrate_converts_a_2x_domain_to_3x_slot_mappings(tmp_path):
    project = write_project(tmp_path, RASA2_DOMAIN, {}, "language: en\n")
    result = helpline("--project", str(project), "data", "migrate")
    assert result.returncode == 0, result.stderr
    migrated = yaml.safe_load((project / "new_domain.yml").read_text())
    assert migrated["version"] == "3.1"
    assert migrated["slots"]["city"] == {"type": "text", "mappings": [
        {"type": "from_entity", "entity": "city"},
        {"type": "from_entity", "entity": "city",
         "conditions": [{"active_loop": "address_form", "requested_slot": "city"}]},
        {"type": "from_text", "intent": "inform",
         "conditions": [{"active_loop": "address_form", "requested_slot": "city"}]}]}
    assert migrated["slots"]["notes"] == {"type": "any", "influence_conversation": False,
                                          "mappings": [{"type": "custom"}]}
    assert migrated["slots"]["confirmed"]["type"] == "bool"
    assert migrated["forms"]["address_form"]["required_slots"] == ["city"]
    assert "faq" in migrated["intents"]
    (project / "domain.yml").write_text((project / "new_domain.yml").read_text())
    domain = load_project(project).domain
    assert domain.slots["city"].mappings[1].conditions == [{"active_loop": "address_form", "requested_slot": "city"}]
