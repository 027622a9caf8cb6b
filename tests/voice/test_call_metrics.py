"""``/metrics`` after a real phone call: the call, its turns and their latencies are counted.

The scrape is parsed with prometheus-client's own parser, signed in as the demo supervisor; values
are compared before and after the call (other tests of the session call the same server).
"""
from __future__ import annotations

import uuid

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.auth_support import sign_in
from tests.voice.conftest import CALLER
from voice_gateway.client import Caller


async def scrape(http) -> dict[tuple, float]:
    """Every sample as (name, sorted labels) -> value."""
    response = await http.get("/metrics")
    assert response.status == 200, await response.text()
    assert response.content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(await response.text()) for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_call_its_turns_and_their_latencies_are_counted(voice_server):
    speech = voice_server.synthesize("I'd like to check on my order.")
    async with aiohttp.ClientSession(base_url=voice_server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        anonymous = await http.get("/metrics")
        assert anonymous.status == 401
        await sign_in(http, "sam")
        ready = await http.get("/ready")
        assert (ready.status, await ready.json()) == (200, {"status": "ready"})
        before = await scrape(http)
        async with Caller(voice_server.line("twilio"), quiet_secs=2.0).dial(f"CA{uuid.uuid4().hex}", CALLER) as caller:
            await caller.wait_until_quiet()
            during = await scrape(http)
            answer = await caller.say(speech)
            assert answer.first_bot_audio is not None
        after = await scrape(http)

    assert value(during, "helpline_live_calls") == value(before, "helpline_live_calls") + 1
    assert value(after, "helpline_calls_total", protocol="twilio") == \
        value(before, "helpline_calls_total", protocol="twilio") + 1
    assert value(after, "helpline_turns_total", channel="voice") >= value(before, "helpline_turns_total",
                                                                        channel="voice") + 1
    for name in ("helpline_turn_latency_seconds", "helpline_speech_to_audio_seconds"):
        turns = value(after, f"{name}_count") - value(before, f"{name}_count")
        seconds = value(after, f"{name}_sum") - value(before, f"{name}_sum")
        assert turns >= 1 and 0 < seconds < 60 * turns, (name, turns, seconds)
        assert value(after, f"{name}_bucket", le="+Inf") == value(after, f"{name}_count")
    # From the end of speech includes the end-of-turn silence: never shorter than from the end of turn.
    assert value(after, "helpline_speech_to_audio_seconds_sum") - value(before, "helpline_speech_to_audio_seconds_sum") \
        > value(after, "helpline_turn_latency_seconds_sum") - value(before, "helpline_turn_latency_seconds_sum")
    for stage in ("asr", "nlu", "dialogue", "tts"):
        assert value(after, "helpline_stage_seconds_count", stage=stage) > \
            value(before, "helpline_stage_seconds_count", stage=stage), stage
    assert any(name == "helpline_model_info" and v == 1 for (name, _), v in after.items())
    assert ("helpline_agents", (("state", "offline"),)) in after
