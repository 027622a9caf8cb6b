"""Capture what the process logs, formatted as Helpline's JSON lines, for tests that read the logs."""
from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from typing import Iterator

from helpline.logs import JsonFormatter


@contextmanager
def json_logs(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Every record at ``level`` or above, as ``helpline run`` writes it, into the yielded buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
