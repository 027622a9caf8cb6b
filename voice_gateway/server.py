"""The gateway's endpoints on the bot's aiohttp application, and the AudioSocket TCP listener.

    GET /voice/twilio     WebSocket, Twilio Media Streams
    GET /voice/ws         WebSocket, Helpline's protocol (docs/voice_protocol.md)
    POST /voice/token     a short-lived voice token for /voice/ws (the softphone asks for one)
    GET /voice/status     models loaded? fixed responses synthesized? live calls
    GET /softphone        the browser softphone page (speaks Helpline's protocol)
    TCP audiosocket.port  Asterisk AudioSocket (config ``helpline: voice: audiosocket:``), allowed peers only
    UDP+TCP sip.port      SIP trunks, PBXs and phones (config ``helpline: voice: sip:``), allowed peers only

Who may connect is checked before a call starts (``voice_gateway.auth``; the access rules live in
``helpline.security.routes``): a Twilio stream carries Twilio's signature, a Helpline-protocol call a
voice token, which alone says the caller's number. Then how many may connect
(``voice_gateway.limits``): past ``max_calls`` or ``max_connections_per_address`` a WebSocket
upgrade is answered 503 with the reason, an AudioSocket connection is hung up, and both are logged. SIP checks its allowlist and its own
``max_calls`` in its listener (``voice_gateway.sip.transports``, ``voice_gateway.sip.endpoint``).

Models load once per process, in a worker thread: in the background at start-up with ``preload``
(`helpline run`; the HTTP API answers meanwhile and a call that arrives first waits), else on the
first call. All calls share them.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import WSMsgType, web

from bot.security.json_limits import JsonLimitError, loads
from bot.security.principal import ADMIN, EDITOR, principal_of
from voice_gateway.agent_bridge import AgentBridge
from voice_gateway.auth import VOICE_TOKEN_SECONDS, address_allowed, issue_voice_token
from voice_gateway.calls import run_call
from voice_gateway.config import load_voice_config
from voice_gateway.frames import ProtocolError
from voice_gateway.recording import purge_old_recordings
from voice_gateway.serializers.audiosocket import AUDIO, HANGUP, HEADER, AudioSocketSerializer, pack
from voice_gateway.serializers.base import MAX_FRAME_SECS
from voice_gateway.serializers.helpline_pcm import HelplinePcmSerializer
from voice_gateway.serializers.twilio import TwilioSerializer
from voice_gateway.services import VoiceServices
from voice_gateway.sip.endpoint import SipEndpoint

logger = logging.getLogger(__name__)
SERVICES_KEY = web.AppKey("voice_services", VoiceServices)
AUDIOSOCKET_PORT_KEY = web.AppKey("voice_audiosocket_port", int)
SIP_ENDPOINT_KEY = web.AppKey("voice_sip_endpoint", SipEndpoint)
STATIC = Path(__file__).parent / "static"
MAX_WS_MESSAGE = 64 * 1024  # larger messages close that call (aiohttp answers with 1009); 1 s of audio fits


def add_voice_routes(app: web.Application, processor, settings, agent_bridge: AgentBridge | None = None,
                     preload: bool = False, secret_key: str = "", reuse_port: bool = False,
                     journal=None) -> VoiceServices:
    """Attach the voice gateway to the bot's app; returns the shared services (tests and benchmarks read them).

    ``secret_key`` signs the voice tokens that ``/voice/token`` hands out; ``reuse_port``: the AudioSocket
    listener shares its port with the other worker processes (``helpline run --workers``); ``journal``: where
    each call's record is written (``bot.core.call_journal.CallJournal``)."""
    config = load_voice_config(settings.voice, settings.project)
    services = VoiceServices(processor, config, agent_bridge=agent_bridge, journal=journal)
    app[SERVICES_KEY] = services
    app.router.add_get("/voice/twilio", _websocket_handler(services, TwilioSerializer, "twilio"))
    app.router.add_get("/voice/ws", _websocket_handler(services, HelplinePcmSerializer, "helpline",
                                                       token_says_caller=True))

    async def voice_token(request: web.Request) -> web.Response:
        """A voice token for the requester; admins and editors may set the caller number (to test a line)."""
        principal = principal_of(request)
        number = None
        if request.body_exists and principal.has_any({ADMIN, EDITOR}):
            try:
                body = loads(await request.read())
            except JsonLimitError as error:
                return web.json_response({"error": str(error)}, status=400)
            number = body.get("caller_number") if isinstance(body, dict) else None
        token = issue_voice_token(secret_key, principal.user, str(number)[:32] if number else None)
        return web.json_response({"token": token, "expires_in": VOICE_TOKEN_SECONDS})

    app.router.add_post("/voice/token", voice_token)
    async def status(request: web.Request) -> web.Response:
        result = services.status()
        if SIP_ENDPOINT_KEY in app:
            result["sip"] = app[SIP_ENDPOINT_KEY].status()
        return web.json_response(result)

    app.router.add_get("/voice/status", status)
    app.router.add_get("/softphone", _softphone)
    app.router.add_static("/softphone/static", STATIC)

    async def lifecycle(app: web.Application):
        if preload:
            services.loading = asyncio.ensure_future(services.load_models())
        if config.recording_dir is not None:
            purge_old_recordings(config.recording_dir, config.recording.retention_days)
        server = None
        if config.audiosocket is not None:
            try:
                server = await asyncio.start_server(lambda r, w: serve_audiosocket(services, r, w),
                                                    config.audiosocket.host, config.audiosocket.port,
                                                    reuse_port=reuse_port or None)
            except OSError as error:  # the HTTP API and WebSocket calls still work
                logger.error("AudioSocket listener could not start", extra={"port": config.audiosocket.port,
                                                                            "error": str(error)})
            else:
                app[AUDIOSOCKET_PORT_KEY] = server.sockets[0].getsockname()[1]
                logger.info("AudioSocket listening", extra={"host": config.audiosocket.host,
                                                            "port": app[AUDIOSOCKET_PORT_KEY]})
        sip = await _start_sip(app, services, config)
        yield
        if sip is not None:
            await sip.stop()
        for task in (services.loading, services.prewarming):
            if task is not None:
                task.cancel()
        if server is not None:
            server.close()
            await server.wait_closed()
        services.recognition.close()

    app.cleanup_ctx.append(lifecycle)
    return services


async def _start_sip(app: web.Application, services: VoiceServices, config) -> SipEndpoint | None:
    if config.sip is None:
        return None
    endpoint = SipEndpoint(services, config.sip)
    try:
        await endpoint.start()
    except OSError as error:  # the HTTP API and the other channels still work
        logger.error("SIP listener could not start", extra={"port": config.sip.port, "error": str(error)})
        await endpoint.stop()
        return None
    app[SIP_ENDPOINT_KEY] = endpoint
    return endpoint


async def _softphone(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "softphone.html")


def _websocket_handler(services: VoiceServices, serializer_type, protocol: str, token_says_caller: bool = False):
    async def handle(request: web.Request) -> web.StreamResponse:
        claims = principal_of(request).claims
        caller_number = (lambda _: claims.get("caller_number")) if token_says_caller else None
        refusal = services.connections.admit(request.remote, protocol)
        if refusal is not None:
            return web.json_response({"reason": "ServiceUnavailable", "message": refusal}, status=503,
                                     headers={"Retry-After": "5"})
        try:
            return await _serve_websocket(request, services, serializer_type(), protocol, caller_number)
        finally:
            services.connections.release(request.remote)

    return handle


async def _serve_websocket(request: web.Request, services: VoiceServices, serializer, protocol: str,
                           caller_number) -> web.WebSocketResponse:
    # compress=False: deflating 20 ms of audio per message cost a tenth of the server's CPU under load, for nothing
    ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=None, compress=False)
    await ws.prepare(request)

    async def receive(timeout: float):
        while True:
            message = await ws.receive(timeout=timeout)
            if message.type == WSMsgType.TEXT:
                return message.data
            if message.type == WSMsgType.BINARY:
                return message.data
            if message.type == WSMsgType.ERROR:
                raise ProtocolError(f"bad WebSocket message: {ws.exception()}")
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return None

    async def send_raw(message: str | bytes) -> None:
        if ws.closed:
            raise ConnectionError("WebSocket closed")
        if isinstance(message, bytes):
            await ws.send_bytes(message)
        else:
            await ws.send_str(message)

    async def close(reason: str) -> None:
        if not ws.closed:
            await ws.close(code=1000, message=reason[:120].encode())

    await run_call(services, serializer, receive, send_raw, close, protocol, caller_number)
    return ws


async def serve_audiosocket(services: VoiceServices, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    """One AudioSocket TCP connection = one call, from an allowed peer only, within the connection limits."""
    peer = writer.get_extra_info("peername")
    address = peer[0] if peer else None
    if not address_allowed(address, services.config.audiosocket.allow):
        logger.warning("AudioSocket peer refused", extra={"peer": address})
        writer.close()
        return
    if services.connections.admit(address, "audiosocket") is not None:
        writer.write(pack(HANGUP))  # AudioSocket has no reason field; the refusal is logged
        writer.close()
        return
    try:
        await _serve_audiosocket(services, reader, writer)
    finally:
        services.connections.release(address)


async def _serve_audiosocket(services: VoiceServices, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
    serializer = AudioSocketSerializer()
    max_payload = int(MAX_FRAME_SECS * serializer.sample_rate * 2)

    async def receive(timeout: float):
        async def read_message():
            try:
                header = await reader.readexactly(HEADER.size)
            except asyncio.IncompleteReadError as error:
                if error.partial:
                    raise ProtocolError("truncated AudioSocket header") from None
                return None
            kind, length = HEADER.unpack(header)
            if kind == AUDIO and length > max_payload:
                raise ProtocolError(f"oversized audio frame: {length} bytes (at most {MAX_FRAME_SECS:g} s)")
            try:
                return header + await reader.readexactly(length)
            except asyncio.IncompleteReadError as error:
                raise ProtocolError(f"truncated AudioSocket message: {len(error.partial)} of {length} bytes") from None

        return await asyncio.wait_for(read_message(), timeout)

    async def send_raw(message: bytes) -> None:
        if writer.is_closing():
            raise ConnectionError("AudioSocket closed")
        writer.write(message)
        await writer.drain()

    async def close(reason: str) -> None:
        if not writer.is_closing():
            try:
                writer.write(pack(HANGUP))
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()

    await run_call(services, serializer, receive, send_raw, close, "audiosocket")
