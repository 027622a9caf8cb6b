"""What the SQLite and PostgreSQL call-record stores share: the schema, the row shape and the queries.

A record is one row (the columns the call list filters and the KPIs add up, plus the rest as JSON);
its turns are rows of their own, each inserted in its own transaction as the call goes, so a crash
loses at most the turn being spoken. The queries are written once with ``?`` placeholders; the
PostgreSQL store turns them into psycopg's ``%s`` (no query here holds a literal ``%`` or ``?``).
"""
from __future__ import annotations

import dataclasses
import json

from handoff.records.base import CallFilter, WindowTotals
from handoff.records.model import ABANDONED, CONTAINED, IN_PROGRESS, CallRecord, Review, Turn, turn_counts

# Record fields kept as columns; every other field (except turns) goes in ``data``.
COLUMNS = ("id", "channel", "started_at", "caller", "ended_at", "outcome", "queue", "agent_id", "queued_at",
           "answered_at", "agent_ended_at", "wrap_up_seconds", "qa_score", "synthetic")
RECORD_FIELDS = {f.name for f in dataclasses.fields(CallRecord)}
DATA_FIELDS = RECORD_FIELDS - set(COLUMNS) - {"turns"}
SELECT_RECORD = f"SELECT {', '.join(COLUMNS)}, data FROM {{records}} r"
# A record's turns counted as ``turn_counts`` counts them, kept up to date as turns are added, so a report
# adds up columns instead of reading every turn's JSON.
TURN_COUNTS = ("classified_turns", "fallback_turns", "knowledge_answers", "knowledge_misses")


def schema(records: str, turns: str, reviews: str, real: str) -> list[str]:
    """CREATE statements; ``real`` is the dialect's double type."""
    return [
        f"CREATE TABLE IF NOT EXISTS {records} (id TEXT PRIMARY KEY, channel TEXT NOT NULL, "
        f"started_at {real} NOT NULL, caller TEXT NOT NULL DEFAULT '', ended_at {real}, outcome TEXT NOT NULL, "
        f"queue TEXT, agent_id TEXT, queued_at {real}, answered_at {real}, agent_ended_at {real}, "
        f"wrap_up_seconds {real}, qa_score {real}, flagged INTEGER NOT NULL DEFAULT 0, "
        f"synthetic INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL, "
        + ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in TURN_COUNTS) + ")",
        f"CREATE INDEX IF NOT EXISTS {records}_started ON {records} (synthetic, started_at)",
        f"CREATE INDEX IF NOT EXISTS {records}_open ON {records} (outcome)",
        f"CREATE TABLE IF NOT EXISTS {turns} (call_id TEXT NOT NULL, seq INTEGER NOT NULL, at {real} NOT NULL, "
        f"speaker TEXT NOT NULL, text TEXT NOT NULL, intent TEXT, data TEXT NOT NULL, PRIMARY KEY (call_id, seq))",
        f"CREATE TABLE IF NOT EXISTS {reviews} (id TEXT PRIMARY KEY, call_id TEXT NOT NULL, agent_id TEXT, "
        f"reviewer TEXT NOT NULL, at {real} NOT NULL, score {real}, data TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {reviews}_call ON {reviews} (call_id)",
        f"CREATE INDEX IF NOT EXISTS {reviews}_agent ON {reviews} (agent_id, at)",
    ]


def count_columns_added(records: str, turns: str, present: set[str], field, true: str) -> list[str]:
    """Statements that add ``TURN_COUNTS`` to a records table made before they existed, filled from its turns.

    ``present``: the table's column names; ``field(document, key)``: the dialect's JSON member as text or
    number, equal to ``true`` when it is JSON true. Empty when the columns are there."""
    missing = [c for c in TURN_COUNTS if c not in present]
    if not missing:
        return []
    conditions = {"classified_turns": f"t.intent IS NOT NULL OR {field('t.data', 'fallback')} = {true}",
                  "fallback_turns": f"{field('t.data', 'fallback')} = {true}",
                  "knowledge_answers": f"{field('t.data', 'knowledge')} = 'answered'",
                  "knowledge_misses": f"{field('t.data', 'knowledge')} = 'missed'"}
    counts = ", ".join(f"{c} = (SELECT COUNT(*) FROM {turns} t WHERE t.call_id = {records}.id AND ({conditions[c]}))"
                       for c in missing)
    return [*(f"ALTER TABLE {records} ADD COLUMN {c} INTEGER NOT NULL DEFAULT 0" for c in missing),
            f"UPDATE {records} SET {counts} WHERE EXISTS (SELECT 1 FROM {turns} t WHERE t.call_id = {records}.id)"]


def record_row(record: CallRecord) -> tuple:
    """Values for ``COLUMNS`` + flagged + data, in that order."""
    values = dataclasses.asdict(record)
    row = [values[c] for c in COLUMNS]
    row[COLUMNS.index("synthetic")] = int(bool(record.synthetic))
    data = {k: values[k] for k in DATA_FIELDS}
    return (*row, int(bool(record.qa_flags)), json.dumps(data))


def record_from_row(row: tuple, turns: list[Turn]) -> CallRecord:
    values = dict(zip(COLUMNS, row))
    values.update(json.loads(row[len(COLUMNS)]))
    values["synthetic"] = bool(values["synthetic"])
    record = CallRecord.from_dict({**values, "turns": []})
    record.turns = turns
    return record


def imported_row(record: CallRecord) -> tuple:
    """``record_row`` followed by the ``TURN_COUNTS`` of the record's turns: a finished record written whole."""
    return (*record_row(record), *turn_counts(record.turns))


def turn_row(call_id: str, seq: int, turn: Turn) -> tuple:
    data = {k: v for k, v in dataclasses.asdict(turn).items() if k not in ("at", "speaker", "text", "intent")}
    return call_id, seq, turn.at, turn.speaker, turn.text, turn.intent, json.dumps(data)


def turn_from_row(row: tuple) -> Turn:
    """``row``: at, speaker, text, intent, data."""
    at, speaker, text, intent, data = row
    return Turn(at=at, speaker=speaker, text=text, intent=intent, **json.loads(data))


def merged(record: CallRecord, fields: dict) -> CallRecord:
    """The record with ``fields`` changed; unknown names and ``turns`` are refused (turns go one by one)."""
    unknown = set(fields) - RECORD_FIELDS | ({"turns", "id"} & set(fields))
    if unknown:
        raise ValueError(f"call records cannot update {sorted(unknown)}")
    return dataclasses.replace(record, **fields)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


def where_clause(where: CallFilter, turns: str) -> tuple[str, list]:
    """``WHERE ...`` over the records aliased ``r`` and its parameters."""
    parts, params = [], []

    def add(sql: str, *values) -> None:
        parts.append(sql)
        params.extend(values)

    if where.since is not None:
        add("r.started_at >= ?", where.since)
    if where.until is not None:
        add("r.started_at < ?", where.until)
    if where.caller:
        add("r.caller LIKE ? ESCAPE '\\'", _like(where.caller))
    for column in ("outcome", "queue", "agent_id"):
        value = getattr(where, column)
        if value:
            add(f"r.{column} = ?", value)
    if where.qa_below is not None:
        add("r.qa_score < ?", where.qa_below)
    if where.flagged is not None:
        add("r.flagged = ?", int(where.flagged))
    if where.synthetic is not None:
        add("r.synthetic = ?", int(where.synthetic))
    if where.intent:
        add(f"EXISTS (SELECT 1 FROM {turns} t WHERE t.call_id = r.id AND t.intent = ?)", where.intent)
    if where.keyword:
        add(f"EXISTS (SELECT 1 FROM {turns} t WHERE t.call_id = r.id AND LOWER(t.text) LIKE ? ESCAPE '\\')",
            _like(where.keyword))
    return ("WHERE " + " AND ".join(parts)) if parts else "", params


def totals_query(records: str) -> str:
    """One indexed range scan adding up a window; parameters: SL seconds, since, until, synthetic."""
    return (
        "SELECT "
        f"COALESCE(SUM(CASE WHEN outcome <> '{IN_PROGRESS}' THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN outcome = '{CONTAINED}' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN queued_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN queued_at IS NOT NULL AND answered_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN queued_at IS NOT NULL AND answered_at IS NOT NULL "
        "AND answered_at - queued_at <= ? THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN queued_at IS NOT NULL AND answered_at IS NULL AND outcome = '{ABANDONED}' "
        "THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN queued_at IS NOT NULL AND answered_at IS NOT NULL "
        "THEN answered_at - queued_at ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND agent_ended_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND agent_ended_at IS NOT NULL "
        "THEN agent_ended_at - answered_at + COALESCE(wrap_up_seconds, 0) ELSE 0 END), 0) "
        f"FROM {records} WHERE synthetic = ? AND started_at >= ? AND started_at < ?"
    )


def escalations_query(records: str, reason: str) -> str:
    """Queued calls of a window by escalation reason; ``reason``: the dialect's SQL for the JSON member;
    parameters: synthetic, since, until."""
    return (f"SELECT {reason}, COUNT(*) FROM {records} WHERE synthetic = ? AND started_at >= ? AND started_at < ? "
            f"AND queued_at IS NOT NULL GROUP BY {reason}")


def totals_from_rows(since: float, until: float, row: tuple, escalations: list[tuple]) -> WindowTotals:
    ints = [int(v) for v in row[:6]]
    by_reason: dict[str, int] = {}
    for reason, calls in escalations:
        by_reason[reason or "unknown"] = by_reason.get(reason or "unknown", 0) + int(calls)
    return WindowTotals(since, until, *ints, float(row[6]), int(row[7]), float(row[8]), by_reason)


def review_row(review: Review) -> tuple:
    return (review.id, review.call_id, review.agent_id, review.reviewer, review.at, review.score,
            json.dumps(review.to_dict()))


def review_from_row(row: tuple) -> Review:
    return Review(**json.loads(row[0]))


def agent_days_query(records: str, day: str) -> str:
    """Per agent and UTC day: calls answered, talk/handle/wrap-up/QA sums and counts; parameters: since, until.

    ``day`` is the dialect's whole-days-since-1970 of ``started_at``."""
    talk = "agent_ended_at - answered_at"
    return (
        f"SELECT agent_id, {day} AS day, COUNT(*), "
        f"COALESCE(SUM(CASE WHEN agent_ended_at IS NOT NULL THEN {talk} END), 0), COUNT(agent_ended_at), "
        f"COALESCE(SUM(CASE WHEN agent_ended_at IS NOT NULL THEN {talk} + COALESCE(wrap_up_seconds, 0) END), 0), "
        "COALESCE(SUM(wrap_up_seconds), 0), COUNT(wrap_up_seconds), COALESCE(SUM(qa_score), 0), COUNT(qa_score) "
        f"FROM {records} WHERE synthetic = 0 AND started_at >= ? AND started_at < ? AND agent_id IS NOT NULL "
        "AND answered_at IS NOT NULL GROUP BY agent_id, day ORDER BY agent_id, day"
    )
