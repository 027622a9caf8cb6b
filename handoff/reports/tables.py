"""The report's tables as rows and columns: CSV, aligned text, and the page's CSV downloads.

Column names carry their unit (``_seconds``; rates are fractions 0..1), so a CSV opened in a
spreadsheet needs no legend.
"""
from __future__ import annotations

import csv
import io

KPI_COLUMNS = ("calls", "offered", "handled", "abandoned", "abandonment_rate", "service_level", "asa_seconds",
               "aht_seconds", "talk_seconds", "wrap_up_seconds", "ivr_containment", "callbacks", "voicemails",
               "fallback_rate", "knowledge_answers", "knowledge_misses")
TABLES = {
    "periods": ("period", *KPI_COLUMNS),
    "queues": ("queue", *(c for c in KPI_COLUMNS if c not in (
        "calls", "ivr_containment", "fallback_rate", "knowledge_answers", "knowledge_misses"))),
    "agents": ("agent", "handled", "asa_seconds", "aht_seconds", "talk_seconds", "wrap_up_seconds"),
    "escalation_reasons": ("reason", "calls"),
    "intents": ("intent", "turns", "share"),
    "articles": ("article", "answers", "share"),
    "hour_of_day": ("hour", "calls_per_day", "offered_per_day", "aht_seconds", "service_level", "abandonment_rate"),
    "day_of_week": ("day", "calls_per_day", "offered_per_day", "aht_seconds", "service_level", "abandonment_rate"),
    "staff_plan": ("hour", "calls_per_hour", "aht_seconds", "traffic_erlangs", "agents_needed", "agents_rostered",
                   "signed_in", "expected_service_level", "expected_asa_seconds"),
}


def table(report: dict, name: str) -> tuple[tuple[str, ...], list[list]]:
    """Columns and rows of one table (``staff_plan`` only when the report was given one)."""
    if name not in TABLES:
        raise ValueError(f"no table {name!r}; tables: {', '.join(TABLES)}")
    if name not in report:
        raise ValueError(f"this report has no {name} table")
    columns = TABLES[name]
    return columns, [[row.get(column) for column in columns] for row in report[name]]


def to_csv(report: dict, name: str) -> str:
    columns, rows = table(report, name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue()


def to_text(report: dict, name: str) -> str:
    """An aligned table for the terminal; rates as percentages."""
    columns, rows = table(report, name)
    cells = [[_cell(column, value) for column, value in zip(columns, row)] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))) for row in cells]
    return "\n".join(lines)


def totals_text(report: dict) -> str:
    t, w = report["totals"], report["window"]
    return (f"{w['from']} to {w['to']} (not included), {w['tz']}{', synthetic calls' if w['synthetic'] else ''}: "
            f"{t['calls']} calls, {_cell('ivr_containment', t['ivr_containment'])} contained by the bot; "
            f"{t['offered']} offered to agents, {t['handled']} handled, {t['abandoned']} abandoned "
            f"({_cell('rate', t['abandonment_rate'])}); service level "
            f"{_cell('service_level', t['service_level'])} within {w['service_level_seconds']:g} s; "
            f"ASA {_cell('asa_seconds', t['asa_seconds'])}, AHT {_cell('aht_seconds', t['aht_seconds'])}; "
            f"{t['callbacks']} callbacks; fallback rate {_cell('rate', t['fallback_rate'])}; knowledge "
            f"{t['knowledge_answers']} answers, {t['knowledge_misses']} misses")


def _cell(column: str, value) -> str:
    if value is None:
        return "-"
    if column.endswith(("rate", "level", "containment", "share")) and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if column.endswith("_seconds"):
        return f"{value:.1f} s"
    return str(value)
