"""Structured (JSON lines) logging with PII scrubbing.

Every record is one JSON object with its ``extra`` fields. Card numbers, PINs
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
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(scrub(entry), default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp.access", "sentence_transformers", "transformers", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.Formatter.converter = time.gmtime
