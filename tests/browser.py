"""Headless Debian Chromium for the browser tests, driven by Playwright (no browser download)."""
from __future__ import annotations

from contextlib import asynccontextmanager

from tests import needs

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required"]


@asynccontextmanager
async def chromium_page(*extra_args: str):
    """A fresh page in a fresh browser; the fake microphone plays a WAV when an argument names one."""
    from playwright.async_api import async_playwright

    executable = needs.chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=[*ARGS, *extra_args],
                                                   headless=True)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def sign_in(page, base: str, path: str, user: str, password: str = "northwind") -> None:
    """Open a staff page as an anonymous browser would: sent to the sign-in page, then back."""
    await page.goto(f"{base}{path}")
    await page.wait_for_url("**/login?next=**")
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("#login")
    await page.wait_for_url(f"{base}{path}")
