"""The supervisor's reports page: ``/supervisor/reports`` and the JSON/CSV it draws from.

``GET /supervisor/api/report?from=YYYY-MM-DD&to=YYYY-MM-DD&by=week[&synthetic=1]`` answers the same
report as ``helpline report --format json --staff-plan``; with ``format=csv&table=NAME`` one of its
tables as a CSV download. The charts are drawn by Chart.js, which ``scripts/setup.sh`` installs from
npm into ``node_modules/`` and Helpline serves itself at ``/handoff/vendor/chart.js`` (no CDN).
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from aiohttp import web

from handoff.config import HandoffConfig
from handoff.reports import tables
from handoff.reports.periods import BY, parse_day
from handoff.reports.service import ReportRequest, full_report

STATIC = Path(__file__).resolve().parents[1] / "static"
CHART_JS = Path(__file__).resolve().parents[2] / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
MAX_DAYS = 366


class ReportsPage:
    def __init__(self, records, acd_store, config: HandoffConfig):
        self.records = records
        self.acd_store = acd_store
        self.config = config

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/supervisor/reports", self.page)
        app.router.add_get("/supervisor/api/report", self.report)
        app.router.add_get("/handoff/vendor/chart.js", self.chart_js)

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "reports.html")

    async def chart_js(self, request: web.Request) -> web.StreamResponse:
        if not CHART_JS.is_file():
            return web.Response(status=404, text="Chart.js is not installed: run scripts/setup.sh (npm ci)")
        return web.FileResponse(CHART_JS, headers={"Content-Type": "text/javascript"})

    async def report(self, request: web.Request) -> web.Response:
        try:
            report_request = _request(request.query)
        except ValueError as error:
            return web.json_response({"error": str(error)}, status=400)
        if self.records is None:
            return web.json_response({"error": "this server keeps no call records"}, status=404)
        report = await full_report(report_request, self.records, self.acd_store, self.config)
        if request.query.get("format") == "csv":
            name = request.query.get("table", "periods")
            try:
                body = tables.to_csv(report, name)
            except ValueError as error:
                return web.json_response({"error": str(error)}, status=400)
            filename = f"helpline-{name}-{report_request.first}-{report_request.end}.csv"
            return web.Response(text=body, content_type="text/csv",
                                headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return web.json_response({**report, "columns": tables.TABLES})


def _request(query) -> ReportRequest:
    """The report asked for; by default the last four whole weeks by week, today included."""
    end = parse_day(query["to"]) if query.get("to") else date.today() + timedelta(days=1)
    try:
        first = parse_day(query["from"]) if query.get("from") else end - timedelta(days=28)
    except OverflowError:  # a "to" in the first four weeks of year 1
        raise ValueError("to is too early for a default four-week window; give from") from None
    by = query.get("by", "week")
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    if not first < end or (end - first).days > MAX_DAYS:
        raise ValueError(f"from must come before to, at most {MAX_DAYS} days apart")
    return ReportRequest(first, end, by, query.get("synthetic") in ("1", "true"))
