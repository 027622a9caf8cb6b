"""A report with its staff plan, as the command line and the supervisor's page both ask for it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handoff.config import HandoffConfig
from handoff.reports.report import build_report
from handoff.reports.staffing import Targets, signed_in_by_hour, staff_plan


@dataclass(frozen=True)
class ReportRequest:
    first: date
    end: date                          # the first day not reported
    by: str = "day"
    synthetic: bool = False
    tz: str | None = None              # None: ``handoff: reports: timezone``


async def full_report(request: ReportRequest, records, acd_store, config: HandoffConfig) -> dict:
    """The report of ``request`` plus ``staff_plan`` (hours of the day) with the agents signed in, where the
    ACD store kept sign-ins (``acd_store`` None: no sign-in column)."""
    settings = config.reports
    tz = request.tz or settings.timezone
    report = await build_report(records, request.first, request.end, request.by, tz, config.service_level_seconds,
                                request.synthetic)
    signed_in = None
    if acd_store is not None:
        from handoff.reports.periods import Calendar

        calendar = Calendar(tz)
        since, until = calendar.window(request.first, request.end)
        signed_in = await signed_in_by_hour(acd_store, calendar, since, until, report["window"]["days"],
                                            request.synthetic)
    targets = Targets(settings.service_level_target, config.service_level_seconds, settings.shrinkage,
                      settings.max_occupancy)
    report["staff_plan"] = staff_plan(report, targets, signed_in)
    report["window"]["staff_targets"] = {"service_level": targets.service_level,
                                         "answer_seconds": targets.answer_seconds, "shrinkage": targets.shrinkage,
                                         "max_occupancy": targets.max_occupancy,
                                         "signed_in_known": signed_in is not None}
    return report
