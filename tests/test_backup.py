"""Back up a running demo, restore it into a new folder, serve it there: same conversations, same model."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys

from aiohttp.test_utils import TestClient, TestServer

from bot.model_registry import ModelRegistry
from helpline.app import build_app
from helpline.backup import MANIFEST
from tests.auth_support import use_api_token
from tests.conftest import ROOT
from tests.model_support import demo_project, install_archive

CALLER = {"caller_number": "+15551230001"}


async def helpline(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "helpline.cli", *args, cwd=ROOT,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def say(client, sender: str, text: str) -> str:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text,
                                                                  "metadata": CALLER})
    assert response.status == 200
    return " ".join(m.get("text", "") for m in await response.json()).lower()


async def test_backup_of_a_running_demo_restores_and_serves(demo_archive, tmp_path, monkeypatch):
    root = demo_project(tmp_path / "project")
    version = install_archive(demo_archive, root / "models")
    for variable in ("HELPLINE_DATA_DIR", "HELPLINE_MODELS_DIR", "HELPLINE_TRACKER_STORE"):
        monkeypatch.delenv(variable, raising=False)
    headers = use_api_token(monkeypatch)
    backup, restored = tmp_path / "backup", tmp_path / "restored"
    async with TestClient(TestServer(build_app(root)), headers=headers) as client:
        assert "ups" in await say(client, "kept", "where is my order 472918")
        before = await (await client.get("/conversations/kept/tracker")).json()
        fingerprint = (await (await client.get("/status")).json())["fingerprint"]

        async def keep_talking() -> None:  # the server writes while the backup runs
            for turn in range(1000):
                await say(client, "busy", f"where is my order 47291{turn % 10}")

        talking = asyncio.create_task(keep_talking())
        printed = await helpline("--project", str(root), "backup", str(backup))
        talking.cancel()
    assert f"active model {version}" in printed
    assert (backup.stat().st_mode & 0o777) == 0o700
    files = json.loads((backup / MANIFEST).read_text())["files"]
    assert {"data/trackers.sqlite3", "data/handoff.sqlite3", "data/secrets.json", f"models/{version}.tar.gz",
            "models/registry.json", "project/config.yml", "project/nlu_data/nlu.yml"} <= set(files)

    printed = await helpline("restore", str(backup), "--to", str(restored))
    assert f"helpline --project {restored} run" in printed
    assert (restored / ".helpline" / "secrets.json").read_bytes() == (root / ".helpline" / "secrets.json").read_bytes()
    with sqlite3.connect(restored / ".helpline" / "trackers.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert ModelRegistry(restored / "models").active == version

    async with TestClient(TestServer(build_app(restored)), headers=headers) as client:
        after = await (await client.get("/conversations/kept/tracker")).json()
        assert after["events"] == before["events"] and after["slots"] == before["slots"]
        assert (await (await client.get("/status")).json())["fingerprint"] == fingerprint
        assert (await (await client.get("/models")).json())["serving"] == version
        assert "ups" in await say(client, "new-after-restore", "where is my order 472918")


async def test_a_changed_backup_is_not_restored(tmp_path):
    backup = tmp_path / "backup"
    (backup / "data").mkdir(parents=True)
    (backup / "data" / "trackers.sqlite3").write_bytes(b"tampered")
    (backup / MANIFEST).write_text(json.dumps({"files": {"data/trackers.sqlite3": "0" * 64}}))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "helpline.cli", "restore", str(backup), "--to", str(tmp_path / "to"), cwd=ROOT,
        stderr=asyncio.subprocess.PIPE)
    _, err = await process.communicate()
    assert process.returncode != 0 and "sha256 differs" in err.decode()
    assert not (tmp_path / "to").exists()
