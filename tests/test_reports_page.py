"""The supervisor's reports page in headless Chromium: charts from a month of demo traffic, the staff plan
next to the agents signed in, CSV of the tables. Screenshots go to results/screenshots/ (looked at; the
README's copies are docs/screenshots/)."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from aiohttp.test_utils import TestClient, TestServer

from handoff.acd_agents import PRESENCE
from handoff.records.sqlite_store import SqliteCallRecordStore
from handoff.reports.demo_data import DemoShape, demo_calls, demo_shifts
from handoff.reports.periods import Calendar
from handoff.reports.tables import TABLES
from handoff.reports.web import CHART_JS
from handoff.store.sqlite_store import SqliteStore
from helpline.app import build_app
from tests import needs
from tests.browser import chromium_page, sign_in, wait_until
from tests.conftest import ROOT

SHOTS = ROOT / "results" / "screenshots"


async def fill_demo_data(data_dir, days: int = 28) -> int:
    calendar = Calendar("UTC")
    end = date.today() + timedelta(days=1)
    first = end - timedelta(days=days)
    records = SqliteCallRecordStore(data_dir / "records.sqlite3")
    acd_store = SqliteStore(data_dir / "handoff.sqlite3")
    written = 0
    for record in demo_calls(first, end, calendar, DemoShape(120, ("general",), ("alice", "bob", "carol"))):
        await records.start(record)
        written += 1
    for shift in demo_shifts(first, end, calendar, ("alice", "bob", "carol")):
        await acd_store.add_record(PRESENCE, shift)
    await records.close()
    await acd_store.close()
    return written


async def chart(page, chart_id: str, expression: str):
    return await page.evaluate(f"(() => {{ const c = Chart.getChart('{chart_id}'); return {expression}; }})()")


async def test_reports_page_draws_the_demo_month_and_the_staff_plan(demo_archive, tmp_path, monkeypatch):
    if not CHART_JS.is_file():
        needs.unavailable(f"Chart.js in {CHART_JS.parent} (scripts/setup.sh runs npm ci)", needs.SERVICES_FLAG)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    written = await fill_demo_data(data_dir)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    for name in ("HELPLINE_RECORDS_STORE", "HELPLINE_HANDOFF_STORE", "HELPLINE_TRACKER_STORE"):
        monkeypatch.delenv(name, raising=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    async with TestClient(TestServer(build_app(ROOT, demo_archive))) as client:
        base = str(client.make_url("")).rstrip("/")
        async with chromium_page() as page:
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: problems.append(message.text)
                    if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
            page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
                    if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
            await page.set_viewport_size({"width": 1400, "height": 1000})
            await sign_in(page, base, "/supervisor/reports", "sam")
            await wait_until(page, "document.body.dataset.ready !== undefined")
            # No real calls: the page falls back to the demo's synthetic ones and says so.
            assert "synthetic" in await page.inner_text("#status")
            assert await page.is_checked("#synthetic")
            periods = await chart(page, "chart-trend", "c.data.labels")
            assert 4 <= len(periods) <= 5 and all("-W" in p for p in periods)  # four weeks by ISO week
            calls = await chart(page, "chart-trend", "c.data.datasets[0].data.reduce((a, b) => a + b, 0)")
            assert calls == written
            for chart_id, x_title, y_title in (("chart-trend", "ISO week", "calls"), ("chart-times", "ISO week", "seconds"),
                                               ("chart-hours", "hour of day (UTC)", "calls per day"),
                                               ("chart-days", "day of week", "calls per day"),
                                               ("chart-staff", "hour of day (UTC)", "agents")):
                assert await chart(page, chart_id, "c.options.scales.x.title.text") == x_title
                assert await chart(page, chart_id, "c.options.scales.y.title.text") == y_title
            assert await chart(page, "chart-trend", "c.options.scales.level.title.text") == "service level (%)"
            staff = await chart(page, "chart-staff", "c.data.datasets.map(d => [d.label, d.data])")
            needed, rostered, signed_in = (dict(staff)[label] for label in (
                "Agents needed on the phones", "Agents to roster (with shrinkage)", "Agents signed in (average)"))
            assert len(needed) == 24 and max(needed) >= 1 and all(r >= n for r, n in zip(rostered, needed))
            assert signed_in[3] == 0 and signed_in[10] > 1          # the demo's shifts: nobody at 3, two at 10
            rows = await page.locator("#table-staff_plan tbody tr").count()
            assert rows == 24
            await page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
            await page.locator("#chart-staff").scroll_into_view_if_needed()
            await page.locator(".charts figure.wide").screenshot(path=str(SHOTS / "reports-staff-plan.png"))

            # Every table has its CSV, with the same rows as the page shows.
            for name in TABLES:
                href = await page.get_attribute(f"#csv-{name}", "href")
                response = await page.request.get(f"{base}{href}")
                assert response.status == 200 and "text/csv" in response.headers["content-type"], name
                table = list(csv.reader(io.StringIO(await response.text())))
                assert tuple(table[0]) == TABLES[name]
                assert len(table) - 1 == await page.locator(f"#table-{name} tbody tr").count(), name

            # Another window by day: the page redraws from the form.
            await page.select_option("#by", "day")
            await page.click("#show")
            await wait_until(page, "document.body.dataset.ready.endsWith('/day')")
            assert len(await chart(page, "chart-trend", "c.data.labels")) == 28
    assert not problems, problems   # no script errors, nothing the Content-Security-Policy refused


async def test_report_api_answers_csv_and_refuses_bad_windows(demo_archive, tmp_path, monkeypatch):
    from tests.auth_support import sign_in as sign_in_client

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    await fill_demo_data(data_dir, days=3)
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HELPLINE_MODELS_DIR", str(demo_archive.parent))
    for name in ("HELPLINE_RECORDS_STORE", "HELPLINE_HANDOFF_STORE", "HELPLINE_TRACKER_STORE"):
        monkeypatch.delenv(name, raising=False)
    async with TestClient(TestServer(build_app(ROOT, demo_archive))) as client:
        await sign_in_client(client, "sam")
        end = date.today() + timedelta(days=1)
        window = f"from={end - timedelta(days=3)}&to={end}"
        for bad in ("from=2026-11-05&to=2026-11-01", "from=2020-01-01&to=2026-01-01", f"{window}&by=month",
                    f"{window}&format=csv&table=secrets", "from=yesterday"):
            response = await client.get(f"/supervisor/api/report?{bad}")
            assert response.status == 400 and "error" in await response.json(), bad
        response = await client.get(f"/supervisor/api/report?{window}&by=day&synthetic=1&format=csv&table=periods")
        assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(await response.text())))
        assert len(rows) == 3 and sum(int(r["calls"]) for r in rows) > 0
        real = await (await client.get(f"/supervisor/api/report?{window}")).json()
        assert real["totals"]["calls"] == 0 and real["window"]["by"] == "week"   # synthetic calls only when asked
