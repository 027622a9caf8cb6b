"""Demo actions run through rasa-sdk's executor, with real trackers, against a real SQLite CRM.

Validation actions get the tracker Rasa's FormAction would send: the events so
far, then ``requested_slot``, the form's ActionExecuted and the slot candidates.
"""
from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest
from rasa_sdk.executor import ActionExecutor

from bot import crm
from bot.crm import Order, OrderStatus, SqliteDirectory
from bot.crm.http_directory import HttpDirectory
from bot.demo.actions.lookups import ActionOrderStatus
from bot.demo.actions.order_speech import describe_order, speak_date
from bot.security import lockout
from bot.security.lockout import VerificationGuard
from bot.security.lockout_stores import SqliteAttemptStore
from bot.spoken import number_words, ordinal_words, speak_money
from bot.training_data.yaml_reader import plain, read_yaml_file

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = plain(read_yaml_file(ROOT / "nlu_data" / "domain.yml"))
TODAY = date(2024, 5, 1)  # the CRM's seed day, a Wednesday
MARIA_PHONE = "+15551230001"
MARIA_PIN = "2468"
MARIA = {"caller_phone": MARIA_PHONE, "customer_id": "C001", "customer_first_name": "Maria"}


@pytest.fixture(autouse=True)
def directory(tmp_path):
    directory = SqliteDirectory(tmp_path / "crm.sqlite3", seed_date=TODAY, pin_iterations=1_000)
    crm.configure(directory)
    yield directory
    crm.configure(None)


@pytest.fixture(autouse=True)
def guard(tmp_path):
    """Failed checks per customer, in a SQLite file of the test's own."""
    guard = VerificationGuard(SqliteAttemptStore(tmp_path / "verification.sqlite3"))
    lockout.configure(guard)
    yield guard
    lockout.configure(None)


@pytest.fixture
def executor():
    executor = ActionExecutor()
    executor.register_package("bot.demo.actions")
    executor.register_action(ActionOrderStatus(today=lambda: TODAY))
    return executor


def user_event(text="", intent="inform", entities=(), metadata=None):
    return {"event": "user", "text": text, "metadata": metadata or {},
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": list(entities)}}


def latest_message(event):
    """``tracker.latest_message`` as Rasa serialises it: the parse data plus the message metadata."""
    return {**event["parse_data"], "metadata": event["metadata"]}


class Result:
    """What an action returned: its events and what the caller would hear."""

    def __init__(self, events, responses):
        self.events, self.responses = events, responses
        self.slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
        self.followups = [e["name"] for e in events if e["event"] == "followup"]
        self.said = [m["text"] for m in responses if m.get("text")]
        self.responses_used = [m["response"] for m in responses if m.get("response")]


async def run(executor, action, *, slots=None, events=(), latest=None, active_loop=None):
    latest = latest_message(latest or user_event())
    tracker_slots = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}
    tracker_slots.update({"requested_slot": None, **(slots or {})})
    result = await executor.run({
        "next_action": action,
        "domain": DOMAIN,
        "tracker": {"sender_id": "caller-1", "slots": tracker_slots, "latest_message": latest,
                    "events": [*events], "active_loop": {"name": active_loop} if active_loop else {},
                    "latest_action_name": "action_listen", "paused": False},
    })
    for response in (m.get("response") for m in result.responses):
        assert response is None or response in DOMAIN["responses"], response
    return Result(result.events, result.responses)


async def validate(executor, form, candidates, *, requested, slots=None, metadata=None, intent="inform"):
    """Run ``validate_<form>`` the way Rasa's FormAction calls it."""
    message = user_event(intent=intent, metadata=metadata)
    events = [message,
              {"event": "slot", "name": "requested_slot", "value": requested},
              {"event": "action", "name": form},
              *({"event": "slot", "name": name, "value": value} for name, value in candidates.items())]
    return await run(executor, f"validate_{form}", slots={**(slots or {}), "requested_slot": requested, **candidates},
                     events=events, latest=message, active_loop=form if requested else None)


# --- Saying things ----------------------------------------------------------------

@pytest.mark.parametrize("n, words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (124, "one hundred twenty four"),
    (3_100, "three thousand one hundred"), (2_000_075, "two million seventy five"),
])
def test_number_words(n, words):
    assert number_words(n) == words


@pytest.mark.parametrize("n, words", [(1, "first"), (3, "third"), (12, "twelfth"), (21, "twenty first"),
                                      (29, "twenty ninth"), (30, "thirtieth")])
def test_ordinal_words(n, words):
    assert ordinal_words(n) == words


@pytest.mark.parametrize("cents, words", [
    (12450, "one hundred twenty four dollars and fifty cents"), (0, "zero dollars"),
    (101, "one dollar and one cent"), (50, "fifty cents"), (310000, "three thousand one hundred dollars"),
])
def test_speak_money(cents, words):
    assert speak_money(cents) == words


@pytest.mark.parametrize("day, spoken", [
    (date(2024, 5, 1), "today"), (date(2024, 5, 2), "tomorrow"), (date(2024, 4, 30), "yesterday"),
    (date(2024, 4, 29), "Monday"), (date(2024, 5, 3), "Friday, May third"),
    (date(2023, 12, 25), "Monday, December twenty fifth, 2023"),
])
def test_speak_date(day, spoken):
    assert speak_date(day, TODAY) == spoken


def test_late_order_is_owned_up_to():
    order = Order("472918", "C001", OrderStatus.SHIPPED, "UPS", date(2024, 4, 29), date(2024, 5, 3))
    assert describe_order(order, date(2024, 5, 10)) == (
        "Your order four seven two nine one eight shipped with UPS on Monday, April twenty ninth, "
        "and was due on Friday, May third, so it's running late. I'm sorry about that.")


# --- Order status -----------------------------------------------------------------

@pytest.mark.asyncio
@pytest.mark.parametrize("number, sentence", [
    ("472918", "Your order four seven two nine one eight shipped with UPS on Monday, "
               "and should arrive Friday, May third."),
    ("550193", "Your order five five zero one nine three is out for delivery with USPS today, "
               "and should arrive by the end of the day."),
    ("118204", "Your order one one eight two zero four was delivered on Sunday."),
    ("305571", "Your order three zero five five seven one hasn't shipped yet, and should arrive Monday, May sixth."),
])
async def test_order_status_is_spoken_for_the_ear(executor, number, sentence):
    result = await run(executor, "action_order_status", slots={"order_number": number})
    assert result.said == [sentence]
    assert result.slots == {"order_number": None}  # the next lookup asks afresh


@pytest.mark.asyncio
async def test_order_question_without_a_number_is_deferred(executor):
    result = await run(executor, "action_order_status", active_loop="verification_form")
    assert result.responses_used == ["utter_order_later"] and result.events == []


@pytest.mark.asyncio
async def test_known_order_number_fills_the_form(executor):
    result = await validate(executor, "order_status_form", {"order_number": "472918"}, requested="order_number")
    assert result.slots == {"order_number": "472918", "order_lookup_failures": 0.0}
    assert result.responses == []


@pytest.mark.asyncio
async def test_order_said_up_front_is_validated_as_the_form_starts(executor):
    result = await validate(executor, "order_status_form", {"order_number": "621847"}, requested=None,
                            intent="check_order_status")
    assert result.slots["order_number"] == "621847"


@pytest.mark.asyncio
async def test_unknown_order_is_reported_and_asked_again(executor):
    result = await validate(executor, "order_status_form", {"order_number": "999999"}, requested="order_number")
    assert result.said == ["Sorry, I couldn't find an order with the number nine nine nine nine nine nine."]
    assert result.slots == {"order_number": None, "order_lookup_failures": 1.0}
    assert result.followups == []


@pytest.mark.asyncio
async def test_second_unknown_order_ends_the_form_for_an_agent_offer(executor):
    result = await validate(executor, "order_status_form", {"order_number": "999998"}, requested="order_number",
                            slots={"order_lookup_failures": 1.0})
    assert result.slots == {"order_number": None, "order_lookup_failures": 0.0, "requested_slot": None,
                            "handoff_reason": "order_not_found"}


@pytest.mark.asyncio
async def test_order_number_of_wrong_length_counts_as_a_try(executor):
    result = await validate(executor, "order_status_form", {"order_number": "4729"}, requested="order_number")
    assert result.responses_used == ["utter_order_number_format"]
    assert result.slots == {"order_number": None, "order_lookup_failures": 1.0}


# --- Verification -----------------------------------------------------------------

@pytest.mark.asyncio
async def test_caller_id_identifies_the_caller_as_the_form_starts(executor):
    result = await validate(executor, "verification_form", {}, requested=None,
                            metadata={"caller_number": MARIA_PHONE}, intent="check_balance")
    assert result.slots == MARIA
    assert result.responses == []


@pytest.mark.asyncio
async def test_unknown_caller_id_silently_falls_back_to_asking(executor):
    result = await validate(executor, "verification_form", {}, requested=None,
                            metadata={"caller_number": "+15559876543"}, intent="check_balance")
    assert result.slots == {"caller_phone": None}
    assert result.responses == []


@pytest.mark.asyncio
async def test_spoken_phone_number_identifies_the_caller(executor):
    result = await validate(executor, "verification_form", {"caller_phone": "5551230001"}, requested="caller_phone")
    assert result.slots == MARIA


@pytest.mark.asyncio
async def test_unknown_spoken_phone_number_counts_as_a_failure(executor):
    result = await validate(executor, "verification_form", {"caller_phone": "5559876543"}, requested="caller_phone")
    assert result.responses_used == ["utter_phone_not_found"]
    assert result.slots == {"caller_phone": None, "verification_failures": 1.0}


@pytest.mark.asyncio
async def test_correct_pin_verifies_and_clears_the_pin(executor):
    result = await validate(executor, "verification_form", {"pin": MARIA_PIN},
                            requested="pin", slots=MARIA)
    assert result.slots == {"pin": None, "verified": True, "verification_failures": 0.0,
                            "requested_slot": None}
    assert result.said == ["Thank you, Maria. You're verified."]


@pytest.mark.asyncio
@pytest.mark.parametrize("born, matched", [("1985-03-14T00:00:00.000", True), ("1990-01-01T00:00:00.000", False)])
async def test_a_date_of_birth_alone_never_verifies(executor, born, matched):
    """Right or wrong, the caller hears the same: the order number is asked, nothing is told about the date."""
    result = await validate(executor, "verification_form", {"date_of_birth": born}, requested="pin", slots=MARIA)
    assert result.slots == {"date_of_birth": None, "date_of_birth_matched": matched,
                            "requested_slot": "account_order_number"}
    assert result.responses == []


@pytest.mark.asyncio
async def test_date_of_birth_and_an_order_on_the_account_verify(executor):
    result = await validate(executor, "verification_form", {"account_order_number": "472918"},
                            requested="account_order_number", slots={**MARIA, "date_of_birth_matched": True})
    assert result.slots == {"account_order_number": None, "date_of_birth_matched": None, "verified": True,
                            "verification_failures": 0.0, "requested_slot": None}


@pytest.mark.asyncio
@pytest.mark.parametrize("born_matched, order", [(True, "305571"), (False, "472918"), (True, "999999")])
async def test_date_of_birth_with_a_wrong_order_or_a_wrong_date_is_one_failure(executor, born_matched, order):
    """305571 is James's order, not Maria's; whichever half was wrong, the caller is not told."""
    result = await validate(executor, "verification_form", {"account_order_number": order},
                            requested="account_order_number", slots={**MARIA, "date_of_birth_matched": born_matched})
    assert result.slots == {"account_order_number": None, "date_of_birth_matched": None,
                            "verification_failures": 1.0}
    assert result.responses_used == ["utter_verification_details_mismatch"]


@pytest.mark.asyncio
async def test_wrong_pin_is_a_failure_and_asks_again(executor):
    result = await validate(executor, "verification_form", {"pin": "1111"},
                            requested="pin", slots=MARIA)
    assert result.slots == {"pin": None, "verification_failures": 1.0}
    assert result.responses_used == ["utter_pin_mismatch"]
    assert result.followups == []


@pytest.mark.asyncio
async def test_misheard_pin_does_not_cost_a_try(executor):
    result = await validate(executor, "verification_form", {"pin": "246"},
                            requested="pin", slots=MARIA)
    assert result.slots == {"pin": None}
    assert result.responses_used == ["utter_pin_format"]


@pytest.mark.asyncio
async def test_pin_and_date_in_one_turn_count_as_one_try(executor):
    result = await validate(executor, "verification_form",
                            {"pin": "1111", "date_of_birth": "1990-01-01T00:00:00.000"},
                            requested="pin", slots=MARIA)
    assert result.slots == {"pin": None, "date_of_birth": None, "verification_failures": 1.0}


@pytest.mark.asyncio
async def test_third_failure_hands_off_as_failed_verification(executor):
    result = await validate(executor, "verification_form", {"pin": "1111"},
                            requested="pin", slots={**MARIA, "verification_failures": 2.0})
    assert result.slots == {"pin": None, "verification_failures": 3.0, "requested_slot": None,
                            "handoff_reason": "failed_verification"}
    assert result.followups == ["action_handoff"]
    assert result.responses_used == ["utter_pin_mismatch", "utter_verification_failed"]


@pytest.mark.asyncio
async def test_locked_out_caller_is_handed_off_straight_away(executor):
    result = await validate(executor, "verification_form", {}, requested=None,
                            slots={**MARIA, "verification_failures": 3.0}, intent="check_balance")
    assert result.slots["requested_slot"] is None
    assert result.followups == ["action_handoff"]


@pytest.mark.asyncio
async def test_pin_never_appears_in_events_messages_or_logs(executor, caplog):
    with caplog.at_level(logging.DEBUG):
        results = [
            await validate(executor, "verification_form", {"pin": pin},
                           requested="pin", slots={**MARIA, "verification_failures": failures})
            for pin, failures in ((MARIA_PIN, 0.0), ("9753", 0.0), ("8642", 2.0))
        ]
    returned = json.dumps([[r.events, r.responses] for r in results])
    # Timestamps and thread ids are digits too; only what was logged counts.
    volatile = {"created", "msecs", "relativeCreated", "thread", "process", "lineno"}
    logged = caplog.text + " ".join(str({k: v for k, v in vars(record).items() if k not in volatile})
                                    for record in caplog.records)
    for pin in (MARIA_PIN, "9753", "8642"):
        assert pin not in returned
        assert pin not in logged


# --- Balance ----------------------------------------------------------------------

@pytest.mark.asyncio
async def test_verified_caller_hears_every_balance(executor):
    result = await run(executor, "action_account_balance", slots={**MARIA, "verified": True})
    assert result.said == ["Your trade account balance is one hundred twenty four dollars and fifty cents. "
                           "Your store credit balance is twenty dollars."]


@pytest.mark.asyncio
async def test_unverified_caller_hears_no_balance(executor):
    result = await run(executor, "action_account_balance", slots=MARIA)
    assert result.responses_used == ["utter_verify_first"]
    assert result.said == [] and result.events == []


# --- CRM outages ------------------------------------------------------------------

@pytest.fixture
def crm_down(unused_tcp_port):
    crm.configure(HttpDirectory(f"http://127.0.0.1:{unused_tcp_port}", timeout_s=1.0))


@pytest.mark.asyncio
async def test_crm_outage_during_order_status_hands_off(executor, crm_down):
    result = await run(executor, "action_order_status", slots={"order_number": "472918"})
    assert result.responses_used == ["utter_system_trouble"]
    assert result.slots == {"handoff_reason": "system_unavailable"}
    assert result.followups == ["action_handoff"]
    await crm.current().close()


@pytest.mark.asyncio
async def test_crm_outage_during_verification_ends_the_form_and_hands_off(executor, crm_down):
    result = await validate(executor, "verification_form", {"pin": MARIA_PIN},
                            requested="pin", slots=MARIA)
    assert result.slots == {"requested_slot": None, "handoff_reason": "system_unavailable"}
    assert result.followups == ["action_handoff"]
    assert MARIA_PIN not in json.dumps(result.events)
    await crm.current().close()


# --- Conversation helpers ---------------------------------------------------------

@pytest.mark.asyncio
async def test_repeat_says_the_last_bot_message_again_and_rewinds(executor):
    events = [{"event": "bot", "text": "Is there anything else I can help you with?"},
              user_event("sorry what", intent="repeat")]
    result = await run(executor, "action_repeat", events=events)
    assert result.said == ["Is there anything else I can help you with?"]
    assert [e["event"] for e in result.events] == ["rewind"]


@pytest.mark.asyncio
async def test_fallback_asks_to_rephrase_then_hands_off_on_the_third_miss(executor):
    miss = user_event("blah", intent="nlu_fallback")
    first = await run(executor, "action_fallback", events=[user_event(intent="greet"), miss])
    assert first.responses_used == ["utter_ask_rephrase"]
    assert [e["event"] for e in first.events] == ["rewind"]
    third = await run(executor, "action_fallback", events=[miss, {"event": "rewind"}, miss, miss])
    assert third.slots == {"handoff_reason": "not_understood"}
    assert third.followups == ["action_handoff"]


@pytest.mark.asyncio
async def test_agent_offer_records_why_and_declining_clears_it(executor):
    complaint = await run(executor, "action_offer_agent", latest=user_event(intent="complaint"))
    assert complaint.slots == {"handoff_reason": "complaint"}
    assert complaint.responses_used == ["utter_offer_agent"]
    after_order = await run(executor, "action_offer_agent", slots={"handoff_reason": "order_not_found"})
    assert after_order.slots == {"handoff_reason": "order_not_found"}
    declined = await run(executor, "action_agent_declined", slots={"handoff_reason": "complaint"})
    assert declined.slots == {"handoff_reason": None}


# --- The training data and the actions agree ----------------------------------------

def _load(name):
    return plain(read_yaml_file(ROOT / name))


def _steps(path, key):
    for item in _load(path)[key]:
        yield from (step for step in item.get("condition", []) + item["steps"])


def test_domain_lists_exactly_the_custom_actions(executor):
    assert {a.name for a in executor.list_actions()} >= set(DOMAIN["actions"])
    demo_actions = {a.name for a in executor.list_actions()
                    if executor.actions[a.name].__module__.startswith("bot.demo.actions.")}
    assert demo_actions == set(DOMAIN["actions"])


@pytest.mark.parametrize("path, key", [("nlu_data/rules.yml", "rules"), ("nlu_data/stories.yml", "stories"),
                                       ("tests/stories/test_demo_stories.yml", "stories")])
def test_conversations_use_only_known_intents_actions_and_slots(path, key):
    built_in = {"action_handoff", "action_deactivate_loop", "action_listen", "action_knowledge"}
    known_actions = set(DOMAIN["actions"]) | set(DOMAIN["responses"]) | set(DOMAIN["forms"]) | built_in
    known_intents = set(DOMAIN["intents"]) | {"nlu_fallback"}
    known_slots = set(DOMAIN["slots"]) | {"requested_slot"}
    for step in _steps(path, key):
        assert step.get("action", "action_listen") in known_actions, step
        assert step.get("intent", "greet") in known_intents, step
        for slot in step.get("slot_was_set", []):
            assert set(slot) <= known_slots, step


def test_nlu_covers_every_intent_with_enough_examples():
    examples = {item["intent"]: item["examples"].strip().splitlines()
                for item in _load("nlu_data/nlu.yml")["nlu"] if "intent" in item}
    assert set(examples) == set(DOMAIN["intents"])
    assert all(15 <= len(lines) <= 40 for lines in examples.values()), {k: len(v) for k, v in examples.items()}
