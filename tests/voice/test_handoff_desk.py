"""A phone call reaches an agent: escalation through the real gateway, the summary on the desk in Chromium.

The caller dials over Twilio Media Streams (8 kHz mu-law, Piper-synthesized speech), checks an
order by voice and asks for a person. The agent, logged in on the desk page in headless Chromium,
gets the offer with the bot's summary, accepts, and hears the caller's audio.
"""
from __future__ import annotations

import uuid

from tests.browser import chromium_page, sign_in, wait_until
from tests.voice.conftest import CALLER
from voice_gateway.client import Caller


async def log_in_available(page, base: str) -> None:
    await sign_in(page, base, "/desk", "alice")
    await wait_until(page, "document.getElementById('who').textContent === 'Alice Chen'")
    await page.click("button[data-state=available]")
    await wait_until(page, "document.body.dataset.state === 'available'")


async def test_escalated_call_pops_the_summary_and_the_agent_hears_the_caller(voice_server):
    # Spoken before dialing, so each turn starts as soon as the bot has been quiet for quiet_secs.
    turns = [voice_server.synthesize(text) for text in (
        "I'd like to check on my order.", "four seven two nine one eight", "Can I talk to a person please?")]
    async with chromium_page() as page:
        await log_in_available(page, voice_server.url)
        async with Caller(voice_server.line("twilio"), quiet_secs=2.0).dial(f"CA{uuid.uuid4().hex}", CALLER) as caller:
            call_id = await voice_server.call_id_of(caller)
            for speech in turns[:-1]:
                await caller.say(speech)
            await caller.say(turns[-1], wait=False)  # then the hold chime plays: the line is never quiet again

            await page.wait_for_selector("#offer-panel:not([hidden])", timeout=20000)
            assert await page.text_content("#summary-reason") == "caller_request"
            intents = (await page.text_content("#summary-intents")).split(", ")
            assert intents[0] == "check_order_status" and intents[-1] == "talk_to_agent"
            assert await page.text_content("dd[data-slot=order_number]") == "472918"
            assert "472918" in await page.text_content("#summary-text")

            await page.click("#accept")
            await page.wait_for_selector("#call-panel:not([hidden])")
            await caller.say(voice_server.synthesize("Hello, I have a question about my delivery."), wait=False)
            await wait_until(page, "window.deskAudio.bytes > 16000", timeout=15)  # > 0.5 s at 16 kHz
            audio = await page.evaluate("window.deskAudio")
            assert audio["peak"] > 0.1, audio  # speech reached the agent, not silence
    tracker = voice_server.tracker(call_id)
    assert tracker.paused and tracker.slots["handoff_reason"] == "caller_request"
