"""Rasa 3.x YAML readers: structure, entity annotations, and errors that name file and line."""
from pathlib import Path

import pytest

from bot.config import load_config
from bot.training_data.domain_reader import load_domain
from bot.training_data.nlu_data import parse_annotated_text
from bot.training_data.project import load_project, read_training_file
from bot.training_data.stories import OrStep, SlotStep, UserStep, parse_intent_trigger
from bot.training_data.yaml_reader import TrainingDataError
from tests.needs import rasa_bot



def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_annotations_in_all_rasa_forms():
    text, entities = parse_annotated_text(
        'fly from [Berlin]{"entity": "city", "role": "departure"} to [NYC](city:New York) on [monday](day)')
    assert text == "fly from Berlin to NYC on monday"
    assert entities[0] == {"start": 9, "end": 15, "value": "Berlin", "entity": "city", "role": "departure"}
    assert entities[1]["value"] == "New York" and text[entities[1]["start"]:entities[1]["end"]] == "NYC"
    assert entities[2]["entity"] == "day"


def test_nlu_file_with_synonyms_regex_lookup(tmp_path):
    path = write(tmp_path / "nlu.yml", """version: "3.1"
nlu:
- intent: inform
  examples: |
    - my number is [12345](order_number)
    - it's [four five six](order_number)
- synonym: credit
  examples: |
    - credit card
- regex: order_number
  examples: |
    - \\d{6}
- lookup: city
  examples: |
    - Paris
""")
    data = read_training_file(path).nlu
    assert [e.text for e in data.examples] == ["my number is 12345", "it's four five six"]
    assert data.examples[0].line == 5
    assert data.synonyms["credit card"] == "credit"
    assert data.regexes == [("order_number", r"\d{6}")]
    assert data.lookups == [("city", ["Paris"])]


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path / "nlu.yml", 'nlu:\n- intent: greet\n  examples: |\n    - hi\n  - wrong\n')
    with pytest.raises(TrainingDataError) as error:
        read_training_file(path)
    assert str(error.value).startswith(f"{path}:5: invalid YAML")


def test_example_line_without_dash_is_reported_with_its_line(tmp_path):
    path = write(tmp_path / "nlu.yml", "nlu:\n- intent: greet\n  examples: |\n    - hi\n    hello\n")
    with pytest.raises(TrainingDataError, match=r"nlu.yml:5: example line must start"):
        read_training_file(path)


def test_invalid_regex_is_reported(tmp_path):
    path = write(tmp_path / "nlu.yml", "nlu:\n- regex: zip\n  examples: |\n    - ([0-9\n")
    with pytest.raises(TrainingDataError, match=r"nlu.yml:4: regex 'zip' has an invalid pattern"):
        read_training_file(path)


def test_stories_rules_or_checkpoints_and_conditions(tmp_path):
    path = write(tmp_path / "stories.yml", """version: "3.1"
stories:
- story: a
  steps:
  - intent: greet
  - or:
    - intent: affirm
    - slot_was_set:
      - confirmed: true
  - action: utter_ok
  - checkpoint: next
rules:
- rule: r
  condition:
  - active_loop: form
  steps:
  - intent: help
    entities:
    - product: phone
  - action: utter_help
  wait_for_user_input: false
""")
    data = read_training_file(path)
    story, rule = data.stories[0], data.rules[0]
    assert isinstance(story.steps[1], OrStep) and isinstance(story.steps[1].alternatives[1], SlotStep)
    assert story.line == 3
    assert rule.conditions[0].name == "form" and not rule.wait_for_user_input
    user = rule.steps[0]
    assert isinstance(user, UserStep) and user.entities == [{"entity": "product", "value": "phone"}]


def test_unknown_step_is_an_error_with_line(tmp_path):
    path = write(tmp_path / "stories.yml", "stories:\n- story: s\n  steps:\n  - intnet: greet\n")
    with pytest.raises(TrainingDataError, match=r"stories.yml:4: unknown step"):
        read_training_file(path)


def test_domain_slots_mappings_forms_and_responses(tmp_path):
    path = write(tmp_path / "domain.yml", """version: "3.1"
intents:
- greet
- inform:
    use_entities: [order_number]
entities:
- city:
    roles: [from, to]
slots:
  order_number:
    type: text
    mappings:
    - type: from_entity
      entity: order_number
      conditions:
      - active_loop: order_form
        requested_slot: order_number
  tier:
    type: categorical
    values: [gold, silver]
    mappings:
    - type: custom
responses:
  utter_ask_order_number:
  - text: "What is your order number?"
forms:
  order_form:
    required_slots: [order_number]
actions:
- action_check
session_config:
  session_expiration_time: 5
""")
    domain = load_domain([path])
    assert domain.intents["inform"].use_entities == ["order_number"]
    assert domain.entities["city"].roles == ["from", "to"]
    mapping = domain.slots["order_number"].mappings[0]
    assert mapping.conditions == [{"active_loop": "order_form", "requested_slot": "order_number"}]
    assert domain.slots["tier"].feature("silver") == (0.0, 1.0, 0.0)
    assert domain.forms["order_form"].required_slots == ["order_number"]
    assert "requested_slot" in domain.slots and "nlu_fallback" in domain.intents
    assert domain.session_config.session_expiration_time == 5
    assert domain.is_known_action("order_form") and domain.is_known_action("action_check")


@pytest.mark.parametrize("snippet, message", [
    ("slots:\n  s:\n    type: txt\n", r"domain.yml:2: slot 's' has unknown type 'txt'"),
    ("slots:\n  s:\n    type: any\n    influence_conversation: true\n", r"domain.yml:2: slot 's' of type 'any'"),
    ("slots:\n  s:\n    type: text\n    mappings:\n    - type: from_magic\n", r"domain.yml:5: .*unknown mapping"),
    ("responses:\n  utter_x: hello\n", r"domain.yml:2: response 'utter_x' needs a list"),
    ("intent:\n- greet\n", r"domain.yml:1: unknown domain section 'intent'"),
    ("slots:\n  n:\n    type: float\n    min_value: lots\n", r"domain.yml:2: slot 'n': 'min_value' must be a number"),
    ("forms:\n  f:\n  - order_number\n", r"domain.yml:2: form 'f' must map to its properties"),
    ("session_config:\n  session_expiration_time: soon\n",
     r"domain.yml:2: 'session_expiration_time' must be a number, not 'soon'"),
])
def test_domain_errors_name_file_and_line(tmp_path, snippet, message):
    path = write(tmp_path / "domain.yml", snippet)
    with pytest.raises(TrainingDataError, match=message):
        load_domain([path])


def test_unknown_pipeline_component_is_named(tmp_path):
    path = write(tmp_path / "config.yml", "language: en\npipeline:\n- name: WhitespaceTokenizer\n- name: DIETClasifier\n")
    with pytest.raises(TrainingDataError, match=r"config.yml:4: unknown component 'DIETClasifier'"):
        load_config(path)


def test_unknown_policy_is_named(tmp_path):
    path = write(tmp_path / "config.yml", "policies:\n- name: RulePolicy\n- name: FancyPolicy\n")
    with pytest.raises(TrainingDataError, match=r"unknown policy 'FancyPolicy'"):
        load_config(path)


def test_intent_trigger_messages():
    assert parse_intent_trigger('/inform{"digits": "4729"}') == ("inform", {"digits": "4729"})
    assert parse_intent_trigger("/talk_to_agent") == ("talk_to_agent", {})
    assert parse_intent_trigger("where is my order") is None
    assert parse_intent_trigger('/inform{"digits": ') is None


@pytest.mark.parametrize("bot", ["moodbot-initial-project", "financial-demo", "helpdesk-assistant"])
def test_rasa_example_bots_load_unchanged(bot):
    project = load_project(rasa_bot(bot))
    assert project.data.nlu.examples and project.data.stories and project.data.rules
    assert project.test_story_files()


def test_yaml_1_2_keeps_yes_and_no_as_intent_names(tmp_path):
    """Rasa reads YAML 1.2: ``yes``/``no``/``on``/``off`` are strings, not booleans (YAML 1.1)."""
    domain = load_domain([write(tmp_path / "domain.yml", 'version: "3.1"\nintents:\n  - yes\n  - no\n  - off\n'
                                "responses:\n  utter_ok:\n  - text: ok\n")])
    assert {"yes", "no", "off"} <= set(domain.intents)
    nlu = read_training_file(write(tmp_path / "nlu.yml", "nlu:\n- intent: yes\n  examples: |\n    - sure\n"
                                   "- intent: on\n  examples: |\n    - go ahead\n")).nlu
    assert [(e.intent, e.line) for e in nlu.examples] == [("yes", 4), ("on", 7)]


def test_duplicate_keys_are_errors_with_both_lines(tmp_path):
    path = write(tmp_path / "domain.yml", 'version: "3.1"\nintents: [greet]\nintents: [bye]\n')
    with pytest.raises(TrainingDataError) as error:
        load_domain([path])
    assert str(error.value) == f"{path}:3: duplicate key 'intents' (first on line 2)"
