"""The editor page in headless Chromium: teach the bot a turn it fell back on, see it live, roll back."""
from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.model_registry import ModelRegistry
from helpline.app import build_app
from tests.browser import chromium_page, sign_in
from tests.model_support import demo_project, install_archive

FALLBACK_TURN = "my parcel went walkabout"  # the demo model does not know this one (nlu_fallback)


async def understood_as(page, text: str, intent: str) -> None:
    await page.fill("#try-text", text)
    await page.click("#try-button")
    await page.locator(f"#try-intent:text-is('{intent}')").wait_for(timeout=30000)  # the page's CSP forbids eval


async def test_add_a_fallback_turn_see_it_live_and_roll_back(demo_archive, tmp_path, monkeypatch):
    root = demo_project(tmp_path / "project")
    first = install_archive(demo_archive, root / "models")
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HELPLINE_MODELS_DIR", raising=False)
    async with TestClient(TestServer(build_app(root))) as client:
        base = str(client.make_url("")).rstrip("/")
        response = await client.post("/webhooks/rest/webhook", json={"sender": "caller-7", "message": FALLBACK_TURN})
        assert response.status == 200
        async with chromium_page() as page:
            await sign_in(page, base, "/editor", "erin")
            row = page.locator("#turns tr", has_text=FALLBACK_TURN)
            await row.wait_for()
            assert "fallback" in await row.inner_text()
            await understood_as(page, FALLBACK_TURN, "nlu_fallback")

            await row.locator("select").select_option("check_order_status")
            await row.locator("button").click()
            await page.wait_for_selector("#job.live", timeout=600_000)
            await understood_as(page, FALLBACK_TURN, "check_order_status")  # the next parse: live, no restart
            await row.wait_for(state="detached", timeout=30000)  # taught: no longer a turn to learn from
            registry = ModelRegistry(root / "models")
            second = registry.active
            assert second != first and registry.get(second).results["change"]["by"] == "erin"
            newest = page.locator(f"#versions tr[data-version='{second}']")
            await newest.wait_for()
            assert FALLBACK_TURN in await newest.inner_text() and "active" in await newest.inner_text()

            await page.locator(f"#versions tr[data-version='{first}'] button").click()  # roll back
            await page.wait_for_selector("#job.live", timeout=60_000)
            await page.locator("#job", has_text=f"Version {first} is active").wait_for()
            await understood_as(page, FALLBACK_TURN, "nlu_fallback")
            assert registry.active == first
