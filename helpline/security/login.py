"""Signing in and out: the sign-in page, ``/auth/login``, ``/auth/logout`` and ``/auth/me``.

A successful sign-in sets an HttpOnly, SameSite=Strict session cookie (Secure over HTTPS) that
expires after ``auth.session_hours``, and returns the CSRF token that pages send back with every
change. Failures say only "wrong user or password"; an unknown user takes as long as a known one.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.security.json_limits import JsonLimitError, loads
from bot.security.passwords import hash_password, verify_password
from bot.security.principal import principal_of
from helpline.security.audit import AuditLog
from helpline.security.middleware import COOKIE, deny
from helpline.security.sessions import SessionStore
from helpline.security.throttle import LoginThrottle, PasswordPool, PoolBusy
from helpline.security.users import UserDirectory

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_FIELD = 256


@dataclass
class SignIn:
    users: UserDirectory
    sessions: SessionStore
    throttle: LoginThrottle
    pool: PasswordPool
    audit: AuditLog

    def __post_init__(self) -> None:
        self._nobody = hash_password(secrets.token_urlsafe())  # checked for unknown users: same time taken

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/login", self.page)
        app.router.add_static("/auth/static", STATIC)
        app.router.add_post("/auth/login", self.login)
        app.router.add_post("/auth/logout", self.logout)
        app.router.add_get("/auth/me", self.me)

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "login.html")

    async def login(self, request: web.Request) -> web.Response:
        try:
            body = loads(await request.read())
        except JsonLimitError as error:
            return deny(400, "BadRequest", str(error))
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("username", "password")):
            return deny(400, "BadRequest", 'send JSON: {"username": "...", "password": "..."}')
        username, password = body["username"][:MAX_FIELD], body["password"][:MAX_FIELD]
        address = request.remote or "unknown"
        wait = self.throttle.retry_after(username, address)
        if wait > 0:
            self.audit.record("login_throttled", username, address)
            response = deny(429, "TooManyAttempts", f"too many failed sign-ins; try again in {wait:.0f} s")
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = self.users.get(username)
        stored = user.password_hash if user is not None and user.password_hash else self._nobody
        try:
            matches = await self.pool.run(verify_password, stored, password)
        except PoolBusy:
            return deny(503, "Busy", "too many sign-ins at once; try again in a moment")
        if user is None or user.password_hash is None or not matches:
            self.throttle.failed(username, address)
            self.audit.record("login_failed", username, address)
            return deny(401, "NotAuthenticated", "wrong user or password")
        self.throttle.succeeded(username)
        session_id, session = await self.sessions.create(user.id, user.name, user.roles)
        self.audit.record("login", user.id, address, roles=sorted(user.roles))
        response = web.json_response({"user": user.id, "name": user.name, "roles": sorted(user.roles),
                                      "csrf_token": session.csrf, "expires_at": session.expires_at})
        response.set_cookie(COOKIE, session_id, max_age=int(self.sessions.ttl), path="/", httponly=True,
                            samesite="Strict", secure=request.secure)
        return response

    async def logout(self, request: web.Request) -> web.Response:
        principal = principal_of(request)
        session_id = principal.claims.get("session_id")
        if session_id:
            await self.sessions.delete(session_id)
        self.audit.record("logout", principal.user, request.remote)
        response = web.json_response({"status": "signed out"})
        response.del_cookie(COOKIE, path="/")
        return response

    async def me(self, request: web.Request) -> web.Response:
        principal = principal_of(request)
        return web.json_response({"user": principal.user, "name": principal.name or principal.user,
                                  "roles": sorted(principal.roles), "via": principal.via,
                                  "csrf_token": principal.claims.get("csrf")})
