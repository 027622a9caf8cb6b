"""Every route of the real app against every kind of visitor: the access table is what the server does.

The routes come from the app's own router, so a route added without a rule in
``helpline.security.routes.ACCESS`` fails here (and is refused to everyone at run time).
"""
from __future__ import annotations

import re

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from bot.security.principal import ADMIN, AGENT, EDITOR, SUPERVISOR
from helpline.app import build_app
from helpline.security.routes import ACCESS, rule_for
from tests.auth_support import sign_in
from tests.conftest import ROOT

USERS = {AGENT: "alice", SUPERVISOR: "sam", EDITOR: "erin", ADMIN: "admin"}
VISITORS = ["anonymous", *USERS]
STATIC_FILES = {"/handoff/static": "/handoff/static/desk.js", "/softphone/static": "/softphone/static/softphone.js",
                "/auth/static": "/auth/static/login.js", "/editor/static": "/editor/static/editor.js"}


def app_routes(app) -> list[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        routes.add((route.method, route.resource.canonical))
    return sorted(routes)


def concrete(path: str) -> str:
    return STATIC_FILES.get(path, re.sub(r"\{\w+\}", "route-test", path))


async def refusal(response) -> str:
    """The access layer's answer (302, 401, 403) or 'open' when the request reached its handler."""
    if response.status == 302:
        return "302"
    if response.status in (401, 403) and response.content_type == "application/json":
        if (await response.json()).get("reason") in ("NotAuthenticated", "NotAuthorized", "Forbidden"):
            return str(response.status)
    return "open"


def expected(rule, visitor: str) -> str:
    """'open' (the handler answers), or the refusal: 401, 403 or 302 (a page sends browsers to sign in)."""
    if rule.public:
        return "open"
    if rule.carrier:
        return "401"  # only the carrier's credential opens a telephony route
    if visitor == "anonymous":
        return "302" if rule.page else "401"
    return "open" if visitor == ADMIN or visitor in rule.roles else "403"


@pytest.fixture
def app(demo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    return build_app(ROOT, demo_archive)


def test_every_route_has_a_rule_and_every_rule_a_route(app):
    routes = app_routes(app)
    missing = [route for route in routes if rule_for(*route) is None]
    assert not missing, f"routes without an access rule in helpline/security/routes.py: {missing}"
    stale = sorted(set(ACCESS) - set(routes))
    assert not stale, f"rules for routes the app does not have: {stale}"


async def test_each_visitor_gets_what_the_table_says(app):
    outcomes = {}
    async with TestClient(TestServer(app)) as client:
        for visitor in VISITORS:
            client.session.cookie_jar.clear()
            headers = await sign_in(client, USERS[visitor]) if visitor in USERS else {}
            for method, path in app_routes(app):
                if (method, path) == ("POST", "/auth/logout"):
                    continue  # would end the visitor's session; checked below
                response = await client.request(method, concrete(path), json={} if method != "GET" else None,
                                                headers=headers, allow_redirects=False)
                got = await refusal(response)
                assert response.status < 500, (visitor, method, path, response.status, await response.text())
                outcomes[(visitor, method, path)] = (got, expected(rule_for(method, path), visitor))
            logout = await client.post("/auth/logout", json={}, headers=headers)
            assert logout.status == (200 if visitor in USERS else 401)
    wrong = {key: value for key, value in outcomes.items() if value[0] != value[1]}
    assert not wrong, f"(visitor, method, route): (got, expected) {wrong}"


async def test_health_reveals_nothing_and_pages_carry_security_headers(app):
    async with TestClient(TestServer(app)) as client:
        health = await (await client.get("/health")).json()
        assert set(health) == {"status"}
        page = await client.get("/login")
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_only_supervisors_open_the_live_monitoring_line(app):
    """A WebSocket upgrade goes through the same table: an agent cannot listen in on a colleague's call."""
    async with TestClient(TestServer(app)) as client:
        for user, status in (("alice", 403), ("erin", 403)):
            client.session.cookie_jar.clear()
            await sign_in(client, user)
            with pytest.raises(WSServerHandshakeError) as refused:
                await client.ws_connect("/supervisor/ws")
            assert refused.value.status == status
        client.session.cookie_jar.clear()
        await sign_in(client, "sam")
        async with client.ws_connect("/supervisor/ws") as line:
            await line.send_json({"type": "monitor", "call_id": "no-such-call", "mode": "listen"})
            assert (await line.receive_json(timeout=5)) == {"type": "error",
                                                           "error": "no-such-call is not a call with an agent"}
