"""Structured (JSON lines) logging with PII scrubbing, the conversation's id and an access log.

Every record is one JSON object with its ``extra`` fields, and ``conversation_id``: the call or
conversation the line was written for (``bot.observe.conversation_id``, set where a call or a message
comes in), so one grep finds every line of a call, the bot's included. Card numbers, PINs
and dates of birth in any text (``bot.security.pii``, the detector every stored
text goes through), and any field named like a secret (pin, password, date of
birth, card), are masked before it is written, whatever the caller passed.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time

from aiohttp import web

from bot.observe import conversation_id
from bot.security.pii import MASK, mask_pii

_SECRET_KEYS = re.compile(r"pin|password|passcode|secret|token|dob|date_of_birth|card", re.IGNORECASE)
_STANDARD_ATTRIBUTES = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def scrub(value):
    """Mask card numbers, PINs and dates of birth in strings and secret-named fields in mappings, recursively."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: (MASK if _SECRET_KEYS.search(str(k)) and v is not None else scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
                 "event": record.getMessage()}
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRIBUTES})
        entry.setdefault("conversation_id", conversation_id.get())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(scrub(entry), default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is written, not what it was at set-up.

    A program that runs ``helpline`` in process while it has replaced stderr (a test runner
    capturing output, a tool redirecting it) would otherwise leave the handler on a stream it
    later closes, and every line from a background thread would fail to write.
    """

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(level: str = "INFO") -> None:
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp.access", "sentence_transformers", "transformers", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.Formatter.converter = time.gmtime


_access = logging.getLogger("helpline.access")


@web.middleware
async def access_log(request: web.Request, handler):
    """One line per HTTP request: method, path (never the query), status, time, and the conversation's id
    where the request had one (a call's WebSocket, a REST message, a ``/conversations/{id}`` route)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        _access.info("http request", extra={
            "method": request.method, "path": request.path, "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1), "remote": request.remote,
            "conversation_id": conversation_id.get() or request.match_info.get("sender_id")})
