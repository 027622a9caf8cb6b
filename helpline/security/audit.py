"""The audit log: who did what, when and from where, as JSON lines an operator can keep and search.

Sign-ins and failed sign-ins, sign-outs, lockouts, model swaps (done and refused) and reloads, tracker
edits (done and refused), actions run through the API, desk transfers and hang-ups, supervisors joining,
changing mode on and leaving a live call (monitor_join, monitor_mode, monitor_leave). Routes outside
``helpline`` reach this log through ``bot.security.audit`` (the app's ``AUDIT_KEY``). Lines go to
``<data_dir>/audit.log`` (mode 0600) and to
the ``helpline.audit`` logger. Details pass through the log scrubber, so a PIN never lands here.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from helpline.logs import scrub

logger = logging.getLogger("helpline.audit")


class AuditLog:
    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, action: str, who: str, where: str | None = None, **details) -> dict:
        entry = scrub({"ts": round(time.time(), 3), "action": action, "who": who, "from": where, **details})
        logger.info("audit", extra={"audit": entry})
        if self.path is not None:
            line = json.dumps(entry, default=str) + "\n"
            with self._lock:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(descriptor, "a") as out:
                    out.write(line)
        return entry
