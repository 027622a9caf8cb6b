"""The README's install works on a fresh machine: Python 3.11 or a clear error, quiet output, installable pins.

Resolving the pins against the public index needs the network; ``scripts/check_install.py`` does that
in CI (``.ci/run``). These tests check what can be checked offline.
"""
import os
import re
import subprocess
import sys

from tests.conftest import ROOT


def setup_with(python: str, tmp_path):
    return subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHON": python})


def test_setup_without_python_3_11_says_so_and_falls_back_to_nothing(tmp_path):
    result = setup_with("python3.11-not-here", tmp_path)
    assert result.returncode == 1
    assert "error: Helpline needs Python 3.11, and 'python3.11-not-here' is not on the PATH" in result.stderr
    assert "apt-get install python3.11 python3.11-venv" in result.stderr
    assert "creating .venv" not in result.stdout


def test_setup_with_another_python_names_its_version(tmp_path):
    other = tmp_path / "python3"
    other.write_text("#!/bin/sh\necho 3.12\n")  # what `python3 -c 'print(version)'` prints on a newer system
    other.chmod(0o755)
    result = setup_with(str(other), tmp_path)
    assert result.returncode == 1
    assert f"error: {other} is Python 3.12; Helpline needs 3.11" in result.stderr


def test_installing_the_project_prints_no_warnings(tmp_path):
    """Build and install the editable project offline (pip with no configuration): nothing on stderr."""
    # --ignore-installed: installing into another prefix must not uninstall the project from this environment
    result = subprocess.run([sys.executable, "-m", "pip", "--isolated", "install", "--quiet", "--no-deps",
                             "--no-build-isolation", "--no-index", "--ignore-installed",
                             "--prefix", str(tmp_path / "prefix"), "-e", "."],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
                                 "PIP_CONFIG_FILE": os.devnull})
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_constraints_pin_no_local_versions_and_setup_reads_torch_from_them():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().split())
    assert all("+" not in version for version in pins.values())
    assert not re.search(r"torch==\d", (ROOT / "scripts" / "setup.sh").read_text())  # the pin is constraints.txt's
