"""Supervisors look back: the call list with filters, one call's page, manual reviews and agent performance.

JSON under ``/supervisor/api/...`` and two pages (``/supervisor/calls``, ``/supervisor/calls/{call_id}``)
whose scripts draw them; agents read their own reviews from the desk (``/desk/api/reviews``). The
call's audio is the two recorded legs served as one stereo WAV (caller left, bot and agent right),
so one player drives the transcript. Who may use each route is in ``helpline.security.routes``.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Callable

from aiohttp import web

from bot.security.json_limits import JsonLimitError, loads
from bot.security.paths import UnsafePath, safe_child
from bot.security.principal import principal_of
from handoff.agent_performance import agent_performance
from handoff.quality.config import CHECKS, ScorecardConfig
from handoff.quality.scorecard import weighted_score
from handoff.records.base import CallFilter, CallRecordStore
from handoff.records.model import OUTCOMES, CallRecord, Review
from handoff.stereo import stereo_wav

STATIC = Path(__file__).parent / "static"
MAX_COMMENT = 4000
MAX_PAGE = 500
MAX_OFFSET = 2**31 - 1  # a store's integer: larger is a 400, not an overflow in the database driver
DAY = 86400.0


class CallHistoryApi:
    def __init__(self, store: CallRecordStore, scorecard: ScorecardConfig,
                 recordings: Callable[[], Path | None] = lambda: None):
        """``recordings``: the voice gateway's recordings folder as it is now (None: calls are not recorded)."""
        self.store, self.scorecard, self.recordings = store, scorecard, recordings

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/supervisor/calls", _page("calls.html"))
        app.router.add_get("/supervisor/calls/{call_id}", _page("call.html"))
        app.router.add_get("/supervisor/api/calls", self.list_calls)
        app.router.add_get("/supervisor/api/calls/{call_id}", self.call)
        app.router.add_get("/supervisor/api/calls/{call_id}/audio", self.audio)
        app.router.add_post("/supervisor/api/calls/{call_id}/reviews", self.review)
        app.router.add_get("/supervisor/api/agents", self.agents)
        app.router.add_get("/desk/api/reviews", self.my_reviews)

    async def list_calls(self, request: web.Request) -> web.Response:
        where, limit, offset = _filter(request.query)
        calls = await self.store.find(where, limit, offset)
        return web.json_response({"calls": [_row(c) for c in calls], "limit": limit, "offset": offset})

    async def call(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        reviews = await self.store.reviews(call_id=record.id)
        return web.json_response({
            "call": record.to_dict(), "audio": bool(self._legs(record)),
            "reviews": [r.to_dict() for r in reviews],
            "scorecard": {"checks": [c for c in CHECKS if self.scorecard.weights.get(c, 0) > 0],
                          "weights": dict(self.scorecard.weights)}})

    async def audio(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        legs = self._legs(record)
        if not legs:
            raise web.HTTPNotFound(text="no recording kept for this call")
        return web.Response(body=stereo_wav(legs.get("caller"), legs.get("bot")), content_type="audio/wav",
                            headers={"Cache-Control": "private, no-store"})

    async def review(self, request: web.Request) -> web.Response:
        record = await self._record(request)
        try:
            body = loads(await request.read())
        except JsonLimitError as error:
            return web.json_response({"error": str(error)}, status=400)
        checks = body.get("checks") if isinstance(body, dict) else None
        comments = body.get("comments", "") if isinstance(body, dict) else None
        wanted = {c for c in CHECKS if self.scorecard.weights.get(c, 0) > 0}
        if not isinstance(checks, dict) or set(checks) != wanted or not all(isinstance(v, bool) for v in checks.values()) \
                or not isinstance(comments, str) or len(comments) > MAX_COMMENT:
            return web.json_response({"error": f"send checks (true/false for each of {sorted(wanted)}) and comments "
                                               f"(text, at most {MAX_COMMENT} characters)"}, status=400)
        review = Review(uuid.uuid4().hex, record.id, principal_of(request).user, time.time(),
                        weighted_score(checks, self.scorecard), checks, comments.strip(), record.agent_id)
        await self.store.add_review(review)
        return web.json_response(review.to_dict(), status=201)

    async def agents(self, request: web.Request) -> web.Response:
        where, _, _ = _filter(request.query)
        until = where.until if where.until is not None else time.time()
        since = where.since if where.since is not None else until - 30 * DAY
        reviews = [r for r in await self.store.reviews() if since <= r.at]  # made in the period or since
        return web.json_response({"since": since, "until": until,
                                  "agents": agent_performance(await self.store.agent_days(since, until), reviews)})

    async def my_reviews(self, request: web.Request) -> web.Response:
        reviews = await self.store.reviews(agent_id=principal_of(request).user)
        return web.json_response({"reviews": [r.to_dict() for r in reversed(reviews)]})

    async def _record(self, request: web.Request) -> CallRecord:
        record = await self.store.get(request.match_info["call_id"])
        if record is None:
            raise web.HTTPNotFound(text="no such call")
        return record

    def _legs(self, record: CallRecord) -> dict[str, Path]:
        """The call's recorded legs that are still on disk (retention deletes old ones)."""
        root = self.recordings()
        if root is None:
            return {}
        legs = {}
        for leg, name in record.recordings.items():
            folder, _, file = name.partition("/")
            try:
                path = safe_child(safe_child(root, folder), file)
            except UnsafePath:
                continue
            if path.is_file():
                legs[leg] = path
        return legs


def _row(record: CallRecord) -> dict:
    intents = []
    for turn in record.turns:
        if turn.intent and turn.intent not in intents:
            intents.append(turn.intent)
    return {"id": record.id, "started_at": record.started_at, "channel": record.channel, "caller": record.caller,
            "seconds": round(record.ended_at - record.started_at, 1) if record.ended_at else None,
            "outcome": record.outcome, "queue": record.queue, "agent_id": record.agent_id,
            "escalation_reason": record.escalation_reason, "intents": intents[:4], "qa_score": record.qa_score,
            "qa_flags": record.qa_flags, "wait_seconds": record.wait_seconds}


def _when(text: str, end: bool) -> float:
    """Epoch seconds, or a UTC date (YYYY-MM-DD; as an end, the whole day is included)."""
    try:
        return float(text)
    except ValueError:
        day = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.timezone.utc).timestamp()
        return day + DAY if end else day


def _filter(query) -> tuple[CallFilter, int, int]:
    try:
        where = CallFilter(
            since=_when(query["from"], False) if query.get("from") else None,
            until=_when(query["to"], True) if query.get("to") else None,
            caller="".join(ch for ch in query.get("caller", "") if ch.isdigit()) or None,
            intent=query.get("intent") or None, queue=query.get("queue") or None,
            agent_id=query.get("agent") or None, keyword=(query.get("keyword") or "")[:100] or None,
            qa_below=float(query["qa_below"]) if query.get("qa_below") else None,
            flagged=True if query.get("flagged") in ("1", "true") else None,
            outcome=query.get("outcome") or None)
        limit = min(MAX_PAGE, max(1, int(query.get("limit", 100))))
        offset = max(0, int(query.get("offset", 0)))
        if offset > MAX_OFFSET:
            raise ValueError(f"offset is at most {MAX_OFFSET}")
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"bad filter: {error}") from None
    if where.outcome is not None and where.outcome not in OUTCOMES:
        raise web.HTTPBadRequest(text=f"outcome must be one of {', '.join(OUTCOMES)}")
    return where, limit, offset


def _page(name: str):
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name)
    return handler

