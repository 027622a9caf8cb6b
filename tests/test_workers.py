"""Two worker processes on shared stores: a worker killed mid-call, Redis restarted under calls.

One server (`helpline run --workers 2`) on a private Redis (appending to its file, restarted by the
test) and a database of its own on the local PostgreSQL, real Twilio-protocol callers, real models.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import time
import uuid

import pytest
import redis.asyncio as aioredis

from tests import needs
from tests.needs import POSTGRES_DSN
from tests.scale_support import PrivateDatabase, PrivateRedis, ServerProcess, linked_project
from tests.voice.conftest import CALLER, caller_voice

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(demo_archive, tmp_path_factory):
    if not shutil.which("redis-server"):
        needs.unavailable("redis-server (Debian's redis-server package)", needs.SERVICES_FLAG)
    needs.postgres()
    tmp = tmp_path_factory.mktemp("workers")
    redis = PrivateRedis(tmp / "redis")
    database = PrivateDatabase()
    # Long silences allowed: a queued caller says nothing for a while, and this box is slow.
    project = linked_project(tmp / "project", {"no_input": {"timeout_secs": 60, "reprompts": 1, "then": "hang_up"}})
    server = ServerProcess(project, tmp / "data", demo_archive, workers=2, env={
        "HELPLINE_TRACKER_STORE": database.dsn, "HELPLINE_HANDOFF_STORE": redis.url,
        "HELPLINE_LOCK_STORE": redis.url})
    try:
        server.wait_ready(600)
        from helpline.security.secrets import load_secrets
        from voice_gateway.client import LineCredentials

        secrets = load_secrets(server.data_dir)
        server.credentials = LineCredentials(secrets.twilio_auth_token, secrets.secret_key)
        server.redis, server.database = redis, database
        yield server
    finally:
        server.stop()
        redis.stop()
        database.drop()


def dial(server):
    from voice_gateway.client import Caller, open_line

    line = open_line(f"http://127.0.0.1:{server.port}", "twilio", credentials=server.credentials)
    return Caller(line, quiet_secs=1.5, answer_timeout=30).dial(f"CA{uuid.uuid4().hex}", CALLER)


async def live_calls(server) -> dict[str, tuple[int, str]]:
    """The callers' Twilio ids -> (pid of the worker serving the call, the gateway's call id), from the leases."""
    client = aioredis.from_url(server.redis.url, decode_responses=True)
    try:
        found = {}
        for worker in await client.smembers("helpline:workers:known"):
            pid = int(worker.split("-")[-2])
            for call_id, raw in (await client.hgetall(f"helpline:workers:calls:{worker}")).items():
                found[json.loads(raw)["external_call_id"]] = (pid, call_id)
        return found
    finally:
        await client.aclose()


async def on_both_workers(server, callers: list, limit: int = 12) -> dict:
    """Dial callers until both workers hold at least one call (the kernel picks the worker)."""
    while True:
        caller = dial(server)
        await caller.__aenter__()
        callers.append(caller)
        await caller.wait_until_quiet()
        assert caller.greeting.first_bot_audio is not None, "every call is answered"
        where = await live_calls(server)
        if len({where[c.reference][0] for c in callers if c.reference in where}) == 2 or len(callers) >= limit:
            return where


async def test_a_killed_worker_loses_only_its_calls_which_close_as_abandoned_and_it_comes_back(cluster):
    from handoff.store.redis_store import RedisStore

    store = RedisStore(cluster.redis.url)
    await store.add_record("callback", {"call_id": "call-before-the-crash", "number": "+15551230009"})
    callers = []
    try:
        where = await on_both_workers(cluster, callers)
        pids = {where[c.reference][0] for c in callers}
        assert len(pids) == 2, f"calls landed on one worker only: {where}"
        for caller in callers:  # every caller asks for a person: each waits in a queue (no agent is signed in)
            await caller.press("0", wait=False)
        queued = {c.reference: where[c.reference][1] for c in callers}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all([await store.get_call(i) for i in queued.values()]):
            await asyncio.sleep(0.5)
        for call_id in queued.values():
            assert (await store.get_call(call_id)).state == "waiting"
        victim = where[callers[0].reference][0]
        os.kill(victim, signal.SIGKILL)
        lost = [c for c in callers if where[c.reference][0] == victim]
        kept = [c for c in callers if where[c.reference][0] != victim]
        await asyncio.wait_for(asyncio.gather(*(c.closed.wait() for c in lost)), 10)
        # The other worker's callers are untouched: still on the line, still queued, still answered.
        assert not any(c.closed.is_set() for c in kept)
        heard = [len(c.results[-1].bot_audio) for c in kept]
        await asyncio.sleep(3)
        assert all(len(c.results[-1].bot_audio) > before for c, before in zip(kept, heard)), \
            "the other worker's queued callers still hear the queue"
        for caller in kept:
            assert (await store.get_call(queued[caller.reference])).state == "waiting"
        # The killed worker's calls are closed as abandoned once its lease runs out (10 s).
        deadline = time.monotonic() + 40
        lost_ids = {queued[c.reference] for c in lost}
        while time.monotonic() < deadline and any([await store.get_call(i) for i in lost_ids]):
            await asyncio.sleep(0.5)
        records = {r["id"]: r for r in await store.records("call")}
        assert all(records[i]["state"] == "abandoned" for i in lost_ids), records
        assert [r["call_id"] for r in await store.records("callback")] == ["call-before-the-crash"]
        # The supervisor starts the worker again and it takes calls.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (len(cluster.worker_pids()) < 2 or victim in cluster.worker_pids()):
            await asyncio.sleep(1)
        restarted = set(cluster.worker_pids()) - pids
        assert restarted, "the killed worker was started again"
        cluster.wait_ready(300)
        new = []
        try:
            while time.monotonic() < deadline:
                caller = dial(cluster)
                await caller.__aenter__()
                new.append(caller)
                await caller.wait_until_quiet()
                assert caller.greeting.first_bot_audio is not None
                if (await live_calls(cluster)).get(caller.reference, (None,))[0] in restarted:
                    break
            else:
                pytest.fail("no call reached the restarted worker")
        finally:
            for caller in new:
                await caller.hang_up()
    finally:
        for caller in callers:
            await caller.hang_up()
        await store.close()


async def order_calls_across(cluster, outage) -> list[tuple]:
    """Two callers ask for their order, ``outage()`` happens, then both say the order number.
    For each caller: (the answer to the number, whether the call had ended by then, the call's id)."""
    speech = caller_voice()
    order, number = (speech.synthesize(text, 8000) for text in ("I'd like to check on my order.",
                                                                 "four seven two nine one eight"))
    callers = [dial(cluster) for _ in range(2)]
    for caller in callers:
        await caller.__aenter__()
    try:
        for caller in callers:
            await caller.wait_until_quiet()
        asked = await asyncio.gather(*(c.say(order) for c in callers))
        assert all(turn.first_bot_audio is not None for turn in asked)
        await outage()
        answers = await asyncio.gather(*(c.say(number) for c in callers))
        ended = [c.closed.is_set() for c in callers]
        where = await live_calls(cluster)
        return [(answer, gone, where.get(c.reference, (None, None))[1])  # an ended call has left the leases
                for c, answer, gone in zip(callers, answers, ended)]
    finally:
        for caller in callers:
            await caller.hang_up()


def assert_both_turns_stored(cluster, call_ids: list[str]) -> None:
    """Each call's two caller turns are in its tracker, the second with the order number."""
    import psycopg

    with psycopg.connect(cluster.env["HELPLINE_TRACKER_STORE"]) as connection:
        for call_id in call_ids:
            rows = connection.execute("SELECT event->>'event', event->>'text' FROM tracker_events "
                                      "WHERE sender_id = %s ORDER BY seq", (call_id,)).fetchall()
            said = [text for kind, text in rows if kind == "user"]
            assert len(said) == 2 and "4729" in said[1].replace(" ", ""), said


async def test_calls_ride_out_a_redis_restart_and_no_acknowledged_turn_is_lost(cluster):
    async def restart_redis():
        cluster.redis.stop()  # a clean restart: what Redis acknowledged is in its file
        await asyncio.sleep(1.0)
        cluster.redis.start()

    calls = await order_calls_across(cluster, restart_redis)
    for answer, ended, _ in calls:
        # Each call either goes on (answered) or ended with a reason; none hangs without an answer.
        assert answer.first_bot_audio is not None or ended
    answered = [call_id for answer, _, call_id in calls if answer.first_bot_audio is not None]
    assert answered, "calls go on after Redis comes back"
    assert_both_turns_stored(cluster, answered)


def drop_every_connection(database: str, refuse_for: float) -> None:
    """What a PostgreSQL restart does to the servers: every connection to ``database`` is cut, and new
    ones are refused for ``refuse_for`` seconds. (The shared PostgreSQL itself is not restarted: other
    databases on it belong to other tests.)"""
    import psycopg

    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
            time.sleep(refuse_for)
        finally:
            admin.execute(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true")


async def test_calls_ride_out_postgresql_dropping_every_connection_and_no_acknowledged_turn_is_lost(cluster):
    import psycopg

    calls = await order_calls_across(
        cluster, lambda: asyncio.to_thread(drop_every_connection, cluster.database.name, 1.0))
    # Every stored connection is dead now: each call's next turn must reconnect, not fail.
    for answer, ended, _ in calls:
        assert answer.first_bot_audio is not None and not ended, "the call went on"
    call_ids = [call_id for _, _, call_id in calls]
    assert_both_turns_stored(cluster, call_ids)
    with psycopg.connect(cluster.env["HELPLINE_TRACKER_STORE"]) as connection:
        for call_id in call_ids:
            turns = connection.execute("SELECT COUNT(*) FROM call_turns WHERE call_id = %s AND speaker = 'caller'",
                                       (call_id,)).fetchone()[0]
            assert turns >= 2, f"{call_id}: the call record kept {turns} caller turns"
