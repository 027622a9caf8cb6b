"""The `helpline` command as a user runs it: validate, train with progress, test stories, test nlu."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.needs import rasa_bot


def helpline(*args, cwd=ROOT, env_extra=None, timeout=600):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "helpline.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_validate_reports_file_and_line_and_fails(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "config.yml").write_text("language: en\n")
    (tmp_path / "domain.yml").write_text('version: "3.1"\nintents: [greet]\nresponses:\n  utter_greet:\n'
                                         '  - text: "Hi {name}"\n')
    (tmp_path / "data" / "stories.yml").write_text(
        "stories:\n- story: s\n  steps:\n  - intent: greet\n  - action: utter_greet\n  - intent: goodbye\n")
    result = helpline("--project", str(tmp_path), "validate")
    assert result.returncode == 1
    assert f"{tmp_path / 'data' / 'stories.yml'}:6: error:" in result.stdout and "goodbye" in result.stdout
    assert "{name}" in result.stdout or "name" in result.stdout


def test_malformed_yaml_is_one_clear_line(tmp_path):
    (tmp_path / "config.yml").write_text("language: en\npipeline: [\n")
    result = helpline("--project", str(tmp_path), "train")
    assert result.returncode != 0
    assert f"{tmp_path / 'config.yml'}:3: invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_validates_clean():
    result = helpline("validate")
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout


@pytest.mark.slow
def test_train_shows_progress_and_moodbot_passes_its_test_stories(tmp_path):
    env = {"HELPLINE_MODELS_DIR": str(tmp_path / "models")}
    trained = helpline("--project", str(rasa_bot("moodbot-initial-project")), "train", env_extra=env)
    assert trained.returncode == 0, trained.stderr
    assert "intent classifier" in trained.stderr or "nlu" in trained.stderr
    assert "trained " in trained.stdout and ".tar.gz" in trained.stdout
    tested = helpline("--project", str(rasa_bot("moodbot-initial-project")), "test", env_extra=env)
    assert "7/7 test stories passed" in tested.stdout, tested.stdout
    assert tested.returncode == 0


@pytest.mark.slow
def test_failing_test_story_says_which_step(tmp_path):
    env = {"HELPLINE_MODELS_DIR": str(tmp_path / "models")}
    stories = tmp_path / "test_wrong.yml"
    stories.write_text('stories:\n- story: wrong turn\n  steps:\n  - user: |\n      hello\n    intent: greet\n'
                       '  - action: utter_goodbye\n')
    result = helpline("--project", str(rasa_bot("moodbot-initial-project")), "test", "--stories", str(stories),
                      env_extra=env)
    assert result.returncode == 1
    assert "FAIL wrong turn" in result.stdout and "expected action utter_goodbye, predicted action utter_greet" \
        in result.stdout


@pytest.mark.slow
def test_nlu_report_has_per_intent_scores(tmp_path):
    result = helpline("--project", str(rasa_bot("moodbot-initial-project")), "test", "nlu")
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "mood_great" in result.stdout and "precision" in result.stdout


def test_shell_chats_in_the_terminal(demo_archive, tmp_path):
    result = subprocess.run([sys.executable, "-m", "helpline.cli", "shell"], cwd=ROOT, capture_output=True, text=True,
                            input="hello\nwhere is order 472918\n", timeout=300,
                            env={**os.environ, "HELPLINE_MODELS_DIR": str(demo_archive.parent),
                                 "HELPLINE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    replies = [line for line in result.stdout.splitlines() if "bot> " in line]
    assert "Northwind" in replies[0]
    assert any("four seven two nine one eight" in line for line in replies)


def test_version_is_the_installed_package_version():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = helpline("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"helpline {version}"


SERVE_AND_REPORT = """
import asyncio, json, sys
from pathlib import Path
from aiohttp import web
from helpline.app import build_app

async def main():
    app = build_app(Path(sys.argv[1]), preload_voice=True)  # what `helpline run` builds
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await asyncio.sleep(2)  # a voice gateway would be loading its models in the background by now
    routes = sorted({r.resource.canonical for r in app.router.routes()})
    print(json.dumps({"voice_routes": [r for r in routes if r.startswith("/voice")],
                      "speech_modules": sorted(m for m in ("faster_whisper", "piper", "moonshine_voice", "vosk")
                                               if m in sys.modules)}))
    await runner.cleanup()

asyncio.run(main())
"""


@pytest.mark.slow
def test_run_without_a_voice_section_loads_no_speech_models(tmp_path):
    """An NLU-only bot (no ``helpline: voice:``) serves its HTTP API without Whisper or Piper."""
    (tmp_path / "data").mkdir()
    (tmp_path / "config.yml").write_text("language: en\n")
    (tmp_path / "domain.yml").write_text('version: "3.1"\nintents: [greet, goodbye]\nresponses:\n'
                                         "  utter_greet:\n  - text: Hi\n  utter_goodbye:\n  - text: Bye\n")
    (tmp_path / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi there\n"
                                               "- intent: goodbye\n  examples: |\n    - bye\n    - see you\n")
    (tmp_path / "data" / "rules.yml").write_text("rules:\n- rule: hi\n  steps:\n  - intent: greet\n"
                                                 "  - action: utter_greet\n")
    result = subprocess.run([sys.executable, "-c", SERVE_AND_REPORT, str(tmp_path)], capture_output=True, text=True,
                            timeout=600, cwd=ROOT, env={**os.environ, "HELPLINE_MODELS_DIR": str(tmp_path / "models"),
                                                        "HELPLINE_DATA_DIR": str(tmp_path / "data-dir")})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"voice_routes": [], "speech_modules": []}
