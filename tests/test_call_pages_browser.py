"""The call list and a call's page in headless Chromium: filter the list, open a call, play its recording
and watch the transcript follow the audio. Screenshots go to results/screenshots/ (the README's copies
are docs/screenshots/)."""
from __future__ import annotations

import shutil

from tests.browser import chromium_page, sign_in, wait_until
from tests.call_history_support import call_history_server
from tests.conftest import ROOT

SHOTS = ROOT / "results" / "screenshots"


def keep(path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


async def test_call_list_and_a_call_page_playing_its_recording(demo_archive, tmp_path, monkeypatch):
    async with call_history_server(demo_archive, tmp_path, monkeypatch) as client:
        base = str(client.make_url("")).rstrip("/")
        async with chromium_page() as page:
            await page.set_viewport_size({"width": 1280, "height": 900})
            await sign_in(page, base, "/supervisor/calls", "sam")
            rows = page.locator("#call-rows tr")
            await wait_until(page, "document.querySelectorAll('#call-rows tr').length === 2")
            await wait_until(page, "document.querySelectorAll('#agent-rows tr').length === 1")
            assert "alice" in await page.locator("#agent-rows").inner_text()
            await page.fill("input[name=keyword]", "lawyer")
            await page.click("#search")
            await wait_until(page, "document.querySelectorAll('#call-rows tr').length === 1")
            assert "phrase:lawyer" in await rows.first.inner_text()
            assert "keyword=lawyer" in page.url
            await page.screenshot(path=str(tmp_path / "call-list.png"), full_page=True)

            await rows.first.locator("a").click()
            await page.wait_for_url("**/supervisor/calls/call-a")
            await wait_until(page, "document.querySelectorAll('#lines tr').length === 5")
            assert "check_order_status (0.81)" in await page.locator("#lines tr").nth(1).inner_text()
            assert "Sent a new tracking link" in await page.inner_text("#notes")
            assert "Caller asked about order" in await page.inner_text("#summary")
            await wait_until(page, "document.getElementById('player').readyState >= 1")
            assert await page.evaluate("document.getElementById('player').duration") == 3.0
            await page.evaluate("document.getElementById('player').play()")
            await wait_until(page, "document.getElementById('player').currentTime > 1.7", timeout=20)
            current = await page.evaluate("[...document.querySelectorAll('#lines tr.current')].map(r => r.dataset.at)")
            time_now = await page.evaluate("document.getElementById('player').currentTime")
            assert len(current) == 1 and float(current[0]) <= time_now  # the line being heard, one at a time
            assert float(current[0]) >= 1.5 or time_now < 2.2
            await page.evaluate("document.getElementById('player').pause()")
            await page.screenshot(path=str(tmp_path / "call-page.png"), full_page=True)

            await page.locator("#lines tr").nth(3).click()  # a click plays from that line
            await wait_until(page, "document.querySelector('#lines tr.current') && "
                                   "document.querySelector('#lines tr.current').dataset.at === '2.2'", timeout=20)
            await page.check("#check-greeting")
            await page.fill("#comments", "Good recovery")
            await page.click("#save-review")
            await page.locator("#review-status", has_text="Saved").wait_for()
            await page.locator("#reviews", has_text="Good recovery").wait_for()  # the list reloads after saving
            assert "sam: 10 / 100" in await page.inner_text("#reviews")  # only the greeting ticked: 10 of 100
        for name in ("call-list.png", "call-page.png"):
            keep(tmp_path / name)
