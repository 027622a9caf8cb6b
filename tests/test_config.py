"""config.yml's ``helpline:`` section: one typed schema; every mistake named with file, line and key path."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from bot.config import load_config
from bot.config_model import ConfigError
from bot.training_data.yaml_reader import plain, read_yaml_file
from handoff.model import QueueStrategy
from handoff.strategies import STRATEGIES
from helpline.config_schema import HelplineConfig, json_schema, load_helpline_config
from tests.conftest import ROOT
from voice_gateway.config import VoiceConfig, load_voice_config

DEMO_CONFIG = (ROOT / "config.yml").read_text()


def demo_config_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The demo's config.yml with each ``(old, new)`` text replaced once."""
    text = DEMO_CONFIG
    for old, new in edits:
        assert old in text, f"test bug: {old!r} not in config.yml"
        text = text.replace(old, new, 1)
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def line_of(path: Path, marker: str) -> int:
    text = path.read_text()
    return text[:text.index(marker)].count("\n") + 1


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_helpline_config(load_config(path))
    return str(error.value).splitlines()


def test_demo_config_validates_into_typed_sections():
    config = load_helpline_config(load_config(ROOT / "config.yml"))
    assert config.voice.end_of_turn_secs == 0.5 and config.voice.asr.engine == "whisper"
    assert config.handoff.max_no_answer == 3 and [q.name for q in config.handoff.queues] == ["orders", "billing",
                                                                                            "general"]
    assert config.escalation.low_confidence.times == 3 and config.knowledge.answer_threshold == 0.5


def test_misspelled_keys_are_errors_with_line_and_did_you_mean(tmp_path):
    path = demo_config_with(tmp_path, ("    end_of_turn_secs: 0.5", "    end_of_turn_sec: 2\n    vad_treshold: 0.9"),
                            ("max_no_answer: 3", "max_no_answr: 3"))
    assert problems(path) == [
        f"{path}:{line_of(path, 'max_no_answr')}: helpline.handoff.max_no_answr: unknown setting; "
        "did you mean 'max_no_answer'?",
        f"{path}:{line_of(path, 'end_of_turn_sec:')}: helpline.voice.end_of_turn_sec: unknown setting; "
        "did you mean 'end_of_turn_secs'?",
        f"{path}:{line_of(path, 'vad_treshold')}: helpline.voice.vad_treshold: unknown setting; "
        "did you mean 'vad_threshold'?",
    ]


def test_wrong_types_and_ranges_name_the_key_and_the_value(tmp_path):
    path = demo_config_with(tmp_path, ("end_of_turn_secs: 0.5", "end_of_turn_secs: fast"),
                            ("port: 5005", "port: 70000"),
                            ("answer_threshold: 0.5", "answer_threshold: 1.5"),
                            ("strategy: round-robin", "strategy: random"))
    found = problems(path)
    assert found[0] == (f"{path}:{line_of(path, 'port: 70000')}: helpline.server.port: "
                        "Input should be less than or equal to 65535 (got 70000)")
    assert found[1] == (f"{path}:{line_of(path, 'answer_threshold')}: helpline.knowledge.answer_threshold: "
                        "Input should be less than or equal to 1 (got 1.5)")
    assert found[2].startswith(f"{path}:{line_of(path, 'strategy: random')}: helpline.handoff.queues[1].strategy: "
                               "Input should be 'longest-idle-agent'")
    assert found[3] == (f"{path}:{line_of(path, 'end_of_turn_secs: fast')}: helpline.voice.end_of_turn_secs: "
                        "Input should be a valid number, unable to parse string as a number (got 'fast')")


def test_settings_of_another_asr_engine_are_errors(tmp_path):
    path = demo_config_with(tmp_path, ("engine: whisper ", "engine: moonshine "))
    assert problems(path) == [f"{path}:{line_of(path, '    asr:')}: helpline.voice.asr: threads, window_s: not a "
                              "setting of the moonshine engine (it takes model_dir, partial_interval_s)"]


def test_a_secret_in_a_wrong_value_is_not_echoed(tmp_path):
    path = demo_config_with(tmp_path, ("tracker_store: sqlite ", "tracker_store: mysql://app:hunter2@db/x "))
    [problem] = problems(path)
    assert "helpline.tracker_store: use memory, sqlite" in problem and "hunter2" not in problem


def test_voice_defaults_live_in_the_schema_only(tmp_path):
    """An empty ``voice:`` section runs with the model's defaults, and the runtime config is that model."""
    config = load_voice_config(VoiceConfig.model_validate({}), tmp_path)
    for name, field in VoiceConfig.model_fields.items():
        if name != "recording":
            assert getattr(config, name) == (field.default if field.default_factory is None
                                             else field.default_factory())
    assert config.recording_dir is None and config.no_input_policy().timeout_secs == 7.0
    enabled = load_voice_config(VoiceConfig.model_validate({"recording": {"enabled": True, "dir": "rec"}}), tmp_path)
    assert enabled.recording_dir == tmp_path / "rec"


def test_helpline_section_absent_or_not_a_mapping(tmp_path):
    (tmp_path / "config.yml").write_text("language: en\n")
    assert load_helpline_config(load_config(tmp_path / "config.yml")).voice is None  # an NLU-only bot
    (tmp_path / "config.yml").write_text("language: en\nhelpline: [voice]\n")
    assert problems(tmp_path / "config.yml") == [
        f"{tmp_path / 'config.yml'}:2: helpline: Input should be a valid dictionary or instance of HelplineConfig"]


def test_config_check_command_lists_every_problem(tmp_path):
    demo_config_with(tmp_path, ("max_no_answer: 3", "max_no_answr: 3"),
                     ("end_of_turn_secs: 0.5", "end_of_turn_secs: -1"))
    result = subprocess.run([sys.executable, "-m", "helpline.cli", "--project", str(tmp_path), "config", "check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "helpline.handoff.max_no_answr: unknown setting; did you mean 'max_no_answer'?" in result.stdout
    assert "helpline.voice.end_of_turn_secs: Input should be greater than 0 (got -1)" in result.stdout
    assert "2 error(s)" in result.stderr and "Traceback" not in result.stderr
    ok = subprocess.run([sys.executable, "-m", "helpline.cli", "config", "check"], cwd=ROOT, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.strip() == "config.yml: ok"


def test_validate_reports_config_errors_with_the_training_data(tmp_path):
    demo_config_with(tmp_path, ("max_no_answer: 3", "max_no_answr: 3"), ("domain: nlu_data/domain.yml",
                                                                         f"domain: {ROOT / 'nlu_data' / 'domain.yml'}"),
                     ("data: [nlu_data]", f"data: [{ROOT / 'nlu_data'}]"))
    result = subprocess.run([sys.executable, "-m", "helpline.cli", "--project", str(tmp_path), "validate"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    path = tmp_path / "config.yml"
    assert f"{path}:{line_of(path, 'max_no_answr')}: error: helpline.handoff.max_no_answr: unknown setting" \
        in result.stdout


def test_committed_json_schema_is_current_and_checks_config_yml():
    committed = (ROOT / "docs" / "config.schema.json").read_text()
    assert committed == json_schema(), "regenerate: helpline config schema > docs/config.schema.json"
    schema = json.loads(committed)
    demo = plain(read_yaml_file(ROOT / "config.yml"))
    jsonschema.validate(demo, schema)
    demo["helpline"]["voice"]["vad_treshold"] = 0.9
    with pytest.raises(jsonschema.ValidationError, match="vad_treshold"):
        jsonschema.validate(demo, schema)


def test_queue_strategies_in_the_schema_are_the_implemented_ones():
    assert set(QueueStrategy.__args__) == set(STRATEGIES)


def test_bot_imports_neither_voice_gateway_nor_handoff():
    """The dependency direction the section models respect: helpline/ composes, bot/ knows neither."""
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in ("voice_gateway", "handoff", "helpline")]
    assert offenders == []


def test_config_yml_is_read_as_yaml_1_2(tmp_path):
    """``on`` is a string in YAML 1.2: a greeting action called ``on`` is not the boolean True."""
    path = demo_config_with(tmp_path, ("greeting: utter_greet", "greeting: on"))
    assert load_helpline_config(load_config(path)).voice.greeting == "on"


def test_environment_overrides_still_apply(tmp_path, monkeypatch):
    from helpline.settings import load_settings

    monkeypatch.setitem(os.environ, "HELPLINE_PORT", "6006")
    settings = load_settings(tmp_path, load_config(demo_config_with(tmp_path)))
    assert settings.port == 6006 and settings.config.server.port == 5005
    monkeypatch.setitem(os.environ, "HELPLINE_PORT", "http")
    with pytest.raises(ValueError, match="HELPLINE_PORT must be a port number"):
        load_settings(tmp_path, load_config(tmp_path / "config.yml"))


def test_every_section_has_a_model():
    assert set(HelplineConfig.model_fields) >= {"knowledge", "escalation", "handoff", "voice", "crm", "server"}
