"""The suite says what it needs: a missing data folder or service skips with its name, or fails where required."""
import os
import re
import subprocess
import sys

import pytest

from tests import needs
from tests.conftest import ROOT

DATA_TESTS = ["tests/test_validation.py::test_known_good_rasa_bots_have_no_errors",
              "tests/test_training_data.py::test_rasa_example_bots_load_unchanged"]


def run_pytest(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in (needs.DATA_FLAG, needs.SERVICES_FLAG)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", *DATA_TESTS],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**environment, "HELPLINE_SHARED_DATA": str(tmp_path / "no-data"), **env})


def test_without_the_data_folder_data_tests_skip_and_say_where_they_looked(tmp_path):
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout
    assert re.search(r"6 skipped", result.stdout), result.stdout
    assert f"needs {tmp_path / 'no-data' / 'rasa_bots'}" in result.stdout


def test_required_data_that_is_missing_fails(tmp_path):
    result = run_pytest(tmp_path, HELPLINE_REQUIRE_DATA="1")
    assert result.returncode == 1
    assert "6 failed" in result.stdout and "HELPLINE_REQUIRE_DATA=1 requires it" in result.stdout


def test_a_service_that_is_down_skips_or_fails_naming_it(monkeypatch):
    monkeypatch.delenv(needs.SERVICES_FLAG, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"needs Redis at 127\.0\.0\.1:9 "):
        needs.redis("redis://127.0.0.1:9/0")
    monkeypatch.setenv(needs.SERVICES_FLAG, "1")
    with pytest.raises(pytest.fail.Exception, match=r"missing: PostgreSQL at 127\.0\.0\.1:9 .*REQUIRE_SERVICES=1"):
        needs.service("PostgreSQL", "postgresql://app:hunter2@127.0.0.1:9/db")


def test_no_test_names_a_path_of_one_machine():
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in (ROOT / "tests").rglob("*.py") if path.name != "test_needs.py"
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if re.search(r"[\"'](/work|/home|/root|/tmp)/", line)]
    assert offenders == []
