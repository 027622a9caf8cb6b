"""Supervisor KPIs from the call records, checked against figures worked out by hand.

One window, [1000, 2000), service level threshold 20 s. A call belongs to the window it started
in: A started before it (ended inside), G at its end (excluded: the end is open), F inside but was
answered and ended after it (counted), J is synthetic (never in real figures), H is still in the IVR.

    call  start  queued  answered  agent end  wrap  outcome     wait  handle  escalation reason
    A      900     -        -         -        -   contained    (outside)
    B     1000     -        -         -        -   contained
    C     1100   1130     1140      1240      20   handed_off    10    120     caller_request
    D     1200   1210     1240      1300       -   handed_off    30     60     knowledge_miss
    E     1300   1310       -         -        -   abandoned                   caller_request
    F     1990   1995     2030      2100      10   handed_off    35     80     (none)
    G     2000     -        -         -        -   contained    (outside)
    H     1400     -        -         -        -   in_progress
    I     1500   1505       -         -        -   callback                    caller_request
    J     1500     -        -         -        -   contained    (synthetic)
    K     1600     -        -         -        -   contained
    M      950    960       -         -        -   abandoned    (outside)      pin_failed

finished 7 (B C D E F I K), contained 2 -> containment 2/7 = 0.286
offered = answered 3 (C D F) + abandoned 1 (E) = 4; within 20 s: C -> service level 1/4 = 0.25
ASA (10 + 30 + 35) / 3 = 25.0; AHT (120 + 60 + 80) / 3 = 86.7; abandonment 1/4 = 0.25
escalations: caller_request 3 (C E I), knowledge_miss 1 (D), unknown 1 (F)
"""
from handoff.kpis import LiveKpis, kpis_of
from handoff.records.model import (
    ABANDONED, CALLBACK, CONTAINED, HANDED_OFF, IN_PROGRESS, CallRecord,
)


def fixture_calls() -> list[CallRecord]:
    def call(id_, start, outcome, queued=None, answered=None, agent_end=None, wrap=None, synthetic=False,
             reason=None):
        ended = None if outcome == IN_PROGRESS else max(t for t in (start + 50, agent_end or 0) if t)
        return CallRecord(id_, "twilio", start, outcome=outcome, ended_at=ended, queued_at=queued,
                          answered_at=answered, agent_ended_at=agent_end, wrap_up_seconds=wrap, synthetic=synthetic,
                          escalation_reason=reason)

    return [
        call("A", 900, CONTAINED),
        call("B", 1000, CONTAINED),
        call("C", 1100, HANDED_OFF, 1130, 1140, 1240, 20, reason="caller_request"),
        call("D", 1200, HANDED_OFF, 1210, 1240, 1300, reason="knowledge_miss"),
        call("E", 1300, ABANDONED, 1310, reason="caller_request"),
        call("F", 1990, HANDED_OFF, 1995, 2030, 2100, 10),
        call("G", 2000, CONTAINED),
        call("H", 1400, IN_PROGRESS),
        call("I", 1500, CALLBACK, 1505, reason="caller_request"),
        call("J", 1500, CONTAINED, synthetic=True),
        call("K", 1600, CONTAINED),
        call("M", 950, ABANDONED, 960, reason="pin_failed"),
    ]


EXPECTED = {"calls_finished": 7, "calls_offered": 4, "ivr_containment": 0.286, "service_level": 0.25,
            "asa_seconds": 25.0, "aht_seconds": 86.7, "abandonment_rate": 0.25,
            "escalations_by_reason": {"caller_request": 3, "knowledge_miss": 1, "unknown": 1}}


async def test_window_kpis_match_the_hand_computed_figures(records):
    for record in fixture_calls():
        await records.start(record)
    figures = kpis_of(await records.totals(1000.0, 2000.0, service_level_seconds=20.0))
    assert {k: figures[k] for k in EXPECTED} == EXPECTED
    assert (figures["window_start"], figures["window_end"]) == (1000.0, 2000.0)


async def test_an_empty_window_has_no_ratios(records):
    for record in fixture_calls():
        await records.start(record)
    figures = kpis_of(await records.totals(5000.0, 6000.0, service_level_seconds=20.0))
    assert figures["calls_finished"] == 0 and figures["ivr_containment"] is None and figures["aht_seconds"] is None


async def test_live_kpis_follow_the_window_and_refresh_when_a_call_closes(records):
    now = [2000.0]
    live = LiveKpis(records, window=1000.0, service_level_seconds=20.0, clock=lambda: now[0], max_age=60.0)
    for record in fixture_calls():
        await records.start(record)
    assert {k: (await live.current())[k] for k in EXPECTED} == EXPECTED
    late = CallRecord("L", "twilio", 1700.0, outcome=CONTAINED, ended_at=1750.0)
    await records.start(late)
    assert (await live.current())["calls_finished"] == 7  # cached: no query on every refresh of the page
    await live.call_closed(late)
    assert (await live.current())["calls_finished"] == 8
    now[0] = 2600.0  # the window slides to [1600, 2600): K, L, F and G are left, three of them contained
    await live.call_closed(late)
    figures = await live.current()
    assert figures["calls_finished"] == 4 and figures["ivr_containment"] == 0.75
    assert figures["calls_offered"] == 1 and figures["asa_seconds"] == 35.0
