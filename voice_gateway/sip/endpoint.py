"""The SIP endpoint: answers INVITEs from allowed trunks and PBXs and serves each call with ``run_call``.

A UDP and a TCP listener on one port (``helpline: voice: sip:``), each behind the ``PeerGate``
(size limit, allowlist, sane INVITEs), each with an aiosipua user agent server. An INVITE becomes
a gateway call (``run_call`` names it; the SIP Call-ID is kept only as its external reference), the caller number from the
allowed peer's P-Asserted-Identity or From, an RTP leg for the first G.711 codec offered, and a
200 OK; from there the call is an ordinary gateway call. Past ``max_calls`` an INVITE is answered
``503`` (a proxy in front then tries another Helpline), a call without audio we can speak ``488``.
OPTIONS is answered 200 while the endpoint takes calls: that is what a proxy's health checks probe.
A re-INVITE (session refresh, hold, media moved by an SBC) keeps the call and its codec; a
retransmitted INVITE is absorbed here (aiosipua would take it for a second call).
With ``register:`` the endpoint keeps a binding at a registrar, digest authentication included.

Library: aiosipua (SIP messages, dialogs, UAS/UAC, digest auth, REGISTER) and aiortp (RTP, jitter
buffer, loss concealment, RFC 4733): asyncio, UDP and TCP, MIT-licensed and maintained; their
parser is property-tested by its authors (this project fuzzes the gate in front of it).
"""
from __future__ import annotations

import asyncio
import logging

from aiortp import PortAllocator
from aiosipua import (
    DialogState, IncomingCall, Registration, SdpNegotiationError, SipDigestAuth, SipRequest, SipResponse, SipUAC, SipUAS,
    negotiate_sdp,
)

from voice_gateway.calls import run_call
from voice_gateway.serializers.sip import SipCallOpened, SipKey, SipSerializer
from voice_gateway.sip.call import SipCall
from voice_gateway.sip.config import SipConfig
from voice_gateway.sip.identity import caller_number
from voice_gateway.sip.media import CODECS, RtpLeg
from voice_gateway.sip.transports import GatedTcpTransport, GatedUdpTransport, PeerGate, reply

logger = logging.getLogger(__name__)


class SipEndpoint:
    def __init__(self, services, config: SipConfig):
        self.services = services
        self.config = config
        self.gate = PeerGate(config)
        self.ports = PortAllocator(config.rtp_ports)
        self.port: int | None = None
        self.calls: dict[str, SipCall] = {}  # by SIP Call-ID
        self.answered = 0
        self.rejected: dict[int, int] = {}  # status -> count
        self.registration: Registration | None = None
        self._agents: list[tuple[SipUAS, SipUAC]] = []
        self._tasks: set[asyncio.Task] = set()
        self._responses: dict[tuple[str, str], asyncio.Future] = {}
        self._transfers: dict[str, asyncio.Future] = {}
        self._accepting = False

    @property
    def contact_addr(self) -> tuple[str, int]:
        return self.config.public_host, self.port

    # ---- life cycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        if not self.config.allow:
            logger.warning("SIP endpoint has an empty allowlist: every INVITE will be refused",
                           extra={"setting": "helpline.voice.sip.allow"})
        port = self.config.port
        for name in self.config.transports:
            kind = GatedUdpTransport if name == "udp" else GatedTcpTransport
            transport = kind(local_addr=(self.config.host, port), gate=self.gate)
            uac = SipUAC(transport)
            uas = SipUAS(transport, user_agent=self.config.user_agent, uac=uac)
            uas.on_invite = self._on_invite
            uas.on_reinvite = self._on_reinvite
            uas.on_bye = self._on_bye
            uas.on_cancel = self._on_cancel
            uas.on_options = self._on_options
            uas.on_ack_timeout = self._on_ack_timeout
            uas.on_transfer_progress = self._on_transfer_progress
            await uas.start()
            port = port or _bound_port(transport)
            transport.local_addr = (self.config.host, port)
            uas.advertised_addr = uac.advertised_addr = (self.config.public_host, port)
            stack = transport.on_message
            transport.on_message = lambda message, addr, stack=stack: self._route(message, addr, stack)
            self._agents.append((uas, uac))
        self.port = port
        self._accepting = True
        logger.info("SIP listening", extra={"host": self.config.host, "port": port,
                                            "transports": list(self.config.transports)})
        if self.config.registration is not None:
            self._register()

    async def stop(self) -> None:
        self._accepting = False
        if self.registration is not None:
            self.registration.unregister()
        for call in list(self.calls.values()):
            await call.close("the gateway is shutting down")
        await asyncio.sleep(0.05)  # let the BYEs leave
        for task in list(self._tasks):
            task.cancel()
        for uas, _ in self._agents:
            await uas.stop()

    def status(self) -> dict:
        return {"port": self.port, "live_calls": len(self.calls), "answered": self.answered,
                "rejected": {str(k): v for k, v in self.rejected.items()}, "refused_peers": self.gate.refused,
                "malformed": self.gate.malformed,
                "registered": None if self.registration is None else self.registration.state.value}

    # ---- routing: responses to our own in-dialog requests, then the stack ------------------------------
    def _route(self, message, addr, stack) -> None:
        if isinstance(message, SipRequest) and message.method == "INVITE" and message.call_id in self.calls \
                and ";tag=" not in (message.headers.get_first("to") or ""):
            return  # a retransmitted INVITE: our 100 or 200 (retransmitted until the ACK) answers it
        if isinstance(message, SipResponse) and message.status_code >= 200:
            cseq = message.headers.get_first("cseq") or ""
            future = self._responses.get((message.call_id or "", cseq.strip()))
            if future is not None:
                if not future.done():
                    future.set_result(message.status_code)
                return
        stack(message, addr)

    def expect_response(self, request: SipRequest) -> asyncio.Future:
        key = (request.call_id or "", (request.headers.get_first("cseq") or "").strip())
        self._responses[key] = asyncio.get_running_loop().create_future()
        return self._responses[key]

    def forget_response(self, request: SipRequest) -> None:
        self._responses.pop((request.call_id or "", (request.headers.get_first("cseq") or "").strip()), None)

    def expect_transfer(self, sip_call_id: str) -> asyncio.Future:
        self._transfers[sip_call_id] = asyncio.get_running_loop().create_future()
        return self._transfers[sip_call_id]

    def forget_transfer(self, sip_call_id: str) -> None:
        self._transfers.pop(sip_call_id, None)

    def _on_transfer_progress(self, sip_call_id: str, status: int, reason: str) -> None:
        future = self._transfers.get(sip_call_id)
        if future is not None and not future.done() and status >= 200:
            future.set_result(status)

    # ---- requests ------------------------------------------------------------------------------------
    def _on_options(self, request: SipRequest, addr) -> None:
        transport = self._transport_for(request)
        if self._accepting and len(self.calls) < self.config.max_calls:
            reply(transport, request, 200, "OK")
        else:
            reply(transport, request, 503, "Service Unavailable")

    def spawn(self, coroutine) -> asyncio.Task:
        """A task the endpoint owns: cancelled when it stops."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_invite(self, dialog: IncomingCall) -> None:
        self.spawn(self._answer(dialog))

    def _reject(self, dialog: IncomingCall, status: int, reason: str, **log) -> None:
        self.rejected[status] = self.rejected.get(status, 0) + 1
        logger.info("INVITE rejected", extra={"status": status, "sip_call_id": dialog.call_id, **log})
        dialog.reject(status, reason)

    async def _answer(self, dialog: IncomingCall) -> None:
        if dialog.call_id in self.calls:
            return  # a retransmitted INVITE of a call being answered
        if not self._accepting or len(self.calls) >= self.config.max_calls:
            self._reject(dialog, 503, "Service Unavailable", live_calls=len(self.calls))
            return
        offer = dialog.sdp_offer
        audio = next((m for m in offer.media if m.media == "audio" and m.port), None) if offer else None
        if audio is None:
            self._reject(dialog, 488, "Not Acceptable Here", why="no audio offer (late offers are not supported)")
            return
        events = next((c.payload_type for c in audio.codecs if c.encoding_name.lower() == "telephone-event"), None)
        dtmf = 101 if events is None else events
        remote_host = (audio.connection or offer.connection).address if (audio.connection or offer.connection) \
            else dialog.source_addr[0]
        transport = dialog.transport
        placeholder = object()
        self.calls[dialog.call_id] = placeholder  # counts against max_calls while the RTP port is bound
        try:
            try:
                answer, payload_type = negotiate_sdp(offer, self.config.public_host, 0, supported_codecs=list(CODECS),
                                                     dtmf_payload_type=dtmf)
            except SdpNegotiationError as error:
                self._reject(dialog, 488, "Not Acceptable Here", why=str(error))
                return
            call: SipCall | None = None

            def on_audio(pcm: bytes) -> None:
                if call is not None:
                    call.push(pcm)

            def on_dtmf(digit: str) -> None:
                if call is not None:
                    call.push(SipKey(digit))

            rtp = await RtpLeg.open(self.ports, self.config.host, (remote_host, audio.port), payload_type, dtmf,
                                    dialog.source_addr[0], on_audio, on_dtmf)
            answer_audio = answer.media[offer.media.index(audio)]
            answer_audio.port = rtp.port
            answer_audio.attributes["ptime"] = ["20"]
            call = SipCall(self, dialog, transport, rtp)
            self.calls[dialog.call_id] = call
            if dialog.dialog.state == DialogState.TERMINATED:  # CANCELled while the port was being bound
                await rtp.close()
                return
            dialog.accept(answer)
            self.answered += 1
        except Exception:
            logger.exception("INVITE could not be answered", extra={"sip_call_id": dialog.call_id})
            self._reject(dialog, 500, "Server Internal Error")
            return
        finally:
            if self.calls.get(dialog.call_id) is placeholder:
                del self.calls[dialog.call_id]
        number = caller_number(dialog.invite)
        references = {"peer": dialog.source_addr[0], "transport": "tcp" if transport.reliable else "udp",
                      "codec": CODECS[payload_type]}
        logger.info("SIP call answered", extra={"sip_call_id": dialog.call_id, **references})
        call.push(SipCallOpened(dialog.call_id, number, references))
        try:
            await run_call(self.services, SipSerializer(in_band_dtmf=events is None), call.receive, call.send_raw,
                           call.close, "sip", transfer=call.transfer)
        finally:
            await call.close("call over")
            self.calls.pop(dialog.call_id, None)

    def _on_reinvite(self, dialog: IncomingCall) -> None:
        """A session refresh or a moved media address (hold, SBC failover): same codec, new destination."""
        call = self.calls.get(dialog.call_id)
        if not isinstance(call, SipCall) or dialog.sdp_answer is None:
            dialog.reject(488, "Not Acceptable Here")
            return
        offer = dialog.sdp_offer
        audio = next((m for m in offer.media if m.media == "audio" and m.port), None) if offer else None
        connection = (audio.connection or offer.connection) if audio else None
        if audio is not None and connection is not None:
            call.rtp.move_to((connection.address, audio.port))
        dialog.accept(dialog.sdp_answer)

    def _on_bye(self, dialog: IncomingCall, request: SipRequest) -> None:
        call = self.calls.get(dialog.call_id)
        if isinstance(call, SipCall):
            call.caller_hung_up("caller hung up")

    def _on_cancel(self, request: SipRequest, addr) -> None:
        call = self.calls.get(request.call_id or "")
        if isinstance(call, SipCall):
            call.caller_hung_up("caller cancelled")

    def _on_ack_timeout(self, dialog: IncomingCall) -> None:
        call = self.calls.get(dialog.call_id)
        if isinstance(call, SipCall):
            call.caller_hung_up("no ACK for the answer")

    # ---- helpers -------------------------------------------------------------------------------------
    def _transport_for(self, request: SipRequest):
        via = (request.headers.get_first("via") or "").upper()
        for uas, _ in self._agents:
            if uas.transport.reliable == ("/TCP" in via.split(" ")[0]):
                return uas.transport
        return self._agents[0][0].transport

    def _register(self) -> None:
        settings = self.config.registration
        uac = next((uac for uas, uac in self._agents if not uas.transport.reliable), self._agents[0][1])
        host, port = self.contact_addr
        user = settings.aor.split(":", 1)[1].split("@")[0]
        self.registration = Registration(uac, settings.aor, settings.registrar_address, expires=settings.expires,
                                         auth=SipDigestAuth(settings.username, settings.password()),
                                         contact_uri=f"sip:{user}@{host}:{port}", user_agent=self.config.user_agent)
        self.registration.on_registered = lambda r: logger.info(
            "SIP registration active", extra={"aor": settings.aor, "expires": r.granted_expires})
        self.registration.on_failed = lambda r, status, reason: logger.error(
            "SIP registration failed", extra={"aor": settings.aor, "status": status, "reason": reason})
        self.registration.register()


def _bound_port(transport) -> int:
    """The port the OS chose for ``port: 0``."""
    if transport.reliable:
        return transport._server.sockets[0].getsockname()[1]
    return transport._udp_transport.get_extra_info("sockname")[1]
