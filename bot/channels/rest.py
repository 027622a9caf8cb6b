"""Rasa's HTTP API on aiohttp: the REST channel, parsing, trackers and health (model swaps: helpline.model_versions).

Every route answers malformed input with a 400 and a JSON body naming the
problem; a model that fails to load leaves the current one serving.

Who the caller is never comes from an anonymous client: ``metadata.caller_number``
on the REST webhook is honoured only from an authenticated channel client (the
bearer API token or a JWT, as Rasa's channels authenticate) and dropped otherwise,
so a claimed number neither finds a customer nor makes a VIP. Slots that gate
account data (``Domain.protected_slots``) cannot be set through the events route,
whoever asks: only the bot's actions set them.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot import observe
from bot.core.events import EventFormatError, SlotSet, events_from_dicts
from bot.core.processor import MessageProcessor, UserMessage
from bot.security.audit import audit
from bot.security.conversation_ids import CALL_ID_PREFIX, is_call_id
from bot.security.json_limits import JsonLimitError, loads
from bot.security.principal import principal_of

logger = logging.getLogger(__name__)
PROCESSOR_KEY = web.AppKey("processor", MessageProcessor)
MAX_MESSAGE_CHARS = 5000
MAX_SENDER_CHARS = 128
CALLER_NUMBER = "caller_number"
CHANNEL_CLIENTS = ("token", "jwt")  # how a channel client that may vouch for caller ID authenticates


def error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response({"version": "helpline", "status": "failure", "reason": reason, "message": message,
                              "code": status}, status=status)


async def _json_body(request: web.Request):
    """The JSON body, with nesting limited (``bot.security.json_limits``): bad input is a 400, never a 500."""
    try:
        return loads(await request.read())
    except JsonLimitError as exc:
        raise web.HTTPBadRequest(text=json.dumps({"reason": "BadRequest", "message": str(exc)}),
                                 content_type="application/json") from None


async def _json_object(request: web.Request) -> dict:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"reason": "BadRequest", "message": "body must be a JSON object"}),
                                 content_type="application/json")
    return body


def _text_field(body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=json.dumps({"reason": "BadRequest", "message": f"'{key}' must be a string"}),
                                 content_type="application/json")
    if len(value) > MAX_MESSAGE_CHARS:
        raise web.HTTPBadRequest(text=json.dumps({"reason": "BadRequest",
                                                  "message": f"'{key}' is longer than {MAX_MESSAGE_CHARS} characters"}),
                                 content_type="application/json")
    return value


def processor_of(request: web.Request) -> MessageProcessor:
    return request.app[PROCESSOR_KEY]


async def rest_webhook(request: web.Request) -> web.Response:
    body = await _json_object(request)
    sender = body.get("sender", "default")
    metadata = body.get("metadata") or {}
    if not isinstance(sender, str) or not sender or len(sender) > MAX_SENDER_CHARS or not isinstance(metadata, dict):
        return error(400, "BadRequest", f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} "
                                        "characters and 'metadata' an object")
    if is_call_id(sender):
        return error(400, "BadRequest", f"sender ids starting with '{CALL_ID_PREFIX}' are the phone calls' own")
    observe.conversation_id.set(sender)  # this request's task: its access log line names the conversation
    message = UserMessage(_text_field(body, "message"), sender, "rest", _trusted_metadata(request, metadata))
    return web.json_response(await processor_of(request).handle_message(message))


def _trusted_metadata(request: web.Request, metadata: dict) -> dict:
    """The message metadata, without a caller ID that an unauthenticated client claims."""
    if CALLER_NUMBER not in metadata or principal_of(request).via in CHANNEL_CLIENTS:
        return metadata
    logger.warning("caller number from an unauthenticated client ignored",
                   extra={"peer": request.remote, "via": principal_of(request).via})
    return {k: v for k, v in metadata.items() if k != CALLER_NUMBER}


async def parse(request: web.Request) -> web.Response:
    body = await _json_object(request)
    return web.json_response(await processor_of(request).parse(_text_field(body, "text")))


async def get_tracker(request: web.Request) -> web.Response:
    tracker = await processor_of(request).get_tracker(request.match_info["sender_id"])
    return web.json_response(tracker.current_state())


async def append_events(request: web.Request) -> web.Response:
    raw = await _json_body(request)
    try:
        events = events_from_dicts(raw if isinstance(raw, list) else [raw])
    except EventFormatError as exc:
        return error(400, "BadRequest", str(exc))
    processor = processor_of(request)
    protected = processor.model.domain.protected_slots
    refused = sorted({e.name for e in events if isinstance(e, SlotSet) and e.name in protected})
    sender_id = request.match_info["sender_id"]
    if refused:
        logger.warning("protected slot events refused", extra={"slots": refused, "user": principal_of(request).user})
        audit(request, "tracker_edit_refused", conversation=sender_id, slots=refused)
        return error(400, "ProtectedSlot", f"the slot{'s' if len(refused) > 1 else ''} "
                                           f"{', '.join(repr(name) for name in refused)} can only be set by the "
                                           "bot's actions, not through the events API")
    await processor.store.append(sender_id, events)
    audit(request, "tracker_edited", conversation=sender_id, events=[type(e).__name__ for e in events][:50])
    return web.json_response((await processor.get_tracker(sender_id)).current_state())


async def execute(request: web.Request) -> web.Response:
    body = await _json_object(request)
    name = _text_field(body, "name")
    processor = processor_of(request)
    if not processor.model.domain.is_known_action(name):
        return error(404, "ActionNotFound", f"unknown action '{name}'")
    audit(request, "action_executed", conversation=request.match_info["sender_id"], name=name)
    messages = await processor.execute_action(request.match_info["sender_id"], name)
    tracker = await processor.get_tracker(request.match_info["sender_id"])
    return web.json_response({"tracker": tracker.current_state(), "messages": messages})


async def health(request: web.Request) -> web.Response:
    """Open to anyone (load balancers), so it says nothing but that the server answers."""
    return web.json_response({"status": "ok"})


async def status(request: web.Request) -> web.Response:
    """Rasa's ``GET /status``: the model being served."""
    return web.json_response({"fingerprint": processor_of(request).model.fingerprint,
                              "num_active_training_jobs": 0})


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]):
    """Turn aiohttp's plain-text HTTP errors into Rasa-style JSON bodies."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json":
            body = json.loads(exc.text or "{}")
            return error(exc.status, body.get("reason", exc.reason), body.get("message", exc.reason))
        return error(exc.status, exc.reason, exc.text or exc.reason)


def add_routes(app: web.Application, processor: MessageProcessor) -> None:
    app[PROCESSOR_KEY] = processor
    app.middlewares.append(json_errors)
    app.router.add_post("/webhooks/rest/webhook", rest_webhook)
    app.router.add_post("/model/parse", parse)
    app.router.add_get("/conversations/{sender_id}/tracker", get_tracker)
    app.router.add_post("/conversations/{sender_id}/tracker/events", append_events)
    app.router.add_post("/conversations/{sender_id}/execute", execute)
    app.router.add_get("/health", health)
    app.router.add_get("/status", status)

