"""The gateway names every call itself: a client's own id is a reference, never a conversation or a file name."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from handoff.announcements import CALLBACK_OFFER
from tests.voice.conftest import CALLER
from voice_gateway.client import Caller


async def eventually(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def greetings(tracker) -> int:
    return sum(1 for e in tracker.events if type(e).__name__ == "ActionExecuted" and e.name == "utter_greet")


async def test_the_gateway_names_the_call_and_keeps_the_clients_id_as_a_reference(voice_server):
    async with Caller(voice_server.line("helpline")).dial("my-own-id", CALLER) as caller:
        assert caller.call_id.startswith("call-") and len(caller.call_id) == 5 + 32
        session = voice_server.services.calls[caller.call_id]
        assert session.external_id == "my-own-id"
        await eventually(lambda: caller.greeting.first_bot_audio is not None, what="the greeting")
    assert greetings(voice_server.tracker(caller.call_id)) == 1
    assert voice_server.tracker("my-own-id").events == []  # the client's id names no conversation


async def test_a_client_id_equal_to_another_calls_id_gets_a_call_of_its_own(voice_server):
    """A client that names a live (or an ended) call's id is given a new call, never that one."""
    first = Caller(voice_server.line("helpline")).dial(None, CALLER)
    async with first:
        taken = first.call_id
        await eventually(lambda: first.greeting.first_bot_audio is not None, what="the first greeting")
        async with Caller(voice_server.line("helpline")).dial(taken, CALLER) as second, \
                Caller(voice_server.line("twilio")).dial(taken, CALLER):
            calls = voice_server.services.calls

            def named_taken() -> list[str]:
                return [call_id for call_id, session in list(calls.items()) if session.external_id == taken]

            await eventually(lambda: len(named_taken()) == 2, what="both calls")
            assert second.call_id in named_taken() and taken not in named_taken()
            assert calls[taken].external_id == first.reference  # the first call is still the first caller's
            await eventually(lambda: second.greeting.first_bot_audio is not None, what="the second greeting")
    async with Caller(voice_server.line("helpline")).dial(taken, CALLER) as later:  # the call has ended
        assert later.call_id != taken
        await eventually(lambda: later.greeting.first_bot_audio is not None, what="the later greeting")
    assert greetings(voice_server.tracker(taken)) == 1  # no other call joined the first one's conversation
    assert greetings(voice_server.tracker(second.call_id)) == 1


async def test_the_rest_channel_cannot_post_into_a_phone_call(voice_server):
    """Even knowing a live call's id, a REST client cannot add turns to that caller's conversation."""
    async with Caller(voice_server.line("helpline")).dial(None, CALLER) as caller:
        await eventually(lambda: caller.greeting.first_bot_audio is not None, what="the greeting")
        before = len(voice_server.tracker(caller.call_id).events)
        async with aiohttp.ClientSession() as client:
            response = await client.post(f"{voice_server.url}/webhooks/rest/webhook",
                                         json={"sender": caller.call_id, "message": "what's my balance"})
            assert response.status == 400
            assert "phone calls' own" in (await response.json())["message"]
        assert len(voice_server.tracker(caller.call_id).events) == before


@pytest.fixture
def callback_offered_at_once(voice_server):
    """Every queue offers a callback or voicemail as soon as a caller waits (max_wait 0)."""
    acd = voice_server.services.agent_bridge.acd
    saved = {name: queue.max_wait for name, queue in acd.queues.items()}
    for queue in acd.queues.values():
        queue.max_wait = 0
    yield acd
    for name, wait in saved.items():
        acd.queues[name].max_wait = wait


@pytest.mark.parametrize("reference", ["absolute", "../escaped-voicemail"])
async def test_a_voicemail_lands_in_the_voicemail_folder_whatever_the_client_called_the_call(
        voice_server, callback_offered_at_once, tmp_path, reference):
    outside = tmp_path / "outside" / "voicemail"
    reference = str(outside) if reference == "absolute" else reference
    folder = voice_server.services.agent_bridge.voicemail_dir
    before = set(folder.iterdir()) if folder.exists() else set()
    async with Caller(voice_server.line("helpline")).dial(reference, CALLER) as caller:
        await caller.press("0", wait=False)
        await eventually(lambda: any(e.get("text") == CALLBACK_OFFER for e in caller.events), 40, "the callback offer")
        await caller.press("2", wait=False)  # leave a message
        await asyncio.sleep(1.0)  # a second of the caller's line goes to the voicemail
    acd = callback_offered_at_once
    records = []
    for _ in range(100):
        records = [r for r in await voice_server.in_server(acd.store.records("voicemail"))
                   if r["call_id"] == caller.call_id]
        if records:
            break
        await asyncio.sleep(0.1)
    assert records, "no voicemail recorded"
    written = set(folder.iterdir()) - before
    assert written == {folder / f"{caller.call_id}.wav"}
    assert records[0]["audio"] == str(folder.resolve() / f"{caller.call_id}.wav") and records[0]["seconds"] > 0.5
    assert not outside.parent.exists() and not (outside.parent / "voicemail.wav").exists()
    assert not (folder.parent / "escaped-voicemail.wav").exists()

