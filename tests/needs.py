"""What a test needs from outside the checkout: the shared data folder, PostgreSQL, Redis, Chromium.

On a developer's machine any of them may be missing; such a test is skipped with a reason that
names what is missing and where it was looked for. Where nothing may be skipped silently (CI:
``.ci/run`` sets both flags), a missing need fails the test instead:

* ``HELPLINE_REQUIRE_DATA=1``: the data folder (``../shared/data`` beside the checkout, or
  ``HELPLINE_SHARED_DATA``) must be there;
* ``HELPLINE_REQUIRE_SERVICES=1``: PostgreSQL, Redis, Chromium and the SIP tools (baresip, SIPp,
  Kamailio) must be there.
"""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.common import SHARED_DATA

DATA_FLAG = "HELPLINE_REQUIRE_DATA"
SERVICES_FLAG = "HELPLINE_REQUIRE_SERVICES"


def unavailable(what: str, flag: str) -> None:
    """Skip the test, naming ``what`` it needs; fail instead when ``flag`` is set to 1."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"missing: {what} ({flag}=1 requires it)", pytrace=False)
    pytest.skip(f"needs {what}")


def shared_data(*parts: str) -> Path:
    """A path under the shared data folder, which is read in place and never copied into the project."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        unavailable(f"{path} from the data folder (../shared/data beside the checkout, or set "
                    "HELPLINE_SHARED_DATA)", DATA_FLAG)
    return path


def rasa_bot(name: str) -> Path:
    """One of the Rasa example bots of the data folder."""
    return shared_data("rasa_bots", name)


def address(url: str) -> str:
    """``host:port`` of a service URL, without the credentials it may hold."""
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port}"


def service(name: str, url: str) -> str:
    """``url`` if something listens at its host and port, else skip (or fail) naming the service."""
    host, port = address(url).rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as error:
        unavailable(f"{name} at {host}:{port} ({error.strerror or error}; start it)", SERVICES_FLAG)
    return url


def redis(url: str = "redis://127.0.0.1:6379/15") -> str:
    return service("Redis", url)


POSTGRES_DSN = os.environ.get("HELPLINE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def postgres(dsn: str = POSTGRES_DSN) -> str:
    """``dsn`` if PostgreSQL takes a connection there, else skip (or fail) naming the server and the error."""
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        problem = str(error).strip().splitlines()[0]
        unavailable(f"PostgreSQL at {address(dsn)} ({problem}; start it or set HELPLINE_TEST_POSTGRES_DSN)",
                    SERVICES_FLAG)
    return dsn


def chromium() -> str:
    """Debian's Chromium, which the browser tests drive through Playwright (no browser download)."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        unavailable("Debian's chromium package (/usr/bin/chromium; scripts/install_chromium.sh installs it as root)",
                    SERVICES_FLAG)
    return path


SIP_PACKAGES = {"baresip": "baresip", "sipp": "sip-tester", "kamailio": "kamailio"}


def sip_tool(name: str) -> str:
    """baresip, sipp or kamailio from Debian's packages (scripts/install_sip_tools.sh installs them as root)."""
    path = shutil.which(name) or next((f"{d}/{name}" for d in ("/usr/sbin", "/usr/bin") if Path(f"{d}/{name}").exists()),
                                      None)
    if path is None:
        unavailable(f"Debian's {SIP_PACKAGES[name]} package ({name}; scripts/install_sip_tools.sh installs it as root)",
                    SERVICES_FLAG)
    return path
