"""The `helpline` command as a user runs it: validate, train with progress, test stories, test nlu."""
import os
import subprocess
import sys

from tests.conftest import RASA_BOTS, ROOT


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


def test_train_shows_progress_and_moodbot_passes_its_test_stories(tmp_path):
    env = {"HELPLINE_MODELS_DIR": str(tmp_path / "models")}
    trained = helpline("--project", str(RASA_BOTS / "moodbot-initial-project"), "train", env_extra=env)
    assert trained.returncode == 0, trained.stderr
    assert "intent classifier" in trained.stderr or "nlu" in trained.stderr
    assert "trained " in trained.stdout and ".tar.gz" in trained.stdout
    tested = helpline("--project", str(RASA_BOTS / "moodbot-initial-project"), "test", "--results",
                      str(tmp_path / "results"), env_extra=env)
    assert "7/7 test stories passed" in tested.stdout, tested.stdout
    assert tested.returncode == 0


def test_failing_test_story_says_which_step(tmp_path):
    env = {"HELPLINE_MODELS_DIR": str(tmp_path / "models")}
    stories = tmp_path / "test_wrong.yml"
    stories.write_text('stories:\n- story: wrong turn\n  steps:\n  - user: |\n      hello\n    intent: greet\n'
                       '  - action: utter_goodbye\n')
    result = helpline("--project", str(RASA_BOTS / "moodbot-initial-project"), "test", "--stories", str(stories),
                      "--results", str(tmp_path / "results"), env_extra=env)
    assert result.returncode == 1
    assert "FAIL wrong turn" in result.stdout and "expected action utter_goodbye, predicted action utter_greet" \
        in result.stdout


def test_nlu_report_has_per_intent_scores(tmp_path):
    result = helpline("--project", str(RASA_BOTS / "moodbot-initial-project"), "test", "nlu")
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
