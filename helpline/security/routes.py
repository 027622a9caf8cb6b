"""Who may use each route: the one table the server enforces and the route tests read.

Keys are ``(method, path)`` as aiohttp names the route (``resource.canonical``; HEAD follows GET). A
route missing here is refused with 403 for everyone, and ``tests/test_route_access.py`` fails.

- ``PUBLIC``: anyone (the REST channel, health, sign-in, static assets).
- ``allow(*roles)``: a signed-in person or API client with one of the roles (admin holds every role).
- ``page(*roles)``: the same for an HTML page; an anonymous browser is sent to the sign-in page.
- ``carrier(kind)``: a telephony peer proving itself (``twilio``: the request signature; ``voice``:
  a signed voice token); it may place a call, nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.security.principal import ADMIN, AGENT, EDITOR, STAFF_ROLES, SUPERVISOR


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()
    public: bool = False
    page: bool = False
    carrier: str | None = None

    def describe(self) -> str:
        if self.public:
            return "anyone"
        if self.carrier:
            return f"telephony peer ({self.carrier} credential)"
        return " or ".join(sorted(self.roles | {ADMIN}))


PUBLIC = Rule(public=True)


def allow(*roles: str) -> Rule:
    return Rule(roles=frozenset(roles))


def page(*roles: str) -> Rule:
    return Rule(roles=frozenset(roles), page=True)


def carrier(kind: str) -> Rule:
    return Rule(carrier=kind)


ACCESS: dict[tuple[str, str], Rule] = {
    # Rasa's HTTP API: only the REST channel is open, as in Rasa with --auth-token set.
    ("POST", "/webhooks/rest/webhook"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,  # names the parts not ready, nothing else
    ("GET", "/metrics"): allow(SUPERVISOR),
    ("GET", "/status"): allow(EDITOR, SUPERVISOR),
    ("POST", "/model/parse"): allow(EDITOR),
    ("PUT", "/model"): allow(EDITOR),
    ("POST", "/model/reload"): allow(EDITOR),
    ("GET", "/conversations/{sender_id}/tracker"): allow(EDITOR),
    ("POST", "/conversations/{sender_id}/tracker/events"): allow(EDITOR),
    ("POST", "/conversations/{sender_id}/execute"): allow(EDITOR),
    # Model versions and the editor page.
    ("GET", "/models"): allow(EDITOR),
    ("POST", "/models/{version}/activate"): allow(EDITOR),
    ("GET", "/editor"): page(EDITOR),
    ("GET", "/editor/static"): PUBLIC,
    ("GET", "/editor/api/turns"): allow(EDITOR),
    ("POST", "/editor/api/examples"): allow(EDITOR),
    ("GET", "/editor/api/jobs/{job_id}"): allow(EDITOR),
    # Signing in.
    ("GET", "/login"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/logout"): allow(*STAFF_ROLES),
    ("GET", "/auth/me"): allow(*STAFF_ROLES),
    ("GET", "/auth/static"): PUBLIC,
    # Agents and supervisors.
    ("GET", "/desk"): page(AGENT),
    ("GET", "/desk/ws"): allow(AGENT),
    ("GET", "/desk/api/queues"): allow(AGENT, SUPERVISOR),
    ("GET", "/supervisor"): page(SUPERVISOR),
    ("GET", "/supervisor/api/stats"): allow(SUPERVISOR),
    ("GET", "/supervisor/ws"): allow(SUPERVISOR),
    ("GET", "/handoff/api/callbacks"): allow(SUPERVISOR),
    # Call history: the call list, a call's page, its audio, manual reviews, agent performance.
    ("GET", "/supervisor/calls"): page(SUPERVISOR),
    ("GET", "/supervisor/calls/{call_id}"): page(SUPERVISOR),
    ("GET", "/supervisor/api/calls"): allow(SUPERVISOR),
    ("GET", "/supervisor/api/calls/{call_id}"): allow(SUPERVISOR),
    ("GET", "/supervisor/api/calls/{call_id}/audio"): allow(SUPERVISOR),
    ("POST", "/supervisor/api/calls/{call_id}/reviews"): allow(SUPERVISOR),
    ("GET", "/supervisor/api/agents"): allow(SUPERVISOR),
    ("GET", "/desk/api/reviews"): allow(AGENT),
    ("GET", "/handoff/static"): PUBLIC,
    ("GET", "/handoff/vendor/chart.js"): PUBLIC,
    ("GET", "/supervisor/reports"): page(SUPERVISOR),
    ("GET", "/supervisor/api/report"): allow(SUPERVISOR),
    # Telephony.
    ("GET", "/voice/twilio"): carrier("twilio"),
    ("GET", "/voice/ws"): carrier("voice"),
    ("POST", "/voice/token"): allow(*STAFF_ROLES),
    ("GET", "/voice/status"): allow(SUPERVISOR),
    ("GET", "/softphone"): page(*STAFF_ROLES),
    ("GET", "/softphone/static"): PUBLIC,
}


def rule_for(method: str, path: str) -> Rule | None:
    return ACCESS.get(("GET" if method == "HEAD" else method, path))
