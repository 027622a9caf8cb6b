"""Model archives refuse damage, and content edits go live on a running server only when valid."""
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.model_archive import ModelLoadError, load, read_manifest
from bot.model_registry import ModelRegistry
from helpline.app import build_app
from tests.auth_support import use_api_token
from tests.conftest import ROOT

SMALL_BOT = {
    "config.yml": """
        language: en
        pipeline:
        - name: SentenceEmbeddingIntentClassifier
        - name: FallbackClassifier
          threshold: 0.3
        policies:
        - name: RulePolicy
    """,
    "domain.yml": """
        version: "3.1"
        intents: [greet, goodbye]
        responses:
          utter_greet:
          - text: "Hello from version one."
          utter_goodbye:
          - text: "Bye."
    """,
    "data/nlu.yml": """
        version: "3.1"
        nlu:
        - intent: greet
          examples: |
            - hi
            - hello
            - good morning
            - hey there
        - intent: goodbye
          examples: |
            - bye
            - goodbye
            - see you later
            - talk to you soon
    """,
    "data/rules.yml": """
        version: "3.1"
        rules:
        - rule: greet
          steps:
          - intent: greet
          - action: utter_greet
        - rule: bye
          steps:
          - intent: goodbye
          - action: utter_goodbye
    """,
}


def write_bot(root):
    for name, text in SMALL_BOT.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def test_demo_archive_has_a_manifest_and_loads(demo_archive):
    manifest = read_manifest(demo_archive)
    assert manifest["format_version"] == 1 and len(manifest["fingerprint"]) == 16
    model = load(demo_archive)
    assert model.fingerprint == manifest["fingerprint"] and "order_status_form" in model.domain.forms


def registered(archive):
    """Record an archive in its folder's registry, as training does, so that load() gets past the hash check."""
    ModelRegistry(archive.parent).add(archive, "0" * 16, time.time())
    return archive


def test_corrupt_archive_is_refused_with_its_path(tmp_path):
    bad = registered_bytes(tmp_path / "model.tar.gz", b"\x1f\x8b not really gzip")
    with pytest.raises(ModelLoadError, match=f"{bad}: not a readable model archive"):
        load(bad)


def registered_bytes(path, data):
    path.write_bytes(data)
    return registered(path)


def rewrite_archive(source, target, change):
    """Copy an archive, letting ``change`` edit or drop its members."""
    with tarfile.open(source) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    with tarfile.open(target, "w:gz") as tar:
        for member, data in change(members):
            if data is not None:
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member)


def test_archive_from_another_version_is_refused(demo_archive, tmp_path):
    other = tmp_path / "other.tar.gz"

    def bump(members):
        for member, data in members:
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["format_version"] = 99
                data = json.dumps(manifest).encode()
            yield member, data

    rewrite_archive(demo_archive, other, bump)
    registered(other)
    with pytest.raises(ModelLoadError, match="model format 99 cannot be loaded .* retrain"):
        load(other)


def test_archive_missing_a_part_is_refused(demo_archive, tmp_path):
    damaged = tmp_path / "damaged.tar.gz"
    rewrite_archive(demo_archive, damaged, lambda members: ((m, d) for m, d in members
                                                            if not m.name.startswith("core")))
    registered(damaged)
    with pytest.raises(ModelLoadError, match="damaged model archive"):
        load(damaged)


@pytest.mark.slow
async def test_content_reload_swaps_valid_edits_and_refuses_broken_ones(tmp_path, monkeypatch):
    write_bot(tmp_path)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "state"))
    headers = use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(tmp_path)), headers=headers) as client:
        async def greet():
            response = await client.post("/webhooks/rest/webhook", json={"sender": "e", "message": "hello"})
            return (await response.json())[0]["text"]

        assert await greet() == "Hello from version one."
        domain = tmp_path / "domain.yml"
        good = domain.read_text()
        domain.write_text(good.replace("responses:", "responses:\n  utter_x: [unclosed"))
        response = await client.post("/model/reload")
        body = await response.json()
        assert response.status == 400 and f"{domain}:" in body["message"] and "still serving" in body["message"]
        assert await greet() == "Hello from version one."

        domain.write_text(good)
        (tmp_path / "data" / "rules.yml").write_text((tmp_path / "data" / "rules.yml").read_text()
                                                     .replace("utter_goodbye", "utter_farewell"))
        response = await client.post("/model/reload")
        assert response.status == 400 and "utter_farewell" in (await response.json())["message"]

        (tmp_path / "data" / "rules.yml").write_text(textwrap.dedent(SMALL_BOT["data/rules.yml"]).lstrip())
        domain.write_text(good.replace("Hello from version one.", "Hello from version two."))
        response = await client.post("/model/reload")
        assert response.status == 200 and (await response.json())["changed"] is True
        assert await greet() == "Hello from version two."


def _load_in_fresh_process(archive, cache_dir) -> str:
    """Load the model and the knowledge encoder as a server does: (intent, sentence-transformers loaded,
    torch loaded)."""
    code = ("import sys; from bot.model_archive import load; m = load(sys.argv[1]); "
            "from bot.knowledge.encoder import get_encoder; get_encoder().encode(['do you ship to Canada']); "
            "print(m.interpreter.parse('where is order 472918')['intent']['name'], "
            "'sentence_transformers' in sys.modules, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(archive)], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "HELPLINE_CACHE_DIR": str(cache_dir)}, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_serving_exports_the_encoder_once_then_loads_it_from_the_cache(demo_archive, tmp_path):
    cache = tmp_path / "cache"
    assert _load_in_fresh_process(demo_archive, cache) == "check_order_status True True"  # exported: base model
    assert len(list(cache.glob("*.onnx"))) == 2  # the classifier's and the knowledge encoder's
    assert _load_in_fresh_process(demo_archive, cache) == "check_order_status False False"  # cached: no torch
