"""The supervisor page's monitoring controls and the desk's indicator, in headless Chromium.

A phone caller (real gateway) reaches Alice's desk page; Sam, on the supervisor page, clicks Listen,
Whisper and Barge in on Alice's row: the page hears the call, and Alice's desk says who is on the call
and how, until Sam stops.
"""
from __future__ import annotations

import uuid

from tests.browser import chromium_page, sign_in, wait_until
from tests.tones import CALLER_HZ, tone
from tests.voice.conftest import CALLER
from tests.voice.test_handoff_desk import log_in_available
from voice_gateway.client import Caller

INDICATOR = "document.getElementById('supervisor-line')"
SHOWN = {"listen": "Supervisor Sam Rivera is listening", "whisper": "Supervisor Sam Rivera is whispering to you",
         "barge": "Supervisor Sam Rivera is on the call"}


async def test_supervisor_page_monitors_a_call_and_the_desk_shows_it(voice_server, tmp_path):
    async with chromium_page() as desk, chromium_page() as boss:
        await log_in_available(desk, voice_server.url)
        await sign_in(boss, voice_server.url, "/supervisor", "sam")
        async with Caller(voice_server.line("twilio")).dial(f"CA{uuid.uuid4().hex}", CALLER) as caller:
            call_id = await voice_server.call_id_of(caller)
            await caller.press("0", wait=False)
            await desk.wait_for_selector("#offer-panel:not([hidden])", timeout=30000)
            await desk.click("#accept")
            await desk.wait_for_selector("#call-panel:not([hidden])")
            assert await desk.is_hidden("#supervisor-line")

            for mode, label in (("listen", "Listen"), ("whisper", "Whisper"), ("barge", "Barge in")):
                button = boss.locator(f"button[data-agent=alice][data-mode={mode}]")
                await button.wait_for(timeout=10000)
                assert await button.text_content() == label
                await button.click()
                await wait_until(boss, f"document.body.dataset.monitor === '{mode}'")
                await wait_until(desk, f"{INDICATOR}.dataset.mode === '{mode}' && !{INDICATOR}.hidden")
                assert await desk.text_content("#supervisor-line") == SHOWN[mode]
                assert call_id in await boss.text_content("#monitor-status")
                assert await boss.get_attribute("button.active", "data-mode") == mode
                if mode == "listen":
                    await caller.say(tone(CALLER_HZ, 1.0, 8000), wait=False)
                    await wait_until(boss, "window.supervisorAudio.peak > 0.1", timeout=10)  # the caller's tone
            await desk.screenshot(path=str(tmp_path / "desk-supervisor-on-call.png"))  # looked at by a person
            await boss.screenshot(path=str(tmp_path / "supervisor-barged-in.png"), full_page=True)

            await boss.click("#monitor-stop")
            await wait_until(desk, f"{INDICATOR}.hidden")
            assert await boss.text_content("#monitor-status") == "Stopped monitoring."
