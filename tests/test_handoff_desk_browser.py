"""The agent desk in a real headless Chromium: log in, get the call with the bot's summary, accept, hear the caller.

The call escalates through the bot's REST channel and a recorded caller leg
(a real LJSpeech recording) stands in for the voice gateway's leg on the bridge.
Chromium's fake microphone checks the way back: the agent's audio reaches the leg.
"""
from __future__ import annotations

import shutil

import pytest
from aiohttp.test_utils import TestClient, TestServer

from handoff.announcements import CONNECTING
from helpline.app import AGENT_BRIDGE, build_app
from tests.conftest import ROOT
from tests.handoff_support import RecordedCallerLeg, speech_pcm16, stream_speech

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def client(demo_archive, tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    async with TestClient(TestServer(build_app(ROOT, demo_archive))) as test_client:
        yield test_client


@pytest.fixture
async def page():
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def say(client, sender: str, text: str) -> None:
    response = await client.post("/webhooks/rest/webhook", json={
        "sender": sender, "message": text, "metadata": {"caller_number": "+15551230001"}})
    assert response.status == 200


async def test_agent_gets_the_summary_accepts_and_hears_the_caller(client, page):
    base = str(client.make_url(""))
    await page.goto(f"{base}/desk")
    await page.fill("#agent-id", "alice")
    await page.fill("#password", "northwind")
    await page.click("#login")
    await page.wait_for_selector("#desk:not([hidden])")
    await page.click("button[data-state=available]")
    await page.wait_for_function("document.body.dataset.state === 'available'")

    await say(client, "web-1", "where is my order 472918")
    await say(client, "web-1", "agent please")
    bridge = client.server.app[AGENT_BRIDGE]
    leg = RecordedCallerLeg("web-1")
    await bridge.caller_joined(leg)

    await page.wait_for_selector("#offer-panel:not([hidden])", timeout=10000)
    assert await page.text_content("#summary-reason") == "caller_request"
    assert await page.text_content("#summary-intents") == "check_order_status, talk_to_agent"
    assert await page.text_content("dd[data-slot=order_number]") == "472918"
    assert "Orders looked up: 472918" in await page.text_content("#summary-text")

    await page.click("#accept")
    await page.wait_for_selector("#call-panel:not([hidden])")
    await leg.wait_for(lambda: CONNECTING in leg.said)

    speech = speech_pcm16()[:16000 * 2 * 2]  # two seconds of a real recording
    await stream_speech(bridge, "web-1", speech)
    await page.wait_for_function(f"window.deskAudio.bytes >= {len(speech)}", timeout=10000)
    audio = await page.evaluate("window.deskAudio")
    assert audio["bytes"] == len(speech) and audio["peak"] > 0.1, audio  # speech, not silence
    await leg.wait_for(lambda: len(leg.agent_audio) > 0, timeout=10)  # the fake microphone reached the caller
