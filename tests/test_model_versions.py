"""Model versions: listed with their results, rolled back from the shell or the API, and followed by every
server process (the registry file on one machine, Redis across several)."""
from __future__ import annotations

import asyncio
import textwrap
import time
import uuid

import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer

from bot.model_registry import ModelRegistry, sha256_of
from bot.model_training import train_version
from bot.training_data.project import load_project
from helpline.app import build_app
from helpline.cli import main
from tests import needs
from tests.auth_support import use_api_token
from tests.test_model_archive_and_reload import write_bot

REDIS_URL = "redis://127.0.0.1:6379/15"
STORIES = """
    version: "3.1"
    stories:
    - story: greeting
      steps:
      - user: hello
        intent: greet
      - action: utter_greet
    - story: leaving
      steps:
      - user: see you in a bit
        intent: goodbye
      - action: utter_goodbye
"""


def write_small_bot(root, greeting: str = "Hello from version one.") -> None:
    write_bot(root)
    domain = root / "domain.yml"
    domain.write_text(domain.read_text().replace("Hello from version one.", greeting))
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "stories.yml").write_text(textwrap.dedent(STORIES).lstrip())


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """A small bot trained twice (its greeting changed in between); the second version is active."""
    root = tmp_path_factory.mktemp("bot")
    write_small_bot(root)
    first, _ = train_version(load_project(root), root / "models")
    write_small_bot(root, "Hello from version two.")
    second, _ = train_version(load_project(root), root / "models")
    return root, first.version, second.version


@pytest.fixture
def project(two_versions, tmp_path, monkeypatch):
    root, first, second = two_versions
    ModelRegistry(root / "models").set_active(second, "test")
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    return root, first, second


async def greeting(client) -> str:
    response = await client.post("/webhooks/rest/webhook", json={"sender": uuid.uuid4().hex, "message": "hello"})
    return (await response.json())[0]["text"]


async def eventually(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


def test_each_version_records_its_hash_and_results(two_versions, capsys):
    root, first, second = two_versions
    registry = ModelRegistry(root / "models")
    for version in (first, second):
        entry = registry.get(version)
        assert entry.sha256 == sha256_of(registry.archive_path(entry).read_bytes())
        assert entry.results["validation"]["errors"] == 0
        assert entry.results["training"]["examples"] == 8 and entry.results["training"]["seconds"] > 0
        assert entry.results["tests"]["total"] == 2 and entry.results["tests"]["passed"] == 2
    main(["--project", str(root), "models", "list"])
    listing = capsys.readouterr().out
    assert first in listing and second in listing and "2/2" in listing


async def test_rollback_from_the_shell_and_the_api_switch_a_running_server(project, monkeypatch):
    root, first, second = project
    headers = use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(root)), headers=headers) as client:
        assert await greeting(client) == "Hello from version two."
        await asyncio.to_thread(main, ["--project", str(root), "models", "rollback"])  # the version before
        assert await eventually(lambda: _says(client, "Hello from version one.")), "the server followed the rollback"
        listing = await (await client.get("/models")).json()
        assert listing["active"] == first and listing["pinned"]
        assert [v["version"] for v in listing["versions"]] == [second, first]

        response = await client.post(f"/models/{second}/activate", json={})
        assert response.status == 200 and (await response.json())["version"] == second
        assert await greeting(client) == "Hello from version two."
        response = await client.post("/models/20990101-000000-0000000000000000/activate", json={})
        assert response.status == 404
        assert ModelRegistry(root / "models").active == second


async def _says(client, text: str) -> bool:
    return await greeting(client) == text


async def test_two_servers_on_redis_serve_the_same_version_after_a_switch(project, tmp_path, monkeypatch):
    root, first, second = project
    needs.redis(REDIS_URL)
    prefix = f"test:models:{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("HELPLINE_HANDOFF_STORE", REDIS_URL)
    monkeypatch.setenv("HELPLINE_REDIS_PREFIX", prefix)
    headers = use_api_token(monkeypatch)
    apps = []
    for name in ("a", "b"):
        monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / name))
        apps.append(build_app(root))
    try:
        async with TestClient(TestServer(apps[0]), headers=headers) as a, \
                TestClient(TestServer(apps[1]), headers=headers) as b:
            assert await greeting(a) == await greeting(b) == "Hello from version two."
            response = await a.post(f"/models/{first}/activate", json={})
            assert response.status == 200
            assert await greeting(a) == "Hello from version one."
            assert await eventually(lambda: _says(b, "Hello from version one.")), "b followed a's switch"
            # the shell publishes too: both follow
            await asyncio.to_thread(main, ["--project", str(root), "models", "rollback", second])
            for client in (a, b):
                assert await eventually(lambda: _says(client, "Hello from version two."))
            shared = redis.from_url(REDIS_URL, decode_responses=True)
            assert await shared.get(f"{prefix}:models:active") == second
    finally:
        shared = redis.from_url(REDIS_URL)
        keys = [key async for key in shared.scan_iter(match=f"{prefix}:*")]
        if keys:
            await shared.delete(*keys)
        await shared.aclose()


def test_the_newest_versions_are_kept_and_the_active_one_always(tmp_path):
    registry = ModelRegistry(tmp_path)
    versions = []
    for index in range(5):
        archive = tmp_path / f"2026010{index}-000000-{index:016x}.tar.gz"
        archive.write_bytes(f"archive {index}".encode())
        versions.append(registry.add(archive, f"{index:016x}", 1000.0 + index).version)
    registry.set_active(versions[0], "test", pinned=True)  # rolled back to the oldest
    assert sorted(registry.prune(2)) == sorted(versions[1:3])
    assert [v.version for v in registry.versions()] == [versions[4], versions[3], versions[0]]
    assert not (tmp_path / f"{versions[1]}.tar.gz").exists() and (tmp_path / f"{versions[0]}.tar.gz").exists()


@pytest.mark.parametrize("value", ["0", "many", "-3"])
def test_models_keep_must_be_a_positive_count(tmp_path, value):
    from bot.config import load_config
    from bot.training_data.yaml_reader import TrainingDataError
    from helpline.settings import load_settings

    (tmp_path / "config.yml").write_text(f"language: en\nhelpline:\n  data_dir: state\n  models_keep: {value}\n")
    with pytest.raises(TrainingDataError, match=r"config.yml:4: helpline.models_keep: "):
        load_settings(tmp_path, load_config(tmp_path / "config.yml"))
