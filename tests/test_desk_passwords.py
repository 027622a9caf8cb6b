"""Agent desk passwords: scrypt hashes in config.yml, checked on login; the CLI that makes them."""
from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from handoff.config import HandoffConfigError, load_handoff_settings
from handoff.desk import Desk, DeskHub
from handoff.passwords import check_hash, hash_password, verify_password
from tests.conftest import ROOT


def test_a_hash_verifies_its_password_only():
    stored = hash_password("northwind")
    assert "northwind" not in stored and stored != hash_password("northwind")  # salted
    assert verify_password(stored, "northwind")
    assert not verify_password(stored, "Northwind") and not verify_password(stored, "")


@pytest.mark.parametrize("stored", ["northwind", "", "scrypt$16384$8$1$c2FsdA", "bcrypt$1$2$3$c2FsdA$ZGlnZXN0",
                                    "scrypt$1000$8$1$c2FsdA$" + "A" * 43, "scrypt$x$8$1$c2FsdA$" + "A" * 43])
def test_anything_but_a_well_formed_hash_is_refused(stored):
    with pytest.raises(ValueError):
        check_hash(stored)
    assert not verify_password(stored, "northwind")


def test_config_takes_a_hash_hashes_a_plain_password_and_names_a_bad_one(caplog):
    stored = hash_password("pw-a")
    with caplog.at_level(logging.WARNING, logger="handoff.config"):
        settings = load_handoff_settings({"agents": [
            {"id": "a", "password_hash": stored}, {"id": "b", "password": "pw-b"}, {"id": "c"}]})
    assert settings.credentials["a"] == stored
    assert settings.credentials["b"] != "pw-b" and verify_password(settings.credentials["b"], "pw-b")
    assert "c" not in settings.credentials  # no password: no desk login
    assert "pw-b" not in caplog.text and "plain desk password" in caplog.text
    with pytest.raises(HandoffConfigError, match=r"agents\[0\]\.password_hash: not a password hash"):
        load_handoff_settings({"agents": [{"id": "a", "password_hash": "northwind"}]})


async def test_login_checks_the_hash_and_refuses_unknown_agents_and_bad_bodies():
    app = web.Application()
    hub = DeskHub({"alice": hash_password("northwind")})
    Desk(acd=None, hub=hub, bridge=None).add_routes(app)  # failed logins never reach the ACD
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/desk/api/login", json={"agent_id": "alice", "password": "nope"})).status == 401
        assert (await client.post("/desk/api/login", json={"agent_id": "mallory", "password": ""})).status == 401
        assert (await client.post("/desk/api/login", json=["alice", "northwind"])).status == 400
        assert (await client.post("/desk/api/login", data="{")).status == 400
    assert hub.sessions == {}
    assert await hub.login("alice", "northwind") in hub.sessions


def hash_from_cli(stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpline.cli", "desk", "hash-password"], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_the_cli_prints_a_hash_of_the_password_on_stdin():
    result = hash_from_cli("s3cret pass\n")
    assert result.returncode == 0, result.stderr
    stored = result.stdout.strip()
    assert "s3cret" not in stored and verify_password(stored, "s3cret pass")


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_the_cli_refuses_an_empty_password(stdin):
    result = hash_from_cli(stdin)
    assert result.returncode != 0 and "empty password" in result.stderr and result.stdout == ""


def test_the_demo_config_holds_hashes_not_passwords():
    text = (ROOT / "config.yml").read_text()
    assert "password: northwind" not in text and text.count("password_hash: \"scrypt$") == 3
