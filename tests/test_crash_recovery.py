"""``kill -9`` with a caller waiting in a queue, then a restart, on the default single-process stores.

A real ``helpline run`` in a subprocess (SQLite trackers and ACD in its data folder), a real
Twilio-protocol caller with the real models: the caller has one finished turn with the bot, asks
for a person (keypad 0) and waits in the queue. The server is killed; the restarted one must close
the call as abandoned before any agent can be offered it, leave the conversation not paused, and
the transcript on disk must hold the finished turn.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
import uuid

import aiohttp
import pytest

from tests.auth_support import sign_in
from tests.scale_support import ServerProcess, linked_project
from tests.voice.conftest import CALLER, caller_voice

pytestmark = pytest.mark.slow


def transcript_of(project, reference: str) -> dict | None:
    for path in (project / ".helpline" / "recordings").glob("*/transcript.json"):
        record = json.loads(path.read_text())
        if record["external_call_id"] == reference:
            return record
    return None


def get_json(server: ServerProcess, path: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}",
                                     headers={"Authorization": f"Bearer {server.token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


async def wait_for(check, limit: float, what: str):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        found = await found if asyncio.iscoroutine(found) else found
        if found:
            return found
        await asyncio.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


async def test_a_call_queued_when_the_server_is_killed_is_abandoned_on_restart(demo_archive, tmp_path):
    from handoff.store.sqlite_store import SqliteStore
    from helpline.security.secrets import load_secrets
    from voice_gateway.client import Caller, LineCredentials, open_line

    # No reprompt or hang-up while the caller waits in silence on this slow box.
    project = linked_project(tmp_path / "project", {"no_input": {"timeout_secs": 60, "reprompts": 1,
                                                                 "then": "hang_up"}})
    data = tmp_path / "data"
    server = ServerProcess(project, data, demo_archive)
    reference = f"CA{uuid.uuid4().hex}"
    try:
        server.wait_ready(600)
        secrets = load_secrets(data)
        line = open_line(f"http://127.0.0.1:{server.port}", "twilio",
                         credentials=LineCredentials(secrets.twilio_auth_token, secrets.secret_key))
        order = caller_voice().synthesize("I'd like to check on my order.", 8000)
        caller = Caller(line, quiet_secs=1.5, answer_timeout=60).dial(reference, CALLER)
        async with caller:
            await caller.wait_until_quiet()
            asked = await caller.say(order)
            assert asked.first_bot_audio is not None
            await caller.press("0", wait=False)
            record = await wait_for(lambda: transcript_of(project, reference), 10, "the transcript")
            call_id = record["call_id"]
            acd = SqliteStore(data / "handoff.sqlite3")
            try:
                queued = await wait_for(lambda: acd.get_call(call_id), 60, "the call in the queue")
                assert queued.state == "waiting"
            finally:
                await acd.close()
            assert get_json(server, f"/conversations/{call_id}/tracker")[1]["paused"]
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait(10)
            await asyncio.wait_for(caller.closed.wait(), 10)
    finally:
        server.stop()

    # Every finished turn is on disk: the greeting, the caller's words and the bot's answer to them.
    lines = transcript_of(project, reference)["lines"]
    speakers = [line["speaker"] for line in lines]
    assert speakers[:1] == ["bot"] and "caller" in speakers, lines
    said = speakers.index("caller")
    assert "order" in lines[said]["text"].lower() and "bot" in speakers[said + 1:], lines

    restarted = ServerProcess(project, data, demo_archive)
    try:
        restarted.wait_ready(600)
        assert get_json(restarted, "/ready") == (200, {"status": "ready"})
        acd = SqliteStore(data / "handoff.sqlite3")
        try:
            assert await acd.get_call(call_id) is None  # no longer the ACD's to distribute
            records = {r["id"]: r for r in await acd.records("call")}
            assert records[call_id]["state"] == "abandoned", records
            assert not [c for c in await acd.calls() if c.state == "waiting"]
        finally:
            await acd.close()
        status, tracker = get_json(restarted, f"/conversations/{call_id}/tracker")
        assert status == 200 and tracker["paused"] is False
        # An agent who signs in and becomes available is offered nothing.
        async with aiohttp.ClientSession(f"http://127.0.0.1:{restarted.port}",
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await sign_in(http, "alice")
            async with http.ws_connect("/desk/ws") as desk:
                assert (await desk.receive_json())["type"] == "hello"
                await desk.send_json({"type": "state", "state": "available"})
                offers = []
                try:
                    async with asyncio.timeout(5):  # ten rounds of the ACD loop
                        while True:
                            event = await desk.receive_json()
                            if event.get("type") == "offer":
                                offers.append(event)
                except TimeoutError:
                    pass
                assert not offers, offers
    finally:
        restarted.stop()
