"""The automatic scorecard and the caller-mood scorer, on records whose every check is worked out by hand."""
import pytest

from handoff.quality.config import ScorecardConfig
from handoff.quality.scorecard import score_call, weighted_score
from handoff.quality.sentiment import sentiment, trend
from handoff.records.model import CONTAINED, HANDED_OFF, CallRecord, Turn

CONFIG = ScorecardConfig()


@pytest.mark.parametrize("text, sign", [
    ("thank you that's great", 1), ("this is ridiculous I'm really angry", -1), ("I'm not happy", -1),
    ("not bad at all", 1), ("where is my order", 0),
])
def test_sentiment_reads_cue_words_with_negation(text, sign):
    score = sentiment(text)
    assert (score is None) if sign == 0 else (score * sign > 0)


def test_trend_compares_the_second_half_with_the_first():
    assert trend([]) is None
    assert trend([0.5]) == (0.0, 0.5)
    change, last = trend([0.5, 0.4, -0.6, -0.8])
    assert change == pytest.approx(-1.15) and last == -0.8


def bot(at, text, actions=(), **kw):
    return Turn(at=at, speaker="bot", text=text, actions=list(actions), **kw)


def caller(at, text, **kw):
    return Turn(at=at, speaker="caller", text=text, sentiment=sentiment(text), **kw)


def contained_order_status() -> CallRecord:
    return CallRecord("ok", "twilio", 0.0, outcome=CONTAINED, ended_at=40.0, turns=[
        bot(0.0, "Welcome to Northwind.", ["utter_greet"]),
        caller(4.0, "where is my order", intent="check_order_status", actions=["order_status_form"]),
        bot(4.5, "What is the order number?"),
        caller(8.0, "four seven two nine one eight", intent="inform", actions=["action_order_status"]),
        bot(8.5, "Order 472918 is on its way."),
        caller(14.0, "great thanks", intent="thank"),
    ])


def failed_pin_escalated() -> CallRecord:
    turns = [bot(0.0, "Welcome to Northwind.", ["utter_greet"]),
             caller(3.0, "what's my balance", intent="check_balance", actions=["verification_form"]),
             bot(3.5, "Please key in your PIN.")]
    for i in range(3):
        turns.append(caller(6.0 + 6 * i, "[redacted]", sensitive=True, actions=["verification_form"]))
        turns.append(bot(6.5 + 6 * i, "That PIN doesn't match."))
    turns.append(caller(25.0, "this is ridiculous, I'm so frustrated", intent="complaint",
                        actions=["action_handoff"]))
    return CallRecord("bad", "twilio", 0.0, outcome=HANDED_OFF, ended_at=90.0, queue="billing", turns=turns)


def test_a_contained_order_status_call_passes_every_check():
    card = score_call(contained_order_status(), CONFIG)
    assert card.score == 100.0 and all(card.checks.values()) and card.flags == []


def test_a_call_whose_pin_failed_and_was_escalated_scores_lower_and_is_flagged():
    card = score_call(failed_pin_escalated(), CONFIG)
    assert not card.checks["resolved"] and not card.checks["sentiment"]
    assert card.checks["greeting"] and card.checks["verified_first"]  # no account data was read
    assert card.score == 55.0  # 100 - resolved 25 - sentiment 20
    assert "failed:resolved" in card.flags and "review" in card.flags
    assert "phrase:complaint" not in card.flags  # "complaint" was its intent, never said


def test_account_data_before_verification_fails_that_check():
    record = contained_order_status()
    record.turns.insert(2, bot(4.2, "Your balance is 10 dollars.", ["action_account_balance"]))
    assert not score_call(record, CONFIG).checks["verified_first"]
    record.turns[1].slots = {"verified": True}  # verified in the turn before: fine
    assert score_call(record, CONFIG).checks["verified_first"]


def test_silence_and_talk_over_are_measured_from_the_turns():
    record = contained_order_status()
    record.turns[3].at = 4.5 + 25 / 15 + 10.5  # the bot's 25 characters take ~1.7 s, then 10.5 s of dead air
    record.turns[1].barge_in = record.turns[3].barge_in = True
    card = score_call(record, CONFIG)
    assert not card.checks["silence"] and not card.checks["talk_over"]
    assert card.details["longest_silence_secs"] == 10.5
    assert card.score == 80.0


def test_phrases_are_spotted_in_either_leg_and_in_the_agents_notes():
    record = contained_order_status()
    record.turns.append(Turn(at=20.0, speaker="agent", text="I can help you CANCEL  my account today"))
    record.notes = "Caller mentioned a lawyer."
    flags = score_call(record, CONFIG).flags
    assert "phrase:cancel my account" in flags and "phrase:lawyer" in flags and "phrase:complaint" not in flags
    assert "phrase:lawyer" not in score_call(contained_order_status(), CONFIG.model_copy(
        update={"phrases": ["lawyers"]})).flags


def test_weights_decide_the_score_and_unweighted_checks_are_left_out():
    config = ScorecardConfig(weights={"resolved": 3, "greeting": 1})
    card = score_call(failed_pin_escalated(), config)
    assert set(card.checks) == {"resolved", "greeting"} and card.score == 25.0
    assert weighted_score({"resolved": True, "greeting": False}, config) == 75.0
