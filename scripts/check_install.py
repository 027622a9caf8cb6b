"""Check that Helpline installs on a machine that has only the public package index.

A developer's or CI's machine may carry pip settings that make an install work there and nowhere else
(a local wheel folder, extra indexes, constraints). Here pip runs as a fresh machine's would: isolated
(``--isolated``: no user configuration, no ``PIP_*`` variables), with no configuration file at all
(``PIP_CONFIG_FILE=/dev/null``, which also drops the global and site files that ``--isolated`` keeps),
and PyPI as its only index. It resolves the project with its test extra against ``constraints.txt``
(``pip install --dry-run --report``) and fails when:

* the pins conflict, or one of them is not on PyPI (e.g. a local version such as ``torch==X+cpu``);
* a package the resolution needs is not pinned in ``constraints.txt``, or pinned at another version,
  so that two machines could install different things. Torch's CUDA-only dependencies are the
  exception: ``scripts/setup.sh`` installs the CPU build of torch first (from PyTorch's CPU index),
  which needs none of them.

Run it with the virtual environment's Python (any pip >= 22.2): ``.venv/bin/python scripts/check_install.py``.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_INDEX = "https://pypi.org/simple"
CUDA_ONLY = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")  # what PyPI's Linux torch adds to the CPU build


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            if not version:
                sys.exit(f"{path.name}: '{line}' is not pinned with ==")
            pins[normalize(name)] = version.strip()
    return pins


def resolve(report: Path) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    command = [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--index-url", PUBLIC_INDEX, "--report", str(report), "-c", "constraints.txt", ".[test]"]
    print("==> resolving as a machine with only the public index would:", " ".join(command[3:]), flush=True)
    return subprocess.run(command, cwd=ROOT, env=environment, text=True, capture_output=True)


def main() -> int:
    pins = read_pins(ROOT / "constraints.txt")
    local = [f"{name}=={version}" for name, version in pins.items() if "+" in version]
    if local:
        print(f"constraints.txt pins local versions that no public index has: {', '.join(local)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        result = resolve(report_path)
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            print("the project's requirements do not resolve from the public index alone", file=sys.stderr)
            return 1
        report = json.loads(report_path.read_text())
    problems = []
    resolved = {}
    for item in report["install"]:
        name, version = normalize(item["metadata"]["name"]), item["metadata"]["version"]
        resolved[name] = version
        if name == "helpline" or CUDA_ONLY.match(name):
            continue
        if name not in pins:
            problems.append(f"{name}=={version} is installed but not pinned in constraints.txt")
        elif pins[name] != version:
            problems.append(f"{name}: resolved {version}, constraints.txt pins {pins[name]}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    cuda_only = sorted(name for name in resolved if CUDA_ONLY.match(name))
    print(f"ok: {len(resolved) - len(cuda_only) - 1} pinned packages resolve from {PUBLIC_INDEX} without conflict "
          f"(torch {resolved.get('torch')}, whose CPU build setup.sh installs; PyPI's build would add "
          f"{len(cuda_only)} CUDA packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
