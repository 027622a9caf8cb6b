"""The authenticated party of a request: a signed-in person with roles, an API token, or a caller.

Four staff roles: ``agent`` takes handed-off calls, ``supervisor`` watches queues and quality,
``editor`` changes content and models, ``admin`` runs the installation and may do all of these.
A telephony peer authenticated by its carrier credential (Twilio signature, voice token, address
allowlist) is a ``caller``: it may place a call and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

AGENT, SUPERVISOR, EDITOR, ADMIN, CALLER = "agent", "supervisor", "editor", "admin", "caller"
STAFF_ROLES = (AGENT, SUPERVISOR, EDITOR, ADMIN)
PRINCIPAL_KEY = web.RequestKey("principal", "Principal")  # where the security middleware leaves it


@dataclass(frozen=True)
class Principal:
    user: str
    roles: frozenset[str]
    via: str                          # session | token | jwt | twilio | voice-token | anonymous
    name: str = ""
    claims: dict = field(default_factory=dict, compare=False, hash=False)  # e.g. a voice token's caller number

    @property
    def anonymous(self) -> bool:
        return not self.roles

    def has_any(self, roles) -> bool:
        """Admin holds every staff role."""
        return bool(self.roles & set(roles)) or (ADMIN in self.roles and bool(set(roles) & set(STAFF_ROLES)))


ANONYMOUS = Principal("anonymous", frozenset(), "anonymous")


def principal_of(request: web.Request) -> Principal:
    """The request's principal (anonymous when the middleware authenticated nobody)."""
    return request.get(PRINCIPAL_KEY, ANONYMOUS)
