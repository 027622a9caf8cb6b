"""Sign-in passwords: scrypt hashes in config.yml, checked on sign-in; the CLI that makes them."""
from __future__ import annotations

import subprocess
import sys

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pydantic import ValidationError

from bot.security.passwords import check_hash, hash_password, verify_password
from handoff.config import HandoffConfigError, load_handoff_settings
from helpline.config_schema import HelplineConfig
from helpline.security.install import install_security
from helpline.security.users import UserDirectory
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


def test_users_come_with_hashes_and_a_plain_password_is_refused():
    stored = hash_password("pw-a")
    users = UserDirectory.from_config(HelplineConfig.model_validate({
        "auth": {"users": [{"id": "a", "roles": ["editor"], "password_hash": stored}]},
        "handoff": {"agents": [{"id": "a"}, {"id": "c"}]}}))
    assert users.get("a").password_hash == stored and users.get("a").roles == {"editor", "agent"}
    assert users.get("c").password_hash is None  # no password: no sign-in
    with pytest.raises(HandoffConfigError, match=r"agents\[1\]\.password: .*plain password is not accepted"):
        load_handoff_settings({"agents": [{"id": "a"}, {"id": "b", "password": "pw-b"}]})
    with pytest.raises(HandoffConfigError, match=r"agents\[0\]\.password_hash: not a password hash"):
        load_handoff_settings({"agents": [{"id": "a", "password_hash": "northwind"}]})
    with pytest.raises(ValidationError, match=r"not a password hash"):
        HelplineConfig.model_validate({"auth": {"users": [{"id": "a", "roles": ["admin"], "password_hash": "x"}]}})


async def test_sign_in_checks_the_hash_and_refuses_unknown_users_and_bad_bodies(tmp_path):
    app = web.Application()
    config = {"handoff": {"agents": [{"id": "alice", "password_hash": hash_password("northwind")}, {"id": "nopw"}]}}
    install_security(app, HelplineConfig.model_validate(config), tmp_path, None, {})
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/auth/login", json={"username": "alice", "password": "nope"})).status == 401
        assert (await client.post("/auth/login", json={"username": "mallory", "password": ""})).status == 401
        assert (await client.post("/auth/login", json={"username": "nopw", "password": ""})).status == 401
        assert (await client.post("/auth/login", json=["alice", "northwind"])).status == 400
        assert (await client.post("/auth/login", data="{", headers={"Content-Type": "application/json"})).status == 400
        assert (await client.get("/auth/me")).status == 401
        response = await client.post("/auth/login", json={"username": "alice", "password": "northwind"})
        assert response.status == 200 and (await client.get("/auth/me")).status == 200


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
    assert "password: northwind" not in text and text.count("password_hash: \"scrypt$") == 6
