"""Where routes report who changed what: the app's auditor, kept under ``AUDIT_KEY``.

The bot and the handoff desk record tracker edits, actions run through the API, transfers and
hang-ups here without knowing the audit log itself (``helpline.security.audit.AuditLog``, which the
composition root puts on the app). An app without one (a bare test app) records nothing.
"""
from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.security.principal import principal_of


class Auditor(Protocol):
    def record(self, action: str, who: str, where: str | None = None, **details) -> dict:
        """One audit line: what was done, by whom, from which address, with details."""


AUDIT_KEY = web.AppKey("audit", Auditor)


def audit(request: web.Request, action: str, **details) -> None:
    """Record ``action`` by the request's principal from the request's address."""
    auditor = request.app.get(AUDIT_KEY)
    if auditor is not None:
        auditor.record(action, principal_of(request).user, request.remote, **details)
