"""Telephony peers prove who they are before a call starts; the caller number comes only from that proof.

- Twilio Media Streams: Twilio signs the WebSocket upgrade with the account's auth token
  (``X-Twilio-Signature``: base64 HMAC-SHA1 of the stream URL as Twilio requested it). The check is
  Twilio's documented algorithm, a few lines, so no SDK is pulled in for it. Set
  ``voice.twilio.public_url`` when a proxy changes the URL Twilio used (``wss://host/voice/twilio``).
- Helpline's PCM WebSocket (and the softphone): a short-lived voice token signed with the server's
  secret key (a JWT with audience ``helpline-voice``), which may carry the caller number.
- AudioSocket: an allowlist of peer networks (Asterisk servers).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time
from typing import Callable, Iterable

import jwt
from aiohttp import hdrs, web

from bot.security.principal import CALLER, Principal

VOICE_AUDIENCE = "helpline-voice"
VOICE_TOKEN_SECONDS = 120


def twilio_signature(auth_token: str, url: str, params: dict[str, str] | None = None) -> str:
    """Twilio's request signature: the URL followed by each POST parameter's name and value, sorted."""
    data = url + "".join(f"{key}{value}" for key, value in sorted((params or {}).items()))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_verifier(auth_token: str, public_url: Callable[[], str | None] = lambda: None):
    """``public_url()``: the stream URL as Twilio requests it (``voice.twilio.public_url``), read per
    request so that a changed setting applies to the next stream; None: the URL this server saw."""
    async def verify(request: web.Request) -> Principal | None:
        sent = request.headers.get("X-Twilio-Signature", "")
        if not sent:
            return None
        configured = public_url()
        candidates = [configured] if configured else _request_urls(request)
        if not any(hmac.compare_digest(sent.encode(), twilio_signature(auth_token, url).encode())
                   for url in candidates):
            return None
        return Principal("twilio", frozenset({CALLER}), "twilio")

    return verify


def _request_urls(request: web.Request) -> list[str]:
    """The URL as Twilio may have named it: wss (Twilio's only scheme) or ws on a plain test server."""
    path = request.path_qs
    return [f"wss://{request.host}{path}", f"ws://{request.host}{path}"]


def issue_voice_token(secret_key: str, subject: str, caller_number: str | None = None,
                      seconds: int = VOICE_TOKEN_SECONDS) -> str:
    claims = {"aud": VOICE_AUDIENCE, "sub": subject, "exp": int(time.time()) + seconds}
    if caller_number:
        claims["caller_number"] = caller_number
    return jwt.encode(claims, secret_key, algorithm="HS256")


def voice_token_verifier(secret_key: str):
    async def verify(request: web.Request) -> Principal | None:
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("token", "")
        if not token:
            return None
        try:
            claims = jwt.decode(token, secret_key, algorithms=["HS256"], audience=VOICE_AUDIENCE)
        except jwt.PyJWTError:
            return None
        return Principal(str(claims.get("sub", "voice")), frozenset({CALLER}), "voice",
                         claims={"caller_number": claims.get("caller_number")})

    return verify


def address_allowed(address: str | None, networks: Iterable[str]) -> bool:
    """Whether a peer address lies in one of the allowed networks (``127.0.0.1``, ``10.0.0.0/8``...)."""
    if not address:
        return False
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(network, strict=False) for network in networks)
