"""The demo call centre through the Rasa REST channel, over a real HTTP connection.

The demo bot is trained once with the real NLU (MiniLM embeddings), the
server is Helpline's own app, and every turn goes over TCP as JSON.
"""
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from helpline.app import build_app
from tests.auth_support import use_api_token
from tests.conftest import ROOT

CALLER = {"caller_number": "+15551230001"}  # Maria in the seeded demo CRM; PIN 2468, born 1985-03-14


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    headers = use_api_token(monkeypatch)
    app = build_app(ROOT, demo_archive)
    async with TestClient(TestServer(app), headers=headers) as test_client:
        yield test_client


async def say(client, sender, text, metadata=CALLER) -> str:
    response = await client.post("/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text, "metadata": metadata})
    assert response.status == 200
    messages = await response.json()
    assert all(m["recipient_id"] == sender for m in messages)
    return " ".join(m.get("text", "") for m in messages).lower()


async def tracker(client, sender) -> dict:
    response = await client.get(f"/conversations/{sender}/tracker")
    assert response.status == 200
    return await response.json()


async def test_health(client):
    response = await client.get("/health")
    assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_order_status_with_digits(client):
    reply = await say(client, "o1", "where is my order 472918")
    assert "four seven two nine one eight" in reply and "ups" in reply and "arrive" in reply


async def test_order_status_with_spoken_number(client):
    reply = await say(client, "o2", "hi can you check order four seven two nine one eight")
    assert "four seven two nine one eight" in reply and "ups" in reply


async def test_order_status_number_in_a_second_turn(client):
    assert "order number" in await say(client, "o3", "what's the status of my order")
    reply = await say(client, "o3", "it's six two one eight four seven")
    assert "six two one eight four seven" in reply and "fedex" in reply
    assert (await tracker(client, "o3"))["active_loop"] == {}


async def test_keypad_digits_fill_the_order_number(client):
    await say(client, "o4", "i'd like to track a package")
    reply = await say(client, "o4", '/inform{"digits": "472918"}')
    assert "four seven two nine one eight" in reply


async def test_unknown_order_number_twice_offers_a_person(client):
    assert "couldn't find" in await say(client, "o5", "where is order 999999")
    reply = await say(client, "o5", "999998")
    assert "couldn't find" in reply and "connect you" in reply
    assert (await tracker(client, "o5"))["slots"]["handoff_reason"] == "order_not_found"


async def test_balance_after_correct_pin_and_pin_is_never_stored(client):
    assert "pin" in await say(client, "b1", "what's my account balance")
    reply = await say(client, "b1", "two four six eight")
    assert "verified" in reply and "balance is" in reply
    state = await tracker(client, "b1")
    assert state["slots"]["verified"] is True and state["slots"]["pin"] is None
    stored = json.dumps([{k: v for k, v in e.items() if k != "timestamp"} for e in state["events"]])
    assert "2468" not in stored and "two four six eight" not in stored


async def test_balance_with_date_of_birth_and_an_order_number(client):
    await say(client, "b2", "how much money is in my account")
    reply = await say(client, "b2", "march fourteenth nineteen eighty five")
    assert "balance is" not in reply and "order" in reply
    assert "balance is" in await say(client, "b2", "it's four seven two nine one eight")


async def test_wrong_pin_three_times_hands_off(client):
    await say(client, "b3", "what's my balance")
    assert "doesn't match" in await say(client, "b3", "1111")
    assert "doesn't match" in await say(client, "b3", "1112")
    reply = await say(client, "b3", "1113")
    assert "wasn't able to verify" in reply and "connect you" in reply
    state = await tracker(client, "b3")
    assert state["paused"] and state["slots"]["handoff_reason"] == "failed_verification"
    assert "balance is" not in await say(client, "b3", "2468")  # an agent has the call now


async def test_question_in_the_middle_of_verification(client):
    await say(client, "b4", "can i get my balance please")
    reply = await say(client, "b4", "what do you need that for")
    assert "make sure it's you" in reply and "pin" in reply
    assert (await tracker(client, "b4"))["active_loop"]["name"] == "verification_form"
    assert "balance is" in await say(client, "b4", "2468")


@pytest.mark.parametrize("opening", ["where is my order", "what's my balance", "hello"])
async def test_agent_at_any_point(client, opening):
    sender = f"agent-{opening}"
    await say(client, sender, opening)
    assert "connect you" in await say(client, sender, "agent please")
    state = await tracker(client, sender)
    assert state["paused"] and state["active_loop"] == {}


async def test_keypad_zero_asks_for_a_person(client):
    await say(client, "k0", "what's my balance")
    assert "connect you" in await say(client, "k0", "/talk_to_agent")


async def test_parse_endpoint(client):
    response = await client.post("/model/parse", json={"text": "where is order four seven two nine one eight"})
    result = await response.json()
    assert result["intent"]["name"] == "check_order_status"
    digits = [e for e in result["entities"] if e["entity"] == "digits"]
    assert digits and digits[0]["value"] == "472918"


@pytest.mark.parametrize("method, path", [
    ("post", "/webhooks/rest/webhook"), ("post", "/model/parse"), ("put", "/model"),
    ("post", "/conversations/x/tracker/events"), ("post", "/conversations/x/execute"),
])
async def test_malformed_json_gets_a_clear_400(client, method, path):
    response = await getattr(client, method)(path, data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400
    body = await response.json()
    assert "not valid JSON" in body["message"]


@pytest.mark.parametrize("body, message", [
    ({"sender": "x"}, "'message' must be a string"),
    ({"sender": "x", "message": 5}, "'message' must be a string"),
    ({"sender": "", "message": "hi"}, "'sender' must be a non-empty string"),
    ([1, 2], "must be a JSON object"),
])
async def test_wrong_fields_get_a_clear_400(client, body, message):
    response = await client.post("/webhooks/rest/webhook", json=body)
    assert response.status == 400 and message in (await response.json())["message"]


async def test_unknown_event_is_refused(client):
    response = await client.post("/conversations/x/tracker/events", json={"event": "teleport"})
    assert response.status == 400 and "unknown event type" in (await response.json())["message"]


async def test_bad_model_swaps_are_refused_and_the_old_model_keeps_serving(client, tmp_path, demo_archive):
    before = (await (await client.get("/status")).json())["fingerprint"]
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(b"this is not a model")
    answers = set()
    for path in (corrupt, tmp_path / "missing.tar.gz"):  # one answer: it does not tell which file exists
        response = await client.put("/model", json={"model_file": str(path)})
        assert response.status == 400
        answers.add((await response.json())["message"])
    assert len(answers) == 1 and "models folder" in answers.pop()
    assert (await (await client.get("/status")).json())["fingerprint"] == before
    assert "ups" in await say(client, "after-swap", "where is order 472918")
    response = await client.put("/model", json={"model_file": str(demo_archive)})
    assert response.status == 200


async def test_resume_after_handoff(client):
    await say(client, "r1", "operator")
    assert (await tracker(client, "r1"))["paused"]
    response = await client.post("/conversations/r1/tracker/events", json={"event": "resume"})
    assert response.status == 200 and not (await response.json())["paused"]
    assert "order number" in await say(client, "r1", "where is my order")


async def test_a_channel_escalates_with_its_own_reason(client):
    """What the voice gateway does on keypad 0 or repeated silence: the reason reaches the handoff port."""
    from bot.channels.rest import PROCESSOR_KEY
    await say(client, "e1", "what's the status of my order")
    assert (await tracker(client, "e1"))["active_loop"].get("name")  # the order form asks for the number
    processor = client.server.app[PROCESSOR_KEY]
    replies = await processor.escalate("e1", "no_input", channel="voice")
    assert "connect you" in " ".join(m.get("text", "") for m in replies).lower()
    state = await tracker(client, "e1")
    assert state["paused"] and state["slots"]["handoff_reason"] == "no_input"
    assert not state["active_loop"].get("name")  # the person takes over from the form
    assert (await processor.handoff.acd.store.get_call("e1")).reason == "no_input"  # queued by the ACD's port
