"""The validator: quiet on known-good bots, precise (file and line) on each kind of mistake."""
import textwrap
from pathlib import Path

import pytest

from bot.validation import ERROR, WARNING, Issue, validate_directory
from tests.needs import rasa_bot


BASE_FILES = {
    "config.yml": """
        language: en
        """,
    "domain.yml": """
        version: "3.1"
        intents:
          - greet
          - goodbye
          - inform
        entities:
          - city
        slots:
          city:
            type: text
            mappings:
              - type: from_entity
                entity: city
        forms:
          weather_form:
            required_slots:
              - city
        responses:
          utter_greet:
            - text: Hello!
          utter_goodbye:
            - text: Bye!
          utter_ask_city:
            - text: Which city?
          utter_weather:
            - text: The weather in {city} is fine.
        actions:
          - action_check_weather
        """,
    "data/nlu.yml": """
        nlu:
        - intent: greet
          examples: |
            - hello
            - hi
        - intent: goodbye
          examples: |
            - bye
        - intent: inform
          examples: |
            - in [Paris](city)
        """,
    "data/stories.yml": """
        stories:
        - story: weather
          steps:
          - intent: greet
          - action: utter_greet
          - intent: inform
            entities:
            - city: Paris
          - action: weather_form
          - active_loop: weather_form
          - active_loop: null
          - action: utter_weather
        """,
    "data/rules.yml": """
        rules:
        - rule: say goodbye
          steps:
          - intent: goodbye
          - action: utter_goodbye
        """,
}


def write_project(root: Path, edit: tuple[str, str, str] | None = None) -> Path:
    """Write the base project; ``edit`` = (file, old text, new text) breaks one thing in it."""
    for name, text in BASE_FILES.items():
        text = textwrap.dedent(text).lstrip()
        if edit and edit[0] == name:
            assert edit[1] in text, f"test bug: {edit[1]!r} not in {name}"
            text = text.replace(edit[1], edit[2], 1)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def line_of(path: Path, marker: str) -> int:
    """1-based line where ``marker`` (possibly several lines) starts."""
    text = path.read_text()
    assert marker in text, f"test bug: {marker!r} not in {path}"
    return text[:text.index(marker)].count("\n") + 1


@pytest.mark.parametrize("bot", ["moodbot-initial-project", "financial-demo", "helpdesk-assistant"])
def test_known_good_rasa_bots_have_no_errors(bot):
    report = validate_directory(rasa_bot(bot))
    assert report.errors == [], "\n".join(map(str, report.errors))
    assert report.ok


def test_base_project_is_clean(tmp_path):
    report = validate_directory(write_project(tmp_path))
    assert (report.errors, report.warnings) == ([], [])


BROKEN = {
    "story intent not in domain": (
        ("data/stories.yml", "- intent: greet", "- intent: greeet"),
        ERROR, "intent 'greeet' is used in story 'weather'", "intent: greeet"),
    "domain intent without examples": (
        ("domain.yml", "  - inform\n", "  - inform\n  - order_pizza\n"),
        WARNING, "'order_pizza' is listed in the domain file, but is not found in the NLU", "- order_pizza"),
    "examples for an intent not in domain": (
        ("data/nlu.yml", "- intent: goodbye", "- intent: weather\n  examples: |\n    - is it sunny\n- intent: goodbye"),
        WARNING, "labeled with intent 'weather'. This intent is not listed in your domain", "- is it sunny"),
    "unknown action": (
        ("data/rules.yml", "action: utter_goodbye", "action: action_say_bye"),
        ERROR, "'action_say_bye' is used in rule 'say goodbye', but it is not listed", "action: action_say_bye"),
    "response action without response": (
        ("data/stories.yml", "action: utter_greet", "action: utter_hello"),
        ERROR, "'utter_hello' is used in story 'weather', but there is no response", "action: utter_hello"),
    "response variable without slot": (
        ("domain.yml", "in {city}", "in {town}"),
        ERROR, "'utter_weather' uses '{town}', but there is no slot 'town'", "utter_weather:"),
    "NLU entity not in domain": (
        ("data/nlu.yml", "(city)", "(town)"),
        WARNING, "entity 'town' is annotated in an NLU example", "- in [Paris](town)"),
    "story entity not in domain": (
        ("data/stories.yml", "- city: Paris", "- town: Paris"),
        WARNING, "entity 'town' is used in story 'weather'", "intent: inform"),
    "slot_was_set with unknown slot": (
        ("data/stories.yml", "  - active_loop: null\n", "  - slot_was_set:\n    - town: Paris\n  - active_loop: null\n"),
        ERROR, "slot 'town' is set in story 'weather'", "slot_was_set:"),
    "form requires unknown slot": (
        ("domain.yml", "      - city\n", "      - city\n      - date\n"),
        ERROR, "form 'weather_form' requires the slot 'date'", "weather_form:"),
    "slot mapping from unknown entity": (
        ("domain.yml", "entity: city", "entity: town"),
        WARNING, "slot 'city' is mapped from the entity 'town'", "city:\n    type: text"),
    "slot mapping with unknown intent": (
        ("domain.yml", "entity: city\n", "entity: city\n        intent: ask_weather\n"),
        WARNING, "slot 'city' names the intent 'ask_weather'", "city:\n    type: text"),
    "slot mapping conditioned on unknown form": (
        ("domain.yml", "entity: city\n", "entity: city\n        conditions:\n          - active_loop: city_form\n"),
        ERROR, "conditioned on the form 'city_form'", "city:\n    type: text"),
    "active_loop of unknown form": (
        ("data/stories.yml", "- active_loop: weather_form", "- active_loop: wether_form"),
        ERROR, "activates the loop 'wether_form'", "active_loop: wether_form"),
    "contradicting rules": (
        ("data/rules.yml", "- rule: say goodbye",
         "- rule: greet back\n  steps:\n  - intent: goodbye\n  - action: utter_greet\n- rule: say goodbye"),
        ERROR, "predicts 'utter_goodbye', but the rule 'greet back'", "rule: say goodbye"),
    "story disagreeing with a rule": (
        ("data/stories.yml", "- story: weather",
         "- story: rude goodbye\n  steps:\n  - intent: goodbye\n  - action: utter_greet\n- story: weather"),
        ERROR, "story 'rude goodbye' runs 'utter_greet', but the rule 'say goodbye'", "story: rude goodbye"),
}


@pytest.mark.parametrize("edit, severity, message, marker", BROKEN.values(), ids=BROKEN.keys())
def test_each_mistake_is_reported_at_its_definition(tmp_path, edit, severity, message, marker):
    report = validate_directory(write_project(tmp_path, edit))
    path = tmp_path / edit[0]
    found = [i for i in report.errors + report.warnings if message in i.message]
    assert found, f"no issue containing {message!r} in:\n{report}"
    assert (found[0].severity, found[0].path, found[0].line) == (severity, str(path), line_of(path, marker))
    assert report.ok == (severity == WARNING)


def test_story_returning_to_its_form_after_a_rule_agrees_with_the_rule(tmp_path):
    """The rule says listen after its response, but with a form active the form takes over."""
    interruption = "  - active_loop: weather_form\n  - intent: goodbye\n  - action: utter_goodbye\n  - action: weather_form\n"
    root = write_project(tmp_path, ("data/stories.yml", "  - active_loop: weather_form\n", interruption))
    assert validate_directory(root).errors == []


def test_response_written_in_a_data_file_is_checked_too(tmp_path):
    root = write_project(tmp_path, ("data/rules.yml", "  - action: utter_goodbye\n",
                                    "  - action: utter_bye_name\nresponses:\n  utter_bye_name:\n  - text: Bye {name}\n"))
    [issue] = validate_directory(root).errors
    assert "'utter_bye_name' uses '{name}'" in issue.message and issue.path == str(root)


def test_duplicate_example_names_both_intents_and_lines(tmp_path):
    root = write_project(tmp_path, ("data/nlu.yml", "    - bye\n", "    - bye\n    - Hello\n"))
    nlu = root / "data/nlu.yml"
    [issue] = [i for i in validate_directory(root).warnings if "Hello" in i.message]
    assert (issue.path, issue.line) == (str(nlu), line_of(nlu, "- Hello"))
    assert "'goodbye'" in issue.message and "'greet'" in issue.message
    assert f"{nlu}:{line_of(nlu, '- hello')}" in issue.message


def test_malformed_yaml_is_reported_with_file_and_line(tmp_path):
    root = write_project(tmp_path, ("data/nlu.yml", "    - bye\n", "    - bye\n  - broken: [unclosed\n"))
    report = validate_directory(root)
    [issue] = report.errors
    assert str(issue).startswith(f"{root / 'data/nlu.yml'}:{line_of(root / 'data/nlu.yml', '- broken')}: error: ")
    assert not report.ok


def test_issue_prints_like_a_compiler_message():
    assert str(Issue(ERROR, "boom", "domain.yml", 7)) == "domain.yml:7: error: boom"
    assert str(Issue(WARNING, "hm", "domain.yml")) == "domain.yml: warning: hm"
