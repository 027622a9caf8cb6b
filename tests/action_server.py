"""rasa-sdk's own action server in a process of its own, as Rasa deployments run it, for the tests."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scale_support import free_port


def rasa_sdk_server(actions: str, cwd: Path, env: dict[str, str] | None = None,
                    startup_s: float = 60) -> Iterator[str]:
    """Start ``python -m rasa_sdk --actions <actions>`` in ``cwd``; yield its webhook URL, then stop it.

    Written as a generator so that a pytest fixture can ``yield from`` it.
    """
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", actions, "--port", str(port)],
                              cwd=cwd, env={**os.environ, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + startup_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail(f"rasa-sdk action server for {actions} did not start within {startup_s:.0f} s")
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        server.terminate()
        server.wait(timeout=20)
