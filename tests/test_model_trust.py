"""Model archives are trusted only from the models folder's registry or a signature; none holds a pickle.

The attack this guards against: ``PUT /model {"model_file": ANY_PATH}`` loaded any file on the host,
and an archive whose ``tfidf.joblib`` was a crafted pickle ran code, while the answer told whether the
file existed.
"""
from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.model_archive import ModelLoadError, load
from bot.model_registry import ModelRegistry, signature, signature_file
from helpline.app import build_app
from helpline.security.secrets import load_secrets
from tests.auth_support import use_api_token
from tests.conftest import ROOT
from tests.model_support import install_archive

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


class _Payload:
    """Unpickling this runs a shell command: what an attacker's ``tfidf.joblib`` would hold."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def crafted_archive(demo_archive: Path, target: Path, marker: Path) -> Path:
    """The demo archive with its tf-idf member (and one more ``.pkl`` member) replaced by the payload."""
    payload = pickle.dumps(_Payload(marker))
    with tarfile.open(demo_archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name.endswith(".joblib"):
                data = payload
            if data is not None:
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
            else:
                out.addfile(member)
        extra = tarfile.TarInfo("nlu/extra.pkl")
        extra.size = len(payload)
        out.addfile(extra, io.BytesIO(payload))
    return target


def test_the_payload_is_live(demo_archive, tmp_path):
    """Control: unpickled, the crafted member does run code, so the refusals below mean something."""
    control = tmp_path / "control-marker"
    crafted = crafted_archive(demo_archive, tmp_path / "crafted.tar.gz", control)
    with tarfile.open(crafted) as tar:
        payload = tar.extractfile("nlu/extra.pkl").read()
    subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=payload, check=True, timeout=60)
    assert control.exists()


def test_load_refuses_a_crafted_archive_and_runs_no_code(demo_archive, tmp_path):
    marker = tmp_path / "pwned"
    outside = crafted_archive(demo_archive, tmp_path / "crafted.tar.gz", marker)
    with pytest.raises(ModelLoadError, match="not a trusted model archive"):
        load(outside)
    # planted over a registered version: the bytes no longer hash to what training recorded
    models = tmp_path / "models"
    version = install_archive(demo_archive, models)
    planted = models / f"{version}.tar.gz"
    planted.write_bytes(outside.read_bytes())
    with pytest.raises(ModelLoadError, match="not a trusted model archive"):
        load(planted)
    # signed with another key than the server's
    signature_file(outside).write_text(signature(outside.read_bytes(), "not-the-server-key"))
    with pytest.raises(ModelLoadError, match="not a trusted model archive"):
        load(outside, secret_key="the-server-key")
    assert not marker.exists()


@pytest.fixture
async def server(demo_archive, tmp_path, monkeypatch):
    models = tmp_path / "models"
    install_archive(demo_archive, models)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(models))
    headers = use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(ROOT)), headers=headers) as client:
        yield client, models, tmp_path


async def test_put_model_gives_one_refusal_for_missing_outside_and_unknown_files(server, demo_archive):
    client, models, tmp_path = server
    marker = tmp_path / "pwned"
    crafted = crafted_archive(demo_archive, tmp_path / "crafted.tar.gz", marker)
    (models / "planted.tar.gz").write_bytes(crafted.read_bytes())
    (models / "link.tar.gz").symlink_to(crafted)
    forged = tmp_path / "forged.tar.gz"
    forged.write_bytes(crafted.read_bytes())
    signature_file(forged).write_text("0" * 64)
    before = (await (await client.get("/status")).json())["fingerprint"]
    answers = set()
    for requested in [str(crafted), str(tmp_path / "missing.tar.gz"), str(models / "planted.tar.gz"),
                      "planted.tar.gz", str(models / "link.tar.gz"), f"{models}/../crafted.tar.gz",
                      "../crafted.tar.gz", str(forged), "/etc/passwd", "/etc", "/dev/zero", "20990101-000000-x",
                      "", str(models / "registry.json")]:
        response = await client.put("/model", json={"model_file": requested})
        assert response.status == 400, requested
        body = await response.json()
        answers.add(body["message"])
    assert len(answers) == 1, answers
    assert "models folder" in answers.pop()
    assert not marker.exists()
    assert (await (await client.get("/status")).json())["fingerprint"] == before


async def test_put_model_loads_a_registered_version_or_a_signed_archive(server, demo_archive):
    client, models, tmp_path = server
    version = ModelRegistry(models).versions()[0].version
    for requested in (version, f"{version}.tar.gz", str(models / f"{version}.tar.gz")):
        response = await client.put("/model", json={"model_file": requested})
        assert response.status == 200, await response.text()
        assert (await response.json())["version"] == version
    # an archive from elsewhere (say, trained on a build machine), signed with this server's key
    elsewhere = tmp_path / "build" / "model.tar.gz"
    elsewhere.parent.mkdir()
    repacked(demo_archive, elsewhere)
    signature_file(elsewhere).write_text(signature(elsewhere.read_bytes(),
                                                   load_secrets(tmp_path / "data").secret_key))
    response = await client.put("/model", json={"model_file": str(elsewhere)})
    assert response.status == 200, await response.text()
    listing = await (await client.get("/models")).json()
    imported = next(v for v in listing["versions"] if v["source"].startswith("signed archive"))
    assert listing["active"] == imported["version"] and (models / imported["file"]).read_bytes() == \
        elsewhere.read_bytes()


def repacked(archive: Path, target: Path) -> None:
    """The same model in new bytes (its manifest gains a note), as another build of it would be."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == "manifest.json":
                data = data.replace(b"{", b'{"note": "built elsewhere", ', 1)
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if data is not None else None)


def _is_pickle(data: bytes) -> bool:
    """Pickle protocols 2-5 open with PROTO (0x80, version); joblib writes such a stream."""
    return len(data) > 1 and data[0] == 0x80 and 2 <= data[1] <= 5


def test_no_member_of_a_freshly_trained_demo_archive_is_a_pickle(demo_archive):
    pickles = []
    with tarfile.open(demo_archive) as tar:
        for member in tar.getmembers():
            if member.isfile():
                head = tar.extractfile(member).read(2)
                if _is_pickle(head) or member.name.endswith(PICKLE_SUFFIXES):
                    pickles.append(member.name)
    assert not pickles, f"pickled members in the model archive: {pickles}"


def test_the_caches_serving_builds_hold_no_pickle(demo_archive, tmp_path, monkeypatch):
    """The exported encoder graph (HELPLINE_CACHE_DIR) and the knowledge index (models/knowledge)."""
    from bot.knowledge.base import KnowledgeBase
    from bot.training_data.project import load_project
    from helpline.settings import load_settings

    monkeypatch.setenv("HELPLINE_CACHE_DIR", str(tmp_path / "cache"))
    load(demo_archive)
    config = load_settings(ROOT, load_project(ROOT).config).config
    knowledge = KnowledgeBase.for_project(ROOT, config.knowledge, tmp_path / "models")
    assert knowledge.reload().ok
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".onnx" for p in files) and any("knowledge" in p.parts for p in files)
    pickles = [str(p) for p in files if _is_pickle(p.read_bytes()[:2]) or p.name.endswith(PICKLE_SUFFIXES)]
    assert not pickles, pickles
