"""The supervisors' call list, call page API, recordings, manual reviews and agent performance over HTTP.

The real app (demo bot, security layer, SQLite call records); records are written by a second store
on the same file, as another server process would, and the recordings are real WAV files.
"""
from __future__ import annotations

import io
import time
import wave

import numpy as np
import pytest

from tests.auth_support import sign_in
from tests.call_history_support import BASE, DAY, RATE, call_history_server

@pytest.fixture
async def server(demo_archive, tmp_path, monkeypatch):
    async with call_history_server(demo_archive, tmp_path, monkeypatch) as client:
        yield client


def day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


async def ids(client, query: str = "") -> list[str]:
    response = await client.get(f"/supervisor/api/calls{query}")
    assert response.status == 200, await response.text()
    return [c["id"] for c in (await response.json())["calls"]]


async def test_the_call_list_filters(server):
    await sign_in(server, "sam")
    assert await ids(server) == ["call-b", "call-a"]
    assert await ids(server, "?outcome=handed_off") == ["call-a"]
    assert await ids(server, "?keyword=LAWYER&flagged=1") == ["call-a"]
    assert await ids(server, "?caller=0002") == ["call-b"]
    assert await ids(server, "?intent=check_order_status&agent=alice&queue=orders&qa_below=50") == ["call-a"]
    assert await ids(server, f"?from={day(BASE + DAY)}&to={day(BASE + DAY)}") == ["call-b"]
    assert await ids(server, f"?to={day(BASE)}") == ["call-a"]
    assert await ids(server, f"?from={BASE + 1}") == ["call-b"]  # epoch seconds work too
    assert (await server.get("/supervisor/api/calls?outcome=exploded")).status == 400
    assert (await server.get("/supervisor/api/calls?from=yesterday")).status == 400


async def test_the_call_page_data_and_its_stereo_recording(server):
    await sign_in(server, "sam")
    detail = await (await server.get("/supervisor/api/calls/call-a")).json()
    call = detail["call"]
    assert detail["audio"] is True and call["notes"] == "Sent a new tracking link"
    assert call["turns"][1]["intent"] == "check_order_status" and call["turns"][1]["actions"] == ["order_status_form"]
    assert detail["scorecard"]["checks"] == ["greeting", "verified_first", "resolved", "silence", "talk_over",
                                            "sentiment"]
    audio = await server.get("/supervisor/api/calls/call-a/audio")
    assert audio.status == 200 and audio.content_type == "audio/wav"
    with wave.open(io.BytesIO(await audio.read())) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (2, RATE, 3 * RATE)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.abs(frames[:, 0]).max() > 7000  # the caller's leg on the left
    assert np.abs(frames[: 2 * RATE, 1]).max() > 7000 and np.abs(frames[2 * RATE:, 1]).max() == 0  # bot: 2 s
    assert (await server.get("/supervisor/api/calls/call-b/audio")).status == 404  # a name leading outside
    assert (await server.get("/supervisor/api/calls/nope")).status == 404


async def test_a_supervisor_review_is_scored_stored_and_shown_to_that_agent_only(server):
    headers = await sign_in(server, "sam")
    checks = {"greeting": True, "verified_first": True, "resolved": False, "silence": True, "talk_over": True,
              "sentiment": False}
    saved = await server.post("/supervisor/api/calls/call-a/reviews", json={"checks": checks, "comments": "Escalate sooner"},
                              headers=headers)
    assert saved.status == 201, await saved.text()
    review = await saved.json()
    assert (review["score"], review["reviewer"], review["agent_id"]) == (55.0, "sam", "alice")
    bad = await server.post("/supervisor/api/calls/call-a/reviews", json={"checks": {"greeting": True}},
                            headers=headers)
    assert bad.status == 400
    assert (await server.post("/supervisor/api/calls/call-a/reviews", json={"checks": checks})).status == 403  # CSRF
    stored = await server.records.reviews(call_id="call-a")
    assert [r.comments for r in stored] == ["Escalate sooner"]

    performance = await (await server.get(f"/supervisor/api/agents?from={day(BASE)}&to={day(BASE)}")).json()
    alice = next(a for a in performance["agents"] if a["agent_id"] == "alice")
    assert (alice["calls_handled"], alice["aht_seconds"], alice["wrap_up_seconds"], alice["qa_score"]) == (
        1, 62.0, 12.0, 45.0)
    assert alice["qa_by_day"] == [{"day": day(BASE), "qa_score": 45.0}]
    assert (alice["reviews"], alice["review_score"]) == (1, 55.0)

    server.session.cookie_jar.clear()
    await sign_in(server, "alice")
    mine = await (await server.get("/desk/api/reviews")).json()
    assert [r["comments"] for r in mine["reviews"]] == ["Escalate sooner"]
    assert (await server.get("/supervisor/api/calls")).status == 403
    server.session.cookie_jar.clear()
    await sign_in(server, "bob")
    assert (await (await server.get("/desk/api/reviews")).json())["reviews"] == []
