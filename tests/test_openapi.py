"""docs/openapi.yaml against the real server: it names every route the router has, and schemathesis,
signed in as each role, gets no 500 and only answers the spec describes.

The schemathesis run talks to `helpline run` in a subprocess (real sockets, real models) over a
project whose data folder is a copy, so that an editor's example it might add lands in the copy.
Each operation is fuzzed (positive and negative cases) as the least-privileged visitor that reaches
its handler, and tried once as every other visitor; schemathesis's random sign-ins stay under the
per-address throttle, so the roles' own sign-ins keep working. Cases run per role: BENCHMARKS.md.
"""
from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from ruamel.yaml import YAML
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)

from helpline.app import build_app
from helpline.security.middleware import COOKIE
from helpline.security.routes import rule_for
from tests.auth_support import DEMO_PASSWORD
from tests.conftest import ROOT
from tests.scale_support import ServerProcess, free_port
from tests.test_route_access import app_routes, expected

SPEC = ROOT / "docs" / "openapi.yaml"
STATIC_PREFIXES = {"/handoff/static", "/softphone/static", "/auth/static", "/editor/static"}
ROLES = {"anonymous": None, "agent": "alice", "supervisor": "sam", "editor": "erin", "admin": "admin"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 7, GenerationMode.NEGATIVE: 3}
CREDENTIAL_HEADERS = {"authorization", "x-csrf-token"}
FEWER = {("POST", "/model/reload"): 2}  # validates the whole project each time (seconds on 2 cores)


def spec_routes() -> set[tuple[str, str]]:
    paths = YAML(typ="safe").load(SPEC.read_text())["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item
            if method in ("get", "post", "put", "delete", "patch")}


def as_spec_path(path: str) -> str:
    """A static folder's route is its prefix in the router and ``<prefix>/{filename}`` in the spec."""
    return f"{path}/{{filename}}" if path in STATIC_PREFIXES else path


def test_the_spec_names_every_route_and_nothing_else(demo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    served = {(method, as_spec_path(path)) for method, path in app_routes(build_app(ROOT, demo_archive))}
    described = spec_routes()
    assert not served - described, f"routes missing from docs/openapi.yaml: {sorted(served - described)}"
    assert not described - served, f"docs/openapi.yaml describes routes the app lacks: {sorted(described - served)}"


def fuzz_project(folder: Path) -> Path:
    """The demo project as links, its data folder a copy (where an editor's example would land).
    config.yml is the repository's own, so the model is the session's demo model (same fingerprint:
    ``POST /model/reload`` finds nothing to retrain)."""
    folder.mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name not in (".helpline", ".git", ".venv", "endpoints.yml", "models", "nlu_data"):
            (folder / entry.name).symlink_to(entry)
    shutil.copytree(ROOT / "nlu_data", folder / "nlu_data")  # config.yml's data folder
    return folder


@pytest.fixture(scope="module")
def server(demo_archive, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openapi")
    process = ServerProcess(fuzz_project(tmp / "project"), tmp / "data", demo_archive,
                            env={"HELPLINE_SIP_PORT": str(free_port())})
    deadline = time.time() + 300
    try:
        while True:
            try:
                parsed = requests.post(f"http://127.0.0.1:{process.port}/model/parse", json={"text": "hi"},
                                       timeout=5, headers={"Authorization": f"Bearer {process.token}"})
                # Ready too (speech models loaded): a correct 503 from /ready would count as a server error.
                if parsed.status_code == 200 and requests.get(f"http://127.0.0.1:{process.port}/ready",
                                                              timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"server did not start; log: {process.log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield process
    finally:
        process.stop()


class Visitor:
    """A requests session signed in as one demo user (or none), signing in again after a sign-out."""

    def __init__(self, base: str, user: str | None):
        self.base, self.user = base, user
        self.session = requests.Session()
        self.sign_in()

    def sign_in(self) -> None:
        self.session.cookies.clear()
        self.session.headers.pop("X-CSRF-Token", None)
        if self.user is None:
            return
        answer = self.session.post(f"{self.base}/auth/login", json={"username": self.user, "password": DEMO_PASSWORD})
        assert answer.status_code == 200, answer.text
        self.session.headers["X-CSRF-Token"] = answer.json()["csrf_token"]


def owner(method: str, spec_path: str) -> str:
    """The least-privileged visitor whose requests reach the operation's handler (anonymous when none does,
    as for the telephony routes): it gets the full fuzz; the others one case each, to check their answer."""
    rule = rule_for(method, spec_path.removesuffix("/{filename}"))
    return next((role for role in ROLES if expected(rule, role) == "open"), "anonymous")


def signed_in_only(case, visitor: Visitor) -> None:
    """Drop the credentials schemathesis made up, so the visitor's own session speaks (anonymous keeps them:
    garbage tokens and cookies must be refused cleanly too)."""
    if visitor.user is not None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in CREDENTIAL_HEADERS}
        case.cookies = {k: v for k, v in (case.cookies or {}).items() if k != COOKIE}


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_as_each_role(server, role):
    base = f"http://127.0.0.1:{server.port}"
    schema = schemathesis.openapi.from_path(SPEC)
    visitor = Visitor(base, ROLES[role])
    cases, statuses = Counter(), Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        budget = EXAMPLES if owner(*key) == role else {GenerationMode.POSITIVE: 1}
        for mode, examples in budget.items():

            @settings(max_examples=FEWER.get(key, examples), deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                signed_in_only(case, visitor)
                response = case.call(base_url=base, session=visitor.session, timeout=60, allow_redirects=False)
                cases[key] += 1
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS)
                if key == ("POST", "/auth/logout") and response.status_code == 200:
                    visitor.sign_in()

            try:
                run()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, key  # nothing in the operation can be made invalid
    print(f"\nschemathesis as {role}: {sum(cases.values())} cases, {len(cases)} operations; "
          f"fuzzed: {sum(n for k, n in cases.items() if owner(*k) == role)} cases, "
          f"{sum(owner(*k) == role for k in cases)} operations; statuses {dict(sorted(statuses.items()))}")
    assert len(cases) == len(spec_routes())
    assert 500 not in statuses
    if role != "anonymous":  # signed in: the role's own routes answer, the others refuse it
        assert statuses[200] > 0 and (role == "admin" or statuses[403] > 0)
