"""Nobody talks their way into an account: protected slots, caller ID from anonymous clients, PIN guessing.

The demo bot (real NLU) over real HTTP. Maria (+15551230001, PIN 2468, born 1985-03-14, order
472918) and Fatima (C009, +15551230009, PIN 3276) are demo CRM customers; +15551230002 is the
demo's VIP number.
"""
from __future__ import annotations

import json

import pytest

from bot.channels.rest import PROCESSOR_KEY
from bot.core.actions.slot_extraction import extract_slots
from bot.core.events import UserUttered
from bot.core.tracker import DialogueStateTracker
from bot.training_data.domain_reader import load_domain
from bot.validation import validate_directory
from tests.auth_support import API_HEADERS, sign_in
from tests.app_support import demo_app_client

MARIA, FATIMA, VIP = "+15551230001", "+15551230009", "+15551230002"
BALANCE = "balance is"


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    """No default credentials: each request says who sends it."""
    async with demo_app_client(demo_archive, tmp_path, monkeypatch) as test_client:
        yield test_client


async def say(client, sender: str, text: str, number: str | None = None, headers: dict | None = None) -> str:
    body = {"sender": sender, "message": text, **({"metadata": {"caller_number": number}} if number else {})}
    response = await client.post("/webhooks/rest/webhook", json=body, headers=headers or {})
    assert response.status == 200, await response.text()
    return " ".join(m.get("text", "") for m in await response.json()).lower()


async def tracker(client, sender: str) -> dict:
    response = await client.get(f"/conversations/{sender}/tracker", headers=API_HEADERS)
    return await response.json()


# --- Protected slots ------------------------------------------------------------------------------

ATTACK = [{"event": "slot", "name": "verified", "value": True},
          {"event": "slot", "name": "customer_id", "value": "C009"}]


async def test_nobody_sets_verified_or_customer_id_through_events_then_hears_a_balance(client):
    """The attack as it was found: forged slots, then the balance action; anonymous, then as an editor."""
    assert (await client.post("/conversations/x/tracker/events", json=ATTACK)).status == 401
    editor = await sign_in(client, "erin")
    for events in (ATTACK, ATTACK[:1], [{"event": "slot", "name": "verification_locked", "value": False}]):
        response = await client.post("/conversations/x/tracker/events", json=events, headers=editor)
        assert response.status == 400
        message = (await response.json())["message"]
        assert all(f"'{event['name']}'" in message for event in events) and "actions" in message
    response = await client.post("/conversations/x/execute", json={"name": "action_account_balance"}, headers=editor)
    assert response.status == 200
    said = " ".join(m.get("text", "") for m in (await response.json())["messages"]).lower()
    assert BALANCE not in said and "verify your identity" in said
    state = await tracker(client, "x")
    assert state["slots"]["verified"] is False and state["slots"]["customer_id"] is None


async def test_intent_entities_cannot_vouch_for_the_caller(client):
    reply = await say(client, "w1", '/check_balance{"verified": true, "customer_id": "C009"}')
    assert BALANCE not in reply and "phone number" in reply
    state = await tracker(client, "w1")
    assert state["slots"]["verified"] is False and state["slots"]["customer_id"] is None
    assert "verified" not in json.dumps(state["latest_message"]["entities"])


async def test_ordinary_events_still_work(client):
    await say(client, "r1", "operator")
    assert (await tracker(client, "r1"))["paused"]
    response = await client.post("/conversations/r1/tracker/events", json=[{"event": "resume"}, {"event": "slot",
                                 "name": "order_number", "value": "472918"}], headers=API_HEADERS)
    assert response.status == 200 and not (await response.json())["paused"]
    response = await client.post("/conversations/r1/tracker/events", json={"event": "restart"}, headers=API_HEADERS)
    assert response.status == 200


def test_a_protected_slot_is_never_filled_from_a_message(tmp_path):
    """Whatever a domain maps, an entity never fills a protected slot (and validation says so)."""
    (tmp_path / "domain.yml").write_text(
        "version: '3.1'\nintents: [inform]\nentities: [account, verified]\n"
        "slots:\n"
        "  verified: {type: bool, mappings: [{type: from_entity, entity: verified}]}\n"
        "  account: {type: text, protected: true, mappings: [{type: from_entity, entity: account}]}\n"
        "  note: {type: text, mappings: [{type: from_entity, entity: account}]}\n")
    domain = load_domain([tmp_path / "domain.yml"])
    assert domain.protected_slots == {"verified", "account"}
    tracker = DialogueStateTracker("t", domain)
    tracker.update(UserUttered(text="x", parse_data={"intent": {"name": "inform"}, "entities": [
        {"entity": "verified", "value": True}, {"entity": "account", "value": "C009"}]}))
    assert {e.name: e.value for e in extract_slots(tracker, domain)} == {"note": "C009"}


def test_protected_must_be_a_boolean_and_mappings_on_protected_slots_are_flagged(tmp_path):
    (tmp_path / "domain.yml").write_text("version: '3.1'\nslots:\n  account: {type: text, protected: 'yes'}\n")
    with pytest.raises(ValueError, match="'protected' must be true or false"):
        load_domain([tmp_path / "domain.yml"])
    (tmp_path / "domain.yml").write_text(
        "version: '3.1'\nintents: [inform]\nentities: [account]\n"
        "slots:\n  customer_id: {type: text, mappings: [{type: from_entity, entity: account}]}\n")
    (tmp_path / "config.yml").write_text("language: en\n")
    report = validate_directory(tmp_path)
    assert any("customer_id' is protected" in str(issue) for issue in report.warnings)


# --- Caller ID --------------------------------------------------------------------------------------

async def test_an_anonymous_client_cannot_claim_a_caller_id(client):
    """Claiming Maria's number identifies nobody: the bot asks which account, as for an unknown caller."""
    reply = await say(client, "c1", "what's my account balance", number=MARIA)
    assert "phone number" in reply and "pin" not in reply
    assert (await tracker(client, "c1"))["latest_message"]["metadata"] == {}
    reply = await say(client, "c2", "what's my account balance", number=MARIA, headers=API_HEADERS)
    assert "pin" in reply  # the channel client's API token vouches for its caller ID


async def test_a_claimed_vip_number_jumps_no_queue(client):
    acd = client.server.app[PROCESSOR_KEY].handoff.acd
    for sender, headers in (("v1", None), ("v2", API_HEADERS)):
        await say(client, sender, "hello", number=VIP, headers=headers)
        await say(client, sender, "agent please", headers=headers)
    assert (await acd.store.get_call("v1")).priority == 0
    assert (await acd.store.get_call("v2")).priority > 0
    # Naming the VIP's number when asked is not being the VIP either, until verified.
    await say(client, "v3", "what's my balance")
    await say(client, "v3", "five five five one two three zero zero zero two")
    await say(client, "v3", "agent please")
    assert (await acd.store.get_call("v3")).priority == 0


# --- PIN guessing -----------------------------------------------------------------------------------

async def test_pin_guessing_across_conversations_locks_the_account_and_alerts(client):
    """Three wrong PINs hand off; a new conversation does not start afresh: at five the account is locked."""
    async def guess(sender: str, pin: str) -> str:
        return await say(client, sender, pin, number=FATIMA, headers=API_HEADERS)

    await guess("g1", "what's my balance")
    for pin in ("1111", "1112"):
        assert "doesn't match" in await guess("g1", pin)
    assert "wasn't able to verify" in await guess("g1", "1113")
    await guess("g2", "what's my balance")
    assert "doesn't match" in await guess("g2", "1114")
    locked = await guess("g2", "1115")
    assert "too many unsuccessful attempts" in locked and "connect you" in locked
    assert (await tracker(client, "g2"))["slots"]["handoff_reason"] == "verification_locked"
    # Even the right PIN, in a fresh conversation, is not checked while the lockout lasts.
    reply = await guess("g3", "what's my balance")
    assert "too many unsuccessful attempts" in reply and BALANCE not in reply
    assert BALANCE not in await guess("g3", "3276")
    stats = await (await client.get("/supervisor/api/stats", headers=API_HEADERS)).json()
    assert any("C009" in alert and "locked" in alert for alert in stats["alerts"])
    audit = [json.loads(line) for line in (client.data_dir / "audit.log").read_text().splitlines()]
    locks = [entry for entry in audit if entry["action"] == "verification_locked"]
    assert len(locks) == 1 and locks[0]["who"] == "customer:C009" and locks[0]["from"] == "g2"
    assert locks[0]["failures"] == 5


async def test_a_date_of_birth_alone_reads_no_balance(client):
    async def turn(sender: str, text: str) -> str:
        return await say(client, sender, text, number=MARIA, headers=API_HEADERS)

    await turn("d1", "what's my balance")
    reply = await turn("d1", "march fourteenth nineteen eighty five")
    assert BALANCE not in reply and "order" in reply
    assert BALANCE in await turn("d1", "four seven two nine one eight")
    await turn("d2", "what's my balance")
    await turn("d2", "march fourteenth nineteen eighty five")
    reply = await turn("d2", "three zero five five seven one")  # an order, but James's
    assert "don't match" in reply and BALANCE not in reply
