"""The ACD on real SQLite and Redis stores: strategies, tiers and overflow, priority, max wait, drops."""
from __future__ import annotations

import pytest

from handoff.acd import ACD
from handoff.model import (
    ABANDONED, AVAILABLE, AWAY, CONNECTED, OFFLINE, WAITING, WRAP_UP, Agent, QueuedCall, QueueConfig,
)
from handoff.store.redis_store import RedisStore
from handoff.store.sqlite_store import SqliteStore
from tests import needs

REDIS_URL = "redis://127.0.0.1:6379/15"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "redis"])
async def store(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteStore(tmp_path / "acd.sqlite3")
    else:
        store = RedisStore(needs.redis(REDIS_URL), prefix=f"test:{tmp_path.name}")
        await store.clear()
    yield store
    if request.param == "redis":
        await store.clear()
    await store.close()


async def make_acd(store, clock, queues, agents) -> ACD:
    acd = ACD(store, queues, clock=clock, max_no_answer=2, presence_timeout=3600)
    for agent in agents:
        await acd.register_agent(agent)
        await acd.set_agent_state(agent.id, AVAILABLE)
    return acd


async def offered(acd: ACD) -> dict[str, str]:
    """call id -> agent id of the current offers (single-agent strategies)."""
    return {a.offered_call: a.id for a in await acd.store.agents() if a.offered_call}


async def answer_and_finish(acd: ACD, clock: Clock, call_id: str, agent_id: str, talk: float = 10) -> None:
    assert await acd.accept(call_id, agent_id)
    clock.now += talk
    await acd.caller_left(call_id)
    clock.now += 1
    await acd.tick()


def agents_abc(**skills) -> list[Agent]:
    return [Agent("a", skills={"orders": 5}, position=1), Agent("b", skills={"orders": 5}, position=2),
            Agent("c", skills={"orders": 5}, position=3)]


async def test_longest_idle_agent_gets_the_call(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "longest-idle-agent", wrap_up_time=0)], [])
    for name, idle in (("a", 30), ("b", 10), ("c", 20)):
        await acd.register_agent(Agent(name, skills={"orders": 5}))
        clock.now = 1000 + idle
        await acd.set_agent_state(name, AVAILABLE)
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "b"}


async def test_round_robin_takes_turns(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "round-robin", wrap_up_time=0)], agents_abc())
    got = []
    for i in range(4):
        await acd.enqueue(QueuedCall(f"call-{i}", "orders", "orders"))
        await acd.dispatch()
        agent = (await offered(acd))[f"call-{i}"]
        got.append(agent)
        await answer_and_finish(acd, clock, f"call-{i}", agent)
    assert got == ["a", "b", "c", "a"]


async def test_fewest_calls_prefers_the_least_busy(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "fewest-calls", wrap_up_time=0)], agents_abc())
    for agent_id, taken in (("a", 5), ("b", 2), ("c", 7)):
        agent = await store.get_agent(agent_id)
        agent.calls_taken = taken
        await store.save_agent(agent)
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "b"}


async def test_top_down_always_starts_at_the_top(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "top-down", wrap_up_time=0)], agents_abc())
    for i in range(3):
        await acd.enqueue(QueuedCall(f"call-{i}", "orders", "orders"))
        await acd.dispatch()
        assert (await offered(acd))[f"call-{i}"] == "a"
        await answer_and_finish(acd, clock, f"call-{i}", "a")


async def test_ring_all_rings_everyone_and_the_first_to_accept_wins(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "ring-all")], agents_abc())
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    assert await acd.dispatch() == 3
    assert {a.offered_call for a in await store.agents()} == {"call-1"}
    assert await acd.accept("call-1", "c")
    assert not await acd.accept("call-1", "a")
    agents = {a.id: a for a in await store.agents()}
    assert agents["c"].state == "on-call" and agents["a"].offered_call is None and agents["b"].offered_call is None
    assert (await store.get_call("call-1")).agent_id == "c"


async def test_tiers_open_after_a_wait_and_overflow_moves_the_call(store):
    clock = Clock()
    queues = [QueueConfig("billing", "billing", "top-down", tiers=[8, 3], tier_wait=30, overflow_to="general",
                          overflow_after=90),
              QueueConfig("general", "general", "top-down")]
    junior = Agent("junior", skills={"billing": 4}, position=1)
    generalist = Agent("generalist", skills={"general": 5}, position=2)
    acd = await make_acd(store, clock, queues, [junior, generalist])
    await acd.enqueue(QueuedCall("call-1", "billing", "billing"))
    await acd.dispatch()
    assert await offered(acd) == {}, "tier 1 needs proficiency 8"
    clock.now += 31
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "junior"}
    await acd.no_answer("call-1", "junior")
    await acd.set_agent_state("junior", AWAY)
    clock.now += 60
    await acd.tick()
    call = await store.get_call("call-1")
    assert (call.queue, call.overflowed_from) == ("general", "billing")
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "generalist"}


async def test_vip_first_then_longest_waiting(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "top-down", wrap_up_time=0)], [])
    for i, priority in enumerate([0, 0, 10, 0]):
        clock.now += 1
        await acd.enqueue(QueuedCall(f"call-{i}", "orders", "orders", priority=priority))
    assert (await acd.position("call-2"))[0] == 1
    assert (await acd.position("call-0"))[0] == 2
    assert (await acd.position("call-3"))[0] == 4
    await acd.register_agent(Agent("a", skills={"orders": 5}))
    await acd.set_agent_state("a", AVAILABLE)
    order = []
    for _ in range(4):
        await acd.dispatch()
        call_id = next(iter(await offered(acd)))
        order.append(call_id)
        await answer_and_finish(acd, clock, call_id, "a")
    assert order == ["call-2", "call-0", "call-1", "call-3"]


async def test_max_wait_offers_a_callback_that_survives_a_restart(store, tmp_path):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", max_wait=120)], [])
    await acd.enqueue(QueuedCall("call-1", "orders", "orders", caller_number="+15551230001",
                                 summary={"text": "Order 472918 is late."}))
    async with store.subscribe("call:call-1") as events:
        clock.now += 119
        await acd.tick()
        assert events.empty()
        clock.now += 2
        await acd.tick()
        assert (await events.get())["type"] == "callback_offer"
    assert await acd.take_callback("call-1")
    assert await store.get_call("call-1") is None
    if isinstance(store, SqliteStore):
        store = SqliteStore(store.path)  # a restart: a fresh connection to the same file
    callbacks = await store.records("callback")
    assert [(c["number"], c["request"]) for c in callbacks] == [("+15551230001", "Order 472918 is late.")]
    assert [r["state"] for r in await store.records("call")] == ["callback"]


async def test_max_queue_length_refuses_the_next_caller(store):
    acd = await make_acd(store, Clock(), [QueueConfig("orders", "orders", max_length=2)], [])
    assert (await acd.enqueue(QueuedCall("c1", "orders", "orders"))).accepted
    assert (await acd.enqueue(QueuedCall("c2", "orders", "orders"))).accepted
    refused = await acd.enqueue(QueuedCall("c3", "orders", "orders"))
    assert (refused.accepted, refused.reason) == (False, "queue_full")


async def test_agent_disconnect_sends_the_caller_back_to_the_head_of_the_queue(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "top-down")],
                         [Agent("a", skills={"orders": 5}, position=1)])
    await acd.enqueue(QueuedCall("first", "orders", "orders"))
    await acd.dispatch()
    clock.now += 5
    await acd.enqueue(QueuedCall("second", "orders", "orders", priority=10))
    assert await acd.accept("first", "a")
    async with store.subscribe("call:first") as events:
        await acd.agent_disconnected("a")
        assert (await events.get())["type"] == "requeued"
    call = await store.get_call("first")
    assert (call.state, call.agent_id, call.head) == (WAITING, None, True)
    assert (await acd.position("first"))[0] == 1, "ahead of a VIP who came later"
    assert (await store.get_agent("a")).state == OFFLINE
    await acd.register_agent(Agent("b", skills={"orders": 5}, position=2))
    await acd.set_agent_state("b", AVAILABLE)
    await acd.dispatch()
    assert (await offered(acd))["first"] == "b"


async def test_caller_hang_up_while_queued_is_abandoned_and_withdraws_offers(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "ring-all")], agents_abc())
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    clock.now += 7
    assert await acd.caller_left("call-1") == ABANDONED
    assert await store.get_call("call-1") is None
    assert all(a.offered_call is None and a.is_free() for a in await store.agents())
    assert [(r["id"], r["state"]) for r in await store.records("call")] == [("call-1", ABANDONED)]
    assert not await acd.accept("call-1", "a")


async def test_unanswered_offers_ring_on_and_set_the_agent_away(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "top-down", ring_timeout=15)],
                         agents_abc())
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "a"}
    clock.now += 16
    await acd.tick()
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "a"}, "one miss: still available, still first"
    clock.now += 16
    await acd.tick()
    assert (await store.get_agent("a")).state == AWAY
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "b"}


async def test_wrap_up_then_available_and_estimated_wait_uses_handle_times(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "top-down", wrap_up_time=5)],
                         [Agent("a", skills={"orders": 5})])
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    assert await acd.accept("call-1", "a")
    clock.now += 95
    await acd.caller_left("call-1")
    assert (await store.get_agent("a")).state == WRAP_UP
    admission = await acd.enqueue(QueuedCall("call-2", "orders", "orders"))
    assert admission.position == 1 and admission.estimated_wait == pytest.approx(100)
    clock.now += 5
    await acd.tick()
    assert (await store.get_agent("a")).state == AVAILABLE
    await acd.dispatch()
    assert await acd.accept("call-2", "a")
    assert (await store.get_call("call-2")).state == CONNECTED


async def test_an_agent_going_away_while_rung_lets_the_call_ring_on(store):
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "top-down")], agents_abc())
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "a"}
    await acd.set_agent_state("a", AWAY)
    assert (await store.get_call("call-1")).offered_to == []
    await acd.dispatch()
    assert await offered(acd) == {"call-1": "b"}


async def test_missing_desk_heartbeats_log_the_agent_out(store):
    clock = Clock()
    acd = ACD(store, [QueueConfig("orders", "orders")], clock=clock, presence_timeout=30)
    await acd.register_agent(Agent("a", skills={"orders": 5}))
    await acd.set_agent_state("a", AVAILABLE)
    clock.now += 20
    await acd.heartbeat("a")
    clock.now += 20
    await acd.tick()
    assert (await store.get_agent("a")).state == AVAILABLE
    clock.now += 11
    await acd.tick()
    assert (await store.get_agent("a")).state == OFFLINE


def test_config_errors_name_what_is_wrong():
    from handoff.config import HandoffConfigError, load_handoff_settings

    with pytest.raises(HandoffConfigError,
                       match=r"queues\[0\]\.strategy: Input should be 'longest-idle-agent'.* \(got 'random'\)"):
        load_handoff_settings({"queues": [{"name": "a", "strategy": "random"}]})
    with pytest.raises(HandoffConfigError, match="queue 'a': overflow_to names no queue"):
        load_handoff_settings({"queues": [{"name": "a", "overflow_to": "b", "overflow_after": 60}]})
    with pytest.raises(HandoffConfigError,
                       match=r"queues\[0\]\.max_waiting: unknown setting; did you mean 'max_wait'\?"):
        load_handoff_settings({"queues": [{"name": "a", "max_waiting": 3}]})
    with pytest.raises(HandoffConfigError,
                       match=r"helpline\.handoff\.presence_timeout: Input should be a valid number"):
        load_handoff_settings({"presence_timeout": "soon"})


async def test_the_offer_goes_out_even_when_another_process_ends_the_call_at_once(store):
    """Several processes on one store: the call offered here may be answered and ended by another
    before the offer is sent. The agent still gets the offer as it was made, and dispatch goes on."""
    clock = Clock()
    acd = await make_acd(store, clock, [QueueConfig("orders", "orders", "longest-idle-agent", wrap_up_time=0)],
                         [Agent("a", skills={"orders": 5})])
    real_update, real_publish, published = store.update, store.publish, []

    async def update_then_end_elsewhere(call_id, agent_id, change):
        done = await real_update(call_id, agent_id, change)
        if done and call_id and agent_id:  # the offer is recorded; the other process ends the call

            def end(call, _):
                call.state = ABANDONED
                return True

            await real_update(call_id, None, end)
        return done

    async def publish(channel, message):
        published.append((channel, message))
        await real_publish(channel, message)

    store.update, store.publish = update_then_end_elsewhere, publish
    await acd.enqueue(QueuedCall("call-1", "orders", "orders"))
    await acd.dispatch()
    offers = [message["call"] for channel, message in published if channel == "agent:a" and message["type"] == "offer"]
    assert [(call["id"], call["offered_to"]) for call in offers] == [("call-1", ["a"])]
