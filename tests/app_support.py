"""The demo app on a real HTTP server for in-process tests: its data in a folder of the test's own."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from helpline.app import build_app
from tests.auth_support import use_api_token
from tests.conftest import ROOT


@asynccontextmanager
async def demo_app_client(demo_archive: Path, tmp_path: Path, monkeypatch):
    """A client of the demo app, not signed in, with the API token set and data under ``tmp_path/data``.

    The client's ``data_dir`` attribute says where the app writes (audit log, stores).
    """
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    use_api_token(monkeypatch)
    async with TestClient(TestServer(build_app(ROOT, demo_archive))) as client:
        client.data_dir = tmp_path / "data"
        yield client
