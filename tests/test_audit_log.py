"""Every audited act leaves one JSON line in <data_dir>/audit.log saying who, when, what and from where.

Sign-ins and failed sign-ins, model swaps (done and refused) and reloads, tracker edits (done and
refused) and actions run through the API, a desk transfer and hang-up, and a verification lockout,
all on the real app with the real demo users, the real desk WebSocket and the app's own lockout guard.
"""
from __future__ import annotations

import json
import time

import pytest

from bot.security import lockout
from helpline.app import AGENT_BRIDGE
from tests.auth_support import API_HEADERS, sign_in
from tests.app_support import demo_app_client
from tests.handoff_support import RecordedCallerLeg
from tests.test_handoff_flow import CALLER, login, next_event


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    async with demo_app_client(demo_archive, tmp_path, monkeypatch) as test_client:
        yield test_client


def entries(client) -> list[dict]:
    return [json.loads(line) for line in (client.data_dir / "audit.log").read_text().splitlines()]


def the_entry(client, action: str, **details) -> dict:
    """The one line for ``action`` with ``details``; it says who, when and from where."""
    found = [e for e in entries(client) if e["action"] == action and all(e.get(k) == v for k, v in details.items())]
    assert len(found) == 1, (action, details, entries(client))
    entry = found[0]
    assert entry["who"] and entry["from"] and abs(entry["ts"] - time.time()) < 300, entry
    return entry


async def test_each_audited_act_leaves_a_line(client):
    # Sign-ins.
    headers = await sign_in(client, "erin")
    assert the_entry(client, "login", who="erin")["from"] == "127.0.0.1"
    assert (await client.post("/auth/login", json={"username": "erin", "password": "guess"})).status == 401
    the_entry(client, "login_failed", who="erin")
    headers = await sign_in(client, "erin")

    # Model swaps and reloads.
    assert (await client.put("/model", json={"model_file": "/etc/passwd"}, headers=headers)).status == 400
    the_entry(client, "model_swap_refused", who="erin", route="/model")
    version = (await (await client.get("/models")).json())["versions"][0]["version"]
    assert (await client.post(f"/models/{version}/activate", json={}, headers=headers)).status == 200
    the_entry(client, "model_activated", who="erin", version=version)
    assert (await client.post("/model/reload", json={}, headers=headers)).status == 200
    the_entry(client, "model_reload", who="erin", ok=True)

    # Tracker edits and actions run through the API.
    events = [{"event": "action", "name": "action_listen"}]
    assert (await client.post("/conversations/a1/tracker/events", json=events, headers=headers)).status == 200
    assert the_entry(client, "tracker_edited", who="erin", conversation="a1")["events"] == ["ActionExecuted"]
    forged = [{"event": "slot", "name": "verified", "value": True}]
    assert (await client.post("/conversations/a1/tracker/events", json=forged, headers=headers)).status == 400
    assert the_entry(client, "tracker_edit_refused", who="erin", conversation="a1")["slots"] == ["verified"]
    assert (await client.post("/conversations/a1/execute", json={"name": "utter_greet"}, headers=headers)).status == 200
    the_entry(client, "action_executed", who="erin", conversation="a1", name="utter_greet")

    # A transfer and a hang-up at the desk.
    for sender in ("t1", "t2"):
        for text in ("where is my order 472918", "i want to talk to a person"):
            response = await client.post("/webhooks/rest/webhook", headers=API_HEADERS,
                                         json={"sender": sender, "message": text, "metadata": CALLER})
            assert response.status == 200
        await client.server.app[AGENT_BRIDGE].caller_joined(RecordedCallerLeg(sender))
    socket = await login(client, "alice")
    await socket.send_json({"type": "state", "state": "available"})
    for sender, command in (("t1", {"type": "transfer", "queue": "billing"}), ("t2", {"type": "hangup"})):
        offer = await next_event(socket, "offer")
        assert offer["call"]["id"] == sender
        await socket.send_json({"type": "accept", "call_id": sender})
        await next_event(socket, "call")
        await socket.send_json({**command, "call_id": sender})
        assert (await next_event(socket, "ack"))["ok"] is True
        await socket.send_json({"type": "state", "state": "available"})  # after wrap-up
    await socket.close()
    assert the_entry(client, "call_transferred", who="alice", call="t1")["queue"] == "billing"
    the_entry(client, "call_hung_up", who="alice", call="t2", ok=True)

    # A verification lockout, through the guard the app wired.
    guard = lockout.current()
    for _ in range(guard.policy.max_failures):
        await guard.failed("C004", "call-77")
    locked = the_entry(client, "verification_locked", who="customer:C004")
    assert locked["from"] == "call-77" and locked["failures"] == guard.policy.max_failures

    # Lines are private to the server's user and hold no password.
    audit_log = client.data_dir / "audit.log"
    assert audit_log.stat().st_mode & 0o077 == 0
    assert "guess" not in audit_log.read_text() and "northwind" not in audit_log.read_text()
