"""Call records kept along a call: the journal's lines (masked) and the ACD's queue, agent, times and outcome.

A real ACD on a real SQLite store, the records on real SQLite and PostgreSQL.
"""
from handoff.acd import ACD
from handoff.model import AVAILABLE, Agent, QueuedCall, QueueConfig
from handoff.records.journal import RecordJournal
from handoff.records.model import ABANDONED, CALLBACK, CONTAINED, HANDED_OFF
from handoff.records.sqlite_store import SqliteCallRecordStore
from handoff.store.sqlite_store import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def setup(records, tmp_path):
    clock = Clock()
    acd = ACD(SqliteStore(tmp_path / "acd.sqlite3"), [QueueConfig("billing", wrap_up_time=30)], clock=clock,
              presence_timeout=3600)
    journal = RecordJournal(records, clock=clock)
    acd.watchers.append(journal.acd_changed)
    await acd.register_agent(Agent("bob", "Bob", {"billing": 5}, 1))
    await acd.set_agent_state("bob", AVAILABLE)
    return clock, acd, journal


async def test_a_handed_off_call_is_recorded_with_masked_texts_times_and_wrap_up(records, tmp_path):
    clock, acd, journal = await setup(records, tmp_path)
    await journal.call_started("c1", "twilio", "+15551230001", 1000.0)
    await journal.line("c1", "bot", "Welcome to Northwind.", 0.0, actions=["utter_greet"])
    await journal.line("c1", "caller", "my card is 4111 1111 1111 1111 and I'm angry", 3.0, intent="check_balance",
                       confidence=0.9, actions=["verification_form"], barge_in=True)
    await journal.line("c1", "caller", "2468", 6.0, sensitive=True, slots={"pin": "[redacted]"})
    clock.now = 1010.0
    summary = {"caller": {"number": "+15551230001", "vip": False}, "text": "card 4111 1111 1111 1111"}
    assert (await acd.enqueue(QueuedCall("c1", "billing", "billing", "failed_verification", "+15551230001",
                                         summary=summary))).accepted
    await acd.dispatch()
    clock.now = 1025.0
    assert await acd.accept("c1", "bob")
    await acd.add_note("c1", "bob", "Reset the PIN; caller mentioned a lawyer")
    clock.now = 1085.0
    await acd.end_call("c1", "bob")
    clock.now = 1090.0
    await journal.call_ended("c1", 1090.0, {"caller": "x/caller.wav", "bot": "x/bot.wav"})
    clock.now = 1105.0
    await acd.set_agent_state("bob", AVAILABLE)  # wrap-up over after 20 s

    record = await records.get("c1")
    assert record.caller == "•••••••0001" and "+1555" not in str(record.to_dict())
    assert "4111" not in str(record.to_dict()) and "2468" not in str(record.to_dict())
    caller_line = record.turns[1]
    assert caller_line.intent == "check_balance" and caller_line.barge_in and caller_line.sentiment < 0
    assert record.turns[2].text == "[redacted]" and record.turns[2].sensitive and record.turns[2].sentiment is None
    assert (record.outcome, record.queue, record.agent_id, record.escalation_reason) == (
        HANDED_OFF, "billing", "bob", "failed_verification")
    assert (record.queued_at, record.answered_at, record.agent_ended_at, record.ended_at) == (
        1010.0, 1025.0, 1085.0, 1090.0)
    assert (record.wait_seconds, record.talk_seconds, record.wrap_up_seconds) == (15.0, 60.0, 20.0)
    assert record.notes == "Reset the PIN; caller mentioned a lawyer"
    assert record.recordings == {"caller": "x/caller.wav", "bot": "x/bot.wav"}
    assert record.qa_score is not None and "failed:resolved" in record.qa_flags and "phrase:lawyer" in record.qa_flags


async def test_outcomes_contained_abandoned_and_callback(records, tmp_path):
    clock, acd, journal = await setup(records, tmp_path)
    await acd.set_agent_state("bob", "away")
    closed = []

    async def heard(record):
        closed.append((record.id, record.outcome))

    journal.on_closed.append(heard)
    for call_id in ("bot-only", "gave-up", "call-me"):
        await journal.call_started(call_id, "sip", None, clock.now)
        await journal.line(call_id, "bot", "Welcome to Northwind.", 0.0, actions=["utter_greet"])
    for call_id in ("gave-up", "call-me"):
        await acd.enqueue(QueuedCall(call_id, "billing", "billing", "caller_request"))
    clock.now += 40
    await acd.caller_left("gave-up")
    assert await acd.take_callback("call-me", "+15550000000")
    for call_id in ("bot-only", "gave-up", "call-me"):
        await journal.call_ended(call_id, clock.now, {})
    assert closed == [("bot-only", CONTAINED), ("gave-up", ABANDONED), ("call-me", CALLBACK)]
    bot_only = await records.get("bot-only")
    assert bot_only.qa_score == 100.0 and bot_only.caller == ""
    gave_up = await records.get("gave-up")
    assert gave_up.queued_at == 1000.0 and gave_up.answered_at is None and gave_up.wait_seconds == 40.0


async def test_a_failing_store_never_breaks_the_call(tmp_path, caplog):
    """A store that cannot be opened (its path is a folder) is logged with the call id; the call goes on."""
    journal = RecordJournal(SqliteCallRecordStore(tmp_path))
    await journal.call_started("c9", "twilio", None, 1.0)
    await journal.line("c9", "caller", "hello", 1.0)
    await journal.call_ended("c9", 2.0, {})
    failures = [r for r in caplog.records if r.getMessage() == "call record not written"]
    assert [r.step for r in failures] == ["start", "turn", "end"] and all(r.call_id == "c9" for r in failures)


async def test_records_a_dead_process_left_open_are_closed_as_abandoned(records, tmp_path):
    clock, acd, journal = await setup(records, tmp_path)
    await journal.call_started("died", "twilio", None, 500.0)
    await journal.line("died", "bot", "Welcome to Northwind.", 0.0, actions=["utter_greet"])
    await journal.line("died", "caller", "where is my order", 4.5, intent="check_order_status")
    assert await RecordJournal(records).close_orphans() == 1  # the restarted server's journal
    record = await records.get("died")
    assert (record.outcome, record.ended_at) == (ABANDONED, 504.5) and record.qa_score is not None
    assert await records.open_calls() == [] and await RecordJournal(records).close_orphans() == 0
