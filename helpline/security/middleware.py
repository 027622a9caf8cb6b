"""Authenticate every request and enforce its route's rule before any handler runs.

Credentials, in order: ``Authorization: Bearer`` (the static API token with the admin role, or a JWT
signed with ``HELPLINE_JWT_SECRET`` naming the user's role as Rasa's do), Rasa's ``?token=`` query for
the same tokens, then the browser session cookie. Telephony routes run their carrier's verifier
instead (Twilio signature, voice token). Browsers get three more checks on requests that change
something: the ``Origin`` (and ``Sec-Fetch-Site``) must be this site, the body must be JSON (a
cross-site form or ``text/plain`` post cannot be), and a session needs its CSRF token in
``X-CSRF-Token``. WebSocket upgrades made with a cookie must come from this site's pages.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import quote, urlsplit

import jwt
from aiohttp import hdrs, web

from bot.security.principal import ADMIN, ANONYMOUS, PRINCIPAL_KEY, STAFF_ROLES, Principal
from helpline.security.routes import Rule, rule_for
from helpline.security.secrets import Secrets
from helpline.security.sessions import SessionStore

logger = logging.getLogger(__name__)
COOKIE = "helpline_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Verifier = Callable[[web.Request], Awaitable[Principal | None]]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}


class InvalidCredentials(Exception):
    """Credentials were presented and are wrong (as opposed to none presented)."""


@dataclass
class Authenticator:
    secrets: Secrets
    sessions: SessionStore
    verifiers: dict[str, Verifier]

    async def authenticate(self, request: web.Request, rule: Rule) -> Principal:
        if rule.carrier:
            verifier = self.verifiers.get(rule.carrier)
            principal = await verifier(request) if verifier else None
            if principal is None:
                raise InvalidCredentials(f"a {rule.carrier} credential is required")
            return principal
        token = _bearer(request)
        if token is not None:
            return self._token_principal(token)
        session_id = request.cookies.get(COOKIE)
        if session_id:
            session = await self.sessions.get(session_id)
            if session is not None:
                return Principal(session.user, frozenset(session.roles), "session", session.name,
                                 {"csrf": session.csrf, "session_id": session_id})
        return ANONYMOUS

    def _token_principal(self, token: str) -> Principal:
        if self.secrets.api_token and hmac.compare_digest(token.encode(), self.secrets.api_token.encode()):
            return Principal("api-token", frozenset({ADMIN}), "token")
        if self.secrets.jwt_secret:
            try:
                claims = jwt.decode(token, self.secrets.jwt_secret, algorithms=[self.secrets.jwt_method])
            except jwt.PyJWTError as error:
                raise InvalidCredentials(f"invalid token ({type(error).__name__})") from None
            user = claims.get("user") if isinstance(claims.get("user"), dict) else {}
            roles = user.get("role", claims.get("roles", []))
            roles = frozenset([roles] if isinstance(roles, str) else roles or []) & set(STAFF_ROLES)
            return Principal(str(user.get("username") or claims.get("sub") or "jwt"), roles, "jwt")
        raise InvalidCredentials("invalid token")


def security_middleware(authenticator: Authenticator):
    @web.middleware
    async def enforce(request: web.Request, handler):
        resource = request.match_info.route.resource
        if resource is None:  # no such route: aiohttp's 404/405
            return await handler(request)
        rule = rule_for(request.method, resource.canonical)
        if rule is None:
            logger.error("route has no access rule", extra={"method": request.method, "route": resource.canonical})
            return deny(403, "Forbidden", "this route has no access rule")
        if request.method not in SAFE_METHODS:
            refusal = _browser_write_refusal(request)
            if refusal is not None:
                return refusal
        try:
            principal = await authenticator.authenticate(request, rule)
        except InvalidCredentials as error:
            if not rule.public:
                return deny(401, "NotAuthenticated", str(error))
            principal = ANONYMOUS
        request[PRINCIPAL_KEY] = principal
        if not rule.public and not rule.carrier:
            if principal.anonymous:
                if rule.page:
                    raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='/?=&')}")
                return deny(401, "NotAuthenticated", "sign in first (session cookie or bearer token)")
            if not principal.has_any(rule.roles):
                return deny(403, "NotAuthorized", f"this needs the role {rule.describe()}")
        if principal.via == "session" and not rule.public:  # public routes need no proof of intent
            refusal = _session_refusal(request, principal)
            if refusal is not None:
                return refusal
        return await handler(request)

    return enforce


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, pages and errors alike."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(("/auth/", "/conversations/", "/supervisor/api", "/desk/api", "/handoff/api",
                                "/editor/api", "/models")):
        response.headers.setdefault("Cache-Control", "no-store")


def deny(status: int, reason: str, message: str) -> web.Response:
    return web.json_response({"version": "helpline", "status": "failure", "reason": reason, "message": message,
                              "code": status}, status=status)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.query.get("token")  # Rasa clients send ?token=


def _same_site(request: web.Request) -> bool:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host):
        return False
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


def _browser_write_refusal(request: web.Request) -> web.Response | None:
    if not _same_site(request):
        return deny(403, "CrossOrigin", "requests that change something must come from this site")
    if request.body_exists and request.content_type != "application/json":
        return deny(415, "UnsupportedMediaType", "send the body as Content-Type: application/json")
    return None


def _session_refusal(request: web.Request, principal: Principal) -> web.Response | None:
    if request.method in SAFE_METHODS:
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if upgrade and not _same_site(request):
            return deny(403, "CrossOrigin", "WebSocket upgrades with a session must come from this site's pages")
        return None
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), principal.claims["csrf"].encode()):
        return deny(403, "CsrfTokenMissing", f"send the session's CSRF token (from /auth/me) in {CSRF_HEADER}")
    return None
