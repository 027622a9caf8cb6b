"""From the bot's escalation to the agent's desk, over real HTTP and WebSocket connections.

The demo bot (real NLU) escalates through the Rasa REST channel; the ACD on
SQLite queues the call; an agent's desk WebSocket gets the offer with the
summary, accepts it, and hears the caller (a real recording through the bridge).
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import jsonschema
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer

from bot.channels.rest import PROCESSOR_KEY
from bot.core.escalation import EscalationPolicy
from handoff.acd import ACD
from handoff.announcements import CALLBACK_TAKEN, REQUEUED
from handoff.bridge import ACDAgentBridge
from handoff.config import HandoffConfigError, load_handoff_settings
from handoff.desk import DeskHub
from handoff.model import CONNECTED, WAITING, QueuedCall, QueueConfig
from handoff.store.sqlite_store import SqliteStore
from helpline.app import AGENT_BRIDGE
from tests.auth_support import API_HEADERS, sign_in
from tests.app_support import demo_app_client
from tests.conftest import ROOT
from tests.handoff_support import RecordedCallerLeg, receive_audio, speech_pcm16, stream_speech

SCHEMA = json.loads((ROOT / "docs" / "handoff_summary.schema.json").read_text())
CALLER = {"caller_number": "+15551230001"}


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    async with demo_app_client(demo_archive, tmp_path, monkeypatch) as test_client:
        yield test_client


async def say(client, sender: str, text: str) -> str:
    """A caller's turn from the channel client (its API token vouches for the caller ID)."""
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text,
                                                                 "metadata": CALLER}, headers=API_HEADERS)
    assert response.status == 200
    return " ".join(m.get("text", "") for m in await response.json())


def acd_of(client) -> ACD:
    return client.server.app[PROCESSOR_KEY].handoff.acd


async def login(client, agent_id: str = "alice"):
    await sign_in(client, agent_id)
    socket = await client.ws_connect("/desk/ws")
    assert (await socket.receive_json())["type"] == "hello"
    return socket


async def next_event(socket, kind: str, timeout: float = 10.0) -> dict:
    """The next JSON event of ``kind`` (others, and audio, are skipped)."""
    async def wait() -> dict:
        while True:
            message = await socket.receive()
            if message.type == WSMsgType.TEXT and json.loads(message.data)["type"] == kind:
                return json.loads(message.data)
            assert message.type in (WSMsgType.TEXT, WSMsgType.BINARY), message
    return await asyncio.wait_for(wait(), timeout)


async def test_rest_escalation_queues_the_call_with_reason_intents_and_slots(client):
    await say(client, "h1", "where is my order 472918")
    reply = await say(client, "h1", "agent please")
    assert "connect you" in reply and "in line" in reply  # the port's outcome: position and wait
    call = await acd_of(client).store.get_call("h1")
    assert (call.state, call.queue, call.reason, call.caller_number) == (WAITING, "orders", "caller_request",
                                                                          "+15551230001")
    summary = call.summary
    jsonschema.validate(summary, SCHEMA)
    assert summary["intents"] == ["check_order_status", "talk_to_agent"]
    assert summary["slots"]["order_number"] == "472918" and summary["orders_looked_up"] == ["472918"]
    assert summary["caller"]["number"] == "+15551230001" and not summary["caller"]["verified"]
    assert "472918" in summary["text"] and "caller request" in summary["text"]


async def test_failed_verification_summary_masks_the_pins(client):
    await say(client, "h2", "what's my account balance")
    for pin in ("1111", "1112", "1113"):
        await say(client, "h2", pin)
    call = await acd_of(client).store.get_call("h2")
    assert (call.reason, call.queue) == ("failed_verification", "billing")
    jsonschema.validate(call.summary, SCHEMA)
    dumped = json.dumps(call.summary)
    assert not any(pin in dumped for pin in ("1111", "1112", "1113"))
    assert "[redacted]" in [line["text"] for line in call.summary["transcript"] if line["speaker"] == "caller"]
    assert call.summary["intents"][0] == "check_balance"


async def test_desk_gets_the_offer_accepts_hears_the_caller_and_a_drop_requeues(client):
    acd, bridge = acd_of(client), client.server.app[AGENT_BRIDGE]
    socket = await login(client, "alice")
    await socket.send_json({"type": "state", "state": "away"})  # not yet: the call must wait for us
    await say(client, "h3", "where is my order 472918")
    await say(client, "h3", "i want to talk to a person")
    leg = RecordedCallerLeg("h3")
    await bridge.caller_joined(leg)
    assert leg.said and "in line" in leg.said[0] and leg.holds == 1

    await socket.send_json({"type": "state", "state": "available"})
    offer = await next_event(socket, "offer")
    assert offer["call"]["id"] == "h3" and offer["call"]["summary"]["slots"]["order_number"] == "472918"
    await socket.send_json({"type": "accept", "call_id": "h3"})
    assert (await next_event(socket, "call"))["call"]["state"] == CONNECTED
    await leg.wait_for(lambda: "Connecting you now." in leg.said)

    speech = speech_pcm16()[:16000 * 2]  # one second of a real recording
    await stream_speech(bridge, "h3", speech)
    assert await receive_audio(socket, len(speech)) == speech
    await socket.send_bytes(b"\x01\x02" * 160)  # the agent speaks
    await leg.wait_for(lambda: len(leg.agent_audio) == 320)

    await socket.close()  # the agent's browser dies mid-call
    await leg.wait_for(lambda: REQUEUED in leg.said)
    call = await acd.store.get_call("h3")
    assert (call.state, call.head, call.agent_id) == (WAITING, True, None)
    assert (await acd.position("h3"))[0] == 1
    assert (await acd.store.get_agent("alice")).state == "offline"


async def test_caller_hang_up_while_queued_is_abandoned_and_shows_on_the_supervisor_page(client):
    bridge = client.server.app[AGENT_BRIDGE]
    await say(client, "h4", "operator")
    await bridge.caller_joined(RecordedCallerLeg("h4"))
    await bridge.caller_left("h4", "hangup")
    assert await acd_of(client).store.get_call("h4") is None
    assert (await client.get("/supervisor/api/stats")).status == 401
    await sign_in(client, "sam")
    stats = await (await client.get("/supervisor/api/stats")).json()
    assert stats["kpis"]["abandonment_rate"] == 1.0
    assert stats["kpis"]["escalations_by_reason"] == {"caller_request": 1}
    assert stats["kpis"]["ivr_containment"] == 0.0
    never = [agent for agent in stats["agents"] if agent["state"] == "offline" and agent["since"] is None]
    assert never and all(agent["since"] is None or agent["since"] < 3600 for agent in stats["agents"])
    for page, status in (("/supervisor", 200), ("/handoff/static/desk.js", 200), ("/desk", 403)):
        assert (await client.get(page, allow_redirects=False)).status == status  # sam is no agent


async def test_wrong_password_and_bad_commands_are_refused(client):
    response = await client.post("/auth/login", json={"username": "alice", "password": "nope"})
    assert response.status == 401
    socket = await login(client, "bob")
    await socket.send_str("not json")
    assert (await next_event(socket, "error"))["error"].startswith("commands are JSON")
    await socket.send_json({"type": "transfer", "queue": "nowhere"})
    assert (await next_event(socket, "ack"))["ok"] is False
    await socket.close()


async def test_callback_offer_at_max_wait_then_keypad_one_keeps_the_request(tmp_path):
    now = [1000.0]
    store = SqliteStore(tmp_path / "acd.sqlite3")
    acd = ACD(store, [QueueConfig("orders", "orders", max_wait=60, announce_interval=3600)], clock=lambda: now[0])
    bridge = ACDAgentBridge(acd, DeskHub(), tmp_path / "voicemail")
    await acd.enqueue(QueuedCall("cb1", "orders", "orders", "caller_request", "+15551230001",
                                 summary={"text": "Wants a refund for order 472918."}))
    leg = RecordedCallerLeg("cb1")
    await bridge.caller_joined(leg)
    now[0] += 61
    await acd.tick()
    await leg.wait_for(lambda: any("Press 1" in s for s in leg.said))
    await bridge.caller_dtmf("cb1", "1")
    assert leg.hung_up == "callback" and CALLBACK_TAKEN in leg.said
    callbacks = await SqliteStore(tmp_path / "acd.sqlite3").records("callback")
    assert [(c["number"], c["request"]) for c in callbacks] == [("+15551230001", "Wants a refund for order 472918.")]
    await bridge.caller_left("cb1", "hangup")
    assert [r["state"] for r in await store.records("call")] == ["callback"]


def state(*turns: tuple[str, str, float], slots: dict | None = None, metadata: dict | None = None) -> dict:
    events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}},
               "metadata": metadata or {}} for text, intent, confidence in turns]
    return {"events": events, "slots": slots or {}}


POLICY = EscalationPolicy.from_config({
    "intents": {"talk_to_agent": "caller_request"}, "consecutive_fallbacks": 3,
    "low_confidence": {"threshold": 0.5, "times": 3}, "knowledge_misses": 2, "frustration": {"negations": 3},
    "vip": {"numbers": ["+15550000001"], "direct": True},
    "skills": {"check_order_status": "orders", "check_balance": "billing", "default": "general"}})


@pytest.mark.parametrize("conversation, reason", [
    (state(("hi", "greet", 0.9)), None),
    (state(("agent", "talk_to_agent", 1.0)), "caller_request"),
    (state(("x", "nlu_fallback", 0.2), ("y", "nlu_fallback", 0.3), ("z", "nlu_fallback", 0.2)), "repeated_fallback"),
    (state(("x", "nlu_fallback", 0.2), ("hi", "greet", 0.9), ("z", "nlu_fallback", 0.2)), None),
    (state(("a", "greet", 0.45), ("b", "inform", 0.4), ("c", "greet", 0.49)), "low_confidence"),
    (state(("this is useless", "complaint", 0.9)), "frustration"),
    (state(("no", "deny", 0.9), ("no that's wrong", "deny", 0.8), ("nope", "deny", 0.9)), "frustration"),
    (state(("hello", "greet", 0.9), metadata={"caller_number": "+15550000001"}), "vip"),
])
def test_escalation_triggers(conversation, reason):
    assert POLICY.reason(conversation) == reason


def test_knowledge_misses_and_skill_routing():
    conversation = state(("how do returns work", "out_of_scope", 0.9), ("and refunds", "out_of_scope", 0.9))
    conversation["events"].insert(1, {"event": "slot", "name": "knowledge_outcome", "value": "miss"})
    assert POLICY.reason(conversation) is None
    conversation["events"].append({"event": "slot", "name": "knowledge_outcome", "value": "miss"})
    assert POLICY.reason(conversation) == "knowledge_miss"
    assert POLICY.skill_for(state(("where is it", "check_order_status", 0.9), ("agent", "talk_to_agent", 1))) \
        == "orders"
    assert POLICY.skill_for(state(("hi", "greet", 0.9))) == "general"
    assert POLICY.skill_for(state(("hi", "greet", 0.9), slots={"knowledge_skill": "billing"})) == "billing"


async def test_port_posts_the_summary_to_the_crm_webhook_and_vips_go_first(tmp_path):
    from aiohttp import web

    from bot.core.handoff_port import HandoffRequest
    from handoff.port import ACDHandoffPort

    received: list[dict] = []

    async def crm(request):
        received.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hooks/handoff", crm)
    async with TestServer(app) as server:
        acd = ACD(SqliteStore(tmp_path / "acd.sqlite3"), [QueueConfig("general", "general")])
        port = ACDHandoffPort(acd, POLICY, {"pin"}, vip_priority=10, webhook=str(server.make_url("/hooks/handoff")))
        regular = state(("help me", "greet", 0.9), metadata={"caller_number": "+15551112222"})
        vip = state(("hello", "greet", 0.9), metadata={"caller_number": "+15550000001"})
        first = await port.request_handoff(HandoffRequest("p1", "caller_request", {**regular, "sender_id": "p1"}))
        second = await port.request_handoff(HandoffRequest("p2", "vip", {**vip, "sender_id": "p2"}))
        assert first.accepted and second.accepted and "in line" in first.message
        assert (await acd.position("p2"))[0] == 1 and (await acd.position("p1"))[0] == 2
        again = await port.request_handoff(HandoffRequest("p1", "caller_request", {**regular, "sender_id": "p1"}))
        assert again.message == "You are number 2 in line. Our team will be with you as soon as someone is free."
        await asyncio.wait_for(asyncio.gather(*port._webhook_tasks), 5)
    assert [r["summary"]["call_id"] for r in received] == ["p1", "p2"]
    assert received[1]["summary"]["caller"]["vip"] is True
    jsonschema.validate(received[0]["summary"], SCHEMA)


def test_counts_start_afresh_after_the_agent_resumes_the_bot():
    conversation = state(("a", "greet", 0.45), ("b", "inform", 0.4), ("c", "greet", 0.49))
    assert POLICY.reason(conversation) == "low_confidence"
    conversation["events"].append({"event": "resume"})
    conversation["events"] += state(("d", "greet", 0.3))["events"]
    assert POLICY.reason(conversation) is None


@dataclass
class TransferringLeg(RecordedCallerLeg):
    """A caller leg whose transport can blind-transfer (SIP): the target takes the call or not."""
    target_answers: bool = True
    transferred_to: list[str] = field(default_factory=list)

    async def transfer(self, uri: str) -> bool:
        self.transferred_to.append(uri)
        return self.target_answers


async def test_a_queue_with_transfer_to_sends_callers_there_and_queues_them_when_it_fails(tmp_path):
    store = SqliteStore(tmp_path / "acd.sqlite3")
    acd = ACD(store, [QueueConfig("general", "general", transfer_to="sip:600@pbx.example.com", announce_interval=3600)])
    bridge = ACDAgentBridge(acd, DeskHub({}), tmp_path / "voicemail")
    for call_id in ("t1", "t2"):
        await acd.enqueue(QueuedCall(call_id, "general", "general", "caller_request", "+15551230001"))
    gone, refused = TransferringLeg("t1"), TransferringLeg("t2", target_answers=False)
    await bridge.caller_joined(gone)
    assert gone.transferred_to == ["sip:600@pbx.example.com"] and gone.hung_up == "transferred"
    assert "t1" not in bridge.legs
    await bridge.caller_left("t1", "transferred")  # the gateway reports the leg closed
    await bridge.caller_joined(refused)  # the PBX refused: the caller waits for the desk instead
    assert refused.transferred_to and refused.hung_up is None and "t2" in bridge.legs
    assert (await store.get_call("t2")).state == "waiting"
    assert [(r["id"], r["state"]) for r in await store.records("call")] == [("t1", "transferred")]
    await bridge.close()


def test_transfer_to_must_be_a_sip_uri():
    with pytest.raises(HandoffConfigError, match="transfer_to"):
        load_handoff_settings({"queues": [{"name": "general", "transfer_to": "tel:600"}]})
