"""The browser softphone in headless Chromium, its microphone fed from a WAV of a caller's question."""
from __future__ import annotations

import asyncio

import pytest

from tests.browser import chromium_page, sign_in, wait_until
from voice_gateway.audio.wav import write_wav


@pytest.fixture
def caller_wav(voice_server, tmp_path):
    speech = voice_server.synthesize("I'd like to check on my order.", 16000)
    path = tmp_path / "caller.wav"
    # Quiet first (the greeting plays), then the question, then silence so the turn ends.
    write_wav(path, bytes(16000 * 2 * 9) + speech + bytes(16000 * 2 * 6), 16000)
    return path


async def test_softphone_call_from_a_fake_microphone(voice_server, caller_wav):
    async with chromium_page(f"--use-file-for-fake-audio-capture={caller_wav}%noloop") as page:
        await sign_in(page, voice_server.url, "/softphone?caller=%2B15551230001", "admin")
        await page.click("#call")
        await page.wait_for_selector("body[data-status='in call']", timeout=10000)
        await page.wait_for_selector("p.caller:not(.partial)", timeout=40000)
        await wait_until(
            page, "[...document.querySelectorAll('p.bot')].some(p => p.textContent.includes('order number'))",
            timeout=20)
        assert int(await page.evaluate("document.body.dataset.botAudio")) > 16000  # > 1 s of bot audio
        caller_said = await page.inner_text("p.caller:not(.partial)")
        assert "order" in caller_said.lower()
        await page.click("#call")  # hang up
        await asyncio.sleep(0.5)
    assert not voice_server.services.calls
