"""``helpline report`` and ``helpline demo-data``: the supervisors' reports from the shell."""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import date, timedelta
from pathlib import Path


def _stores(args):
    """The call-record store and the ACD store of the project in ``--project``, and its handoff config."""
    from bot.training_data.project import load_project
    from handoff.records import create_records_store
    from handoff.store import create_store
    from helpline.settings import load_settings

    settings = load_settings(Path(args.project), load_project(Path(args.project)).config)
    records = create_records_store(settings.records_store, settings.data_dir)
    return records, create_store(settings.handoff_store, settings.data_dir), settings.config.handoff


def _day(text: str) -> date:
    from handoff.reports.periods import parse_day

    try:
        return parse_day(text)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None


def cmd_report(args) -> None:
    from handoff.reports import tables
    from handoff.reports.service import ReportRequest, full_report

    chosen = [name for name, wanted in (("queues", args.queue), ("agents", args.agent),
                                        ("staff_plan", args.staff_plan)) if wanted]
    if args.format == "csv" and len(chosen) > 1:
        sys.exit("error: CSV holds one table: choose one of --queue, --agent, --staff-plan")
    request = ReportRequest(_day(args.date_from), _day(args.date_to), args.by, args.synthetic, args.tz)

    async def run() -> dict:
        records, acd_store, config = _stores(args)
        try:
            return await full_report(request, records, acd_store, config)
        finally:
            await records.close()
            await acd_store.close()

    try:
        report = asyncio.run(run())
    except ValueError as error:
        sys.exit(f"error: {error}")
    if args.format == "json":
        if not args.staff_plan:
            report.pop("staff_plan")
        print(json.dumps(report, indent=2))
    elif args.format == "csv":
        sys.stdout.write(tables.to_csv(report, chosen[0] if chosen else "periods"))
    else:
        print(tables.totals_text(report))
        for name in ("periods", *chosen, "escalation_reasons", "intents"):
            print(f"\n{name.replace('_', ' ')}:\n{tables.to_text(report, name)}")
    if report["totals"]["calls"] == 0 and not args.synthetic:
        print("no real calls in this window (helpline demo-data makes synthetic ones: report them with "
              "--synthetic)", file=sys.stderr)


DEMO_BATCH = 1000  # demo calls written per transaction


def cmd_demo_data(args) -> None:
    """Synthetic calls and agent shifts for the last ``--days`` days (today not included)."""
    from tqdm import tqdm

    from handoff.acd_agents import PRESENCE
    from handoff.records.base import CallFilter
    from handoff.reports.demo_data import DemoShape, demo_calls, demo_shifts
    from handoff.reports.periods import Calendar

    async def run() -> int:
        records, acd_store, config = _stores(args)
        try:
            real = await records.find(CallFilter(synthetic=False), limit=1)
            if real and not args.force:
                raise SystemExit("error: this store holds real calls; demo data is meant for a new deployment. "
                                 "Reports and the call list keep synthetic calls apart (they show them only when "
                                 "asked), so --force adds them anyway.")
            calendar = Calendar(args.tz or config.reports.timezone)
            end = date.today()
            first = end - timedelta(days=args.days)
            shape = DemoShape(args.calls_per_day, tuple(q.name for q in config.queues),
                              tuple(a.id for a in config.agents) or DemoShape.agents)
            written, batch = 0, []
            with tqdm(desc="demo calls", unit=" calls", file=sys.stderr) as bar:
                for record in demo_calls(first, end, calendar, shape):
                    batch.append(record)
                    if len(batch) == DEMO_BATCH:
                        await records.import_records(batch)
                        written, batch = written + len(batch), []
                        bar.update(DEMO_BATCH)
                await records.import_records(batch)
                written += len(batch)
                bar.update(len(batch))
            known = {(r["agent_id"], r["at"]) for r in await acd_store.records(PRESENCE, since=calendar.day_start(first))
                     if r.get("synthetic")}
            for shift in demo_shifts(first, end, calendar, shape.agents):
                if (shift["agent_id"], shift["at"]) not in known:
                    await acd_store.add_record(PRESENCE, shift)
            print(f"{written} synthetic calls from {first} to {end - timedelta(days=1)} and the shifts of "
                  f"{len(shape.agents)} agents; see them with: helpline report --from {first} --to {end} "
                  "--synthetic, or on the supervisor's reports page")
            return written
        finally:
            await records.close()
            await acd_store.close()

    asyncio.run(run())


def add_report_commands(commands) -> None:
    report = commands.add_parser("report", help="calls, service level, ASA, AHT, abandonment, containment... "
                                                "over a date range, per hour, day or week")
    report.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD", help="first day reported")
    report.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD",
                        help="first day NOT reported (--from 2026-11-01 --to 2026-12-01 is November)")
    report.add_argument("--by", choices=["hour", "day", "week"], default="day", help="period of each row")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.add_argument("--queue", action="store_true", help="add the per-queue table")
    report.add_argument("--agent", action="store_true", help="add the per-agent table")
    report.add_argument("--staff-plan", action="store_true",
                        help="add agents needed per hour of the day (Erlang C) beside the agents signed in")
    report.add_argument("--synthetic", action="store_true", help="report the demo's synthetic calls instead")
    report.add_argument("--tz", help="time zone of the days and hours (default: handoff: reports: timezone)")
    report.set_defaults(func=cmd_report)
    demo = commands.add_parser("demo-data", help="fill the call records with synthetic traffic (marked synthetic) "
                                                 "so the reports have something to show")
    demo.add_argument("--days", type=int, default=30, help="days before today to fill (default 30)")
    demo.add_argument("--calls-per-day", type=int, default=300, help="calls on a weekday (weekends: fewer)")
    demo.add_argument("--tz", help="time zone of the traffic's day shape (default: handoff: reports: timezone)")
    demo.add_argument("--force", action="store_true", help="add them even where real calls are recorded")
    demo.set_defaults(func=cmd_demo_data)
