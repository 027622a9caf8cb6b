"""The Rasa YAML loaders under hypothesis: whatever an editor saves, the only failure is a
TrainingDataError that names the file and the line, never a stack trace.

Three kinds of input: arbitrary text; YAML documents built from each file kind's own keywords with
values of every YAML type (so the loaders' checks, not just the YAML parser, are reached); and the
demo project's real files with lines dropped, doubled, swapped or cut. Loaders: training data
(nlu, stories, rules and responses in one file, as ``load_project`` reads it), the domain, and
config.yml.
"""
from __future__ import annotations

import copy
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from bot.config import load_config
from bot.training_data.domain_reader import load_domain
from bot.training_data.project import read_training_file
from bot.training_data.yaml_reader import TrainingDataError
from tests.conftest import ROOT

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TRAINING_KEYS = ["version", "nlu", "intent", "examples", "synonym", "regex", "lookup", "stories", "rules", "story",
                 "rule", "steps", "user", "entities", "entity", "value", "role", "group", "action", "slot_was_set",
                 "active_loop", "checkpoint", "or", "condition", "wait_for_user_input", "conversation_start",
                 "metadata", "responses", "text"]
DOMAIN_KEYS = ["version", "intents", "entities", "slots", "responses", "forms", "actions", "session_config", "type",
               "mappings", "values", "influence_conversation", "protected", "entity", "intent", "not_intent",
               "role", "group", "required_slots", "use_entities", "ignore_entities", "text", "buttons", "title",
               "payload", "session_expiration_time", "carry_over_slots_to_new_session", "initial_value",
               "min_value", "max_value", "conditions", "active_loop", "condition", "custom", "image", "channel"]
CONFIG_KEYS = ["language", "pipeline", "policies", "name", "helpline", "recipe", "assistant_id", "max_history",
               "epochs", "core_fallback_threshold", "data", "domain", "threshold"]
SCALAR_TEXT = st.sampled_from(["greet", "[x](y)", "[a]{\"entity\": 1}", "/greet{\"a\": 1}", "- ", "utter_greet",
                               "action_listen", "text", "bool", "categorical", "from_entity", "from_text", "en",
                               "de", "(unclosed", "*", "{", "- hi\n- there\n", "- [bad](\n"]) | st.text(max_size=15)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | SCALAR_TEXT


def documents(keys: list[str]):
    """YAML text of nested mappings and lists whose keys are the file kind's keywords."""
    key = st.sampled_from(keys) | st.text(max_size=8)
    tree = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(key, inner, max_size=4), max_leaves=25)
    return st.dictionaries(st.sampled_from(keys), tree, max_size=4).map(_dump)


def _dump(data) -> str:
    out = io.StringIO()
    YAML().dump(data, out)
    return out.getvalue()


def mutated(path: Path):
    """The real file with a few lines dropped, doubled, swapped or cut short."""
    lines = path.read_text().splitlines()[:200]

    @st.composite
    def build(draw):
        result = list(lines)
        for _ in range(draw(st.integers(1, 4))):
            index = draw(st.integers(0, len(result) - 1))
            how = draw(st.sampled_from(["drop", "double", "swap", "cut", "indent"]))
            if how == "drop":
                del result[index]
            elif how == "double":
                result.insert(index, result[index])
            elif how == "swap" and index + 1 < len(result):
                result[index], result[index + 1] = result[index + 1], result[index]
            elif how == "cut":
                result[index] = result[index][:draw(st.integers(0, max(len(result[index]) - 1, 0)))]
            else:
                result[index] = " " + result[index]
            if not result:
                break
        return "\n".join(result) + "\n"

    return build()


def load_or_clear_error(loader, text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "file.yml"
        file.write_text(text, encoding="utf-8")
        try:
            loader(file)
        except TrainingDataError as error:
            assert error.path == str(file), f"the error names {error.path!r}, not the file: {error}"
            lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1  # read as Python reads text
            assert error.line is not None and 1 <= error.line <= lines, f"no line (or a wrong one): {error}"
            assert str(error).startswith(f"{file}:{error.line}: ")


DEMO_DOMAIN = load_domain([ROOT / "nlu_data" / "domain.yml"])


def training_file(file: Path) -> None:
    read_training_file(file, copy.deepcopy(DEMO_DOMAIN))  # a responses section adds to the domain


@FUZZ
@given(st.text(max_size=200) | documents(TRAINING_KEYS) | mutated(ROOT / "nlu_data" / "stories.yml"))
@example("nlu:\n- intent: greet\n  examples: |\n    - [hi](greeting\n")
@example("responses: [a, b]\n")
@example("rules:\n- rule: r\n  steps:\n  - intent: greet\n  - action: utter_greet\n")
def test_training_data_loader(text):
    load_or_clear_error(training_file, text)


@FUZZ
@given(mutated(ROOT / "nlu_data" / "nlu.yml"))
def test_training_data_loader_on_mutated_nlu(text):
    load_or_clear_error(training_file, text)


@FUZZ
@given(st.text(max_size=200) | documents(DOMAIN_KEYS) | mutated(ROOT / "nlu_data" / "domain.yml"))
@example("slots:\n  s:\n    type: categorical\n")
@example("\r@")
@example("a: 1\u2028\x00")
@example("a:\x85 [")
@example("intents: {a: 1}\n")
def test_domain_loader(text):
    load_or_clear_error(lambda file: load_domain([file]), text)


@FUZZ
@given(st.text(max_size=200) | documents(CONFIG_KEYS))
@example("pipeline: [1]\n")
@example("language: 3\n")
def test_config_loader(text):
    load_or_clear_error(load_config, text)
