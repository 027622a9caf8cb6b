"""aiosipua's UDP and TCP transports behind Helpline's gate: size limit, allowlist, well-formed INVITEs.

Every datagram or TCP message passes ``PeerGate.admit`` before the SIP stack sees it:

- longer than ``max_message_bytes``: dropped unread;
- from an address outside the allowlist: a request is answered ``403 Forbidden`` (at most
  ``refusals_per_second``, so a spoofed flood is not reflected), anything else is dropped;
- an INVITE whose SDP is malformed: ``400 Bad Request`` (the stack's lenient parser would read it as
  no media at all); a request with a header the stack cannot read gets ``400`` too.

Nothing that is refused touches a call in progress. Over TCP a response goes back on the
connection its request came in on (RFC 3261 18.2.2), which the library only does when the client
asked for ``rport``; the gate stamps the connection's port on every request it admits.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass

from aiosipua import SipMessage, SipRequest, SipResponse, parse_sdp, parse_via, stringify_via
from aiosipua.transport import TcpSipTransport, UdpSipTransport

from voice_gateway.sip.config import SipConfig

logger = logging.getLogger(__name__)
KEEPALIVES = (b"\r\n", b"\r\n\r\n")  # RFC 5626 keep-alives
_MEDIA_LINE = re.compile(r"m=[a-z]+ \d{1,5}(/\d+)? [A-Za-z0-9/]+( [A-Za-z0-9-]+)+")  # RFC 4566 5.14


class PeerGate:
    def __init__(self, config: SipConfig):
        self.config = config
        self.refused = 0  # requests from outside the allowlist
        self.malformed = 0  # messages dropped or answered 400
        self._tokens = config.refusals_per_second
        self._refilled = time.monotonic()

    def admit(self, transport, data: bytes, addr: tuple[str, int]) -> SipRequest | SipResponse | None:
        """The parsed message if it may reach the stack; otherwise None (answered or dropped here)."""
        if data in KEEPALIVES:
            return None
        if len(data) > self.config.max_message_bytes:
            self.malformed += 1
            logger.warning("oversized SIP message dropped", extra={"peer": addr[0], "bytes": len(data),
                                                                   "limit": self.config.max_message_bytes})
            return None
        try:
            message = SipMessage.parse(data)
        except Exception as error:  # the parser raises ValueError, IndexError...: all mean "not SIP"
            self.malformed += 1
            logger.warning("unparseable SIP message dropped", extra={"peer": addr[0], "error": str(error)[:200]})
            return None
        if not self.config.allows(addr[0]):
            self._refuse(transport, message, addr)
            return None
        if isinstance(message, SipRequest):
            _stamp_source(message, addr, always=transport.reliable)
            if message.method == "INVITE" and not self._sdp_parses(transport, message, addr):
                return None
        return message

    def _refuse(self, transport, message, addr: tuple[str, int]) -> None:
        self.refused += 1
        if not isinstance(message, SipRequest) or message.method == "ACK":
            return
        now = time.monotonic()
        self._tokens = min(self.config.refusals_per_second, self._tokens + (now - self._refilled)
                           * self.config.refusals_per_second)
        self._refilled = now
        logger.warning("SIP request from a peer outside the allowlist refused",
                       extra={"peer": addr[0], "method": message.method, "sip_call_id": message.call_id})
        if self._tokens >= 1:
            self._tokens -= 1
            _stamp_source(message, addr, always=transport.reliable)
            reply(transport, message, 403, "Forbidden")

    def _sdp_parses(self, transport, invite: SipRequest, addr: tuple[str, int]) -> bool:
        if not invite.body or invite.content_type != "application/sdp":
            return True
        try:
            text = invite.text
            lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
            if not lines or lines[0] != "v=0":
                raise ValueError("an SDP body starts with v=0")
            for line in lines:
                if line.startswith("m=") and not _MEDIA_LINE.fullmatch(line):
                    raise ValueError(f"bad media line {line[:60]!r}")
            parse_sdp(text)
        except Exception as error:  # the lenient parser reads almost anything; the lines above are the check
            self.malformed += 1
            logger.warning("INVITE with a malformed SDP body refused",
                           extra={"peer": addr[0], "sip_call_id": invite.call_id, "error": str(error)[:200]})
            reply(transport, invite, 400, "Bad Request (SDP)")
            return False
        return True


def reply(transport, request: SipRequest, status: int, reason: str) -> None:
    """A stateless response outside any dialog (403, 400, 503 before a call exists)."""
    response = SipResponse(status_code=status, reason_phrase=reason)
    for via in request.headers.get("via") or []:
        response.headers.append("Via", via)
    for name in ("From", "Call-ID", "CSeq"):
        value = request.headers.get_first(name.lower())
        if value:
            response.headers.set_single(name, value)
    to = request.headers.get_first("to")
    if to:
        response.headers.set_single("To", to if ";tag=" in to else f"{to};tag=hl-refused")
    try:
        transport.send_reply(response)
    except (ValueError, RuntimeError, OSError) as error:
        logger.warning("SIP response could not be sent", extra={"status": status, "error": str(error)})


def _stamp_source(request: SipRequest, addr: tuple[str, int], always: bool) -> None:
    """``received``/``rport`` on the top Via so responses reach the real source (RFC 3581)."""
    vias = request.headers.get("via")
    if not vias:
        return
    try:
        via = parse_via(vias[0])
    except (ValueError, IndexError):
        return
    wants_rport = always or ("rport" in via.params and not via.params["rport"])
    if via.host == addr[0] and not wants_rport:
        return
    via.params["received"] = addr[0]
    if wants_rport:
        via.params["rport"] = str(addr[1])
    request.headers.remove("Via")
    for value in [stringify_via(via), *vias[1:]]:
        request.headers.append("Via", value)


def _deliver(transport, data: bytes, addr: tuple[str, int]) -> None:
    message = transport.gate.admit(transport, data, addr)
    if message is None or transport.on_message is None:
        return
    try:
        transport.on_message(message, addr)
    except Exception as error:  # a header the stack cannot read (a CSeq of "x INVITE"...): this message only
        transport.gate.malformed += 1
        logger.warning("SIP message the stack could not handle", extra={
            "peer": addr[0], "error": f"{type(error).__name__}: {str(error)[:200]}"})
        if isinstance(message, SipRequest) and message.method != "ACK":
            reply(transport, message, 400, "Bad Request")


class _Datagrams(asyncio.DatagramProtocol):
    """Datagrams to the gate (aiosipua's own protocol asserts a transport class CPython 3.11 lacks)."""

    def __init__(self, owner: "GatedUdpTransport"):
        self.owner = owner

    def datagram_received(self, data: bytes, addr) -> None:
        _deliver(self.owner, data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        logger.debug("SIP UDP error", extra={"error": str(exc)})  # e.g. a caller's port closed after BYE


@dataclass
class GatedUdpTransport(UdpSipTransport):
    gate: PeerGate | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp_transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self),
                                                                     local_addr=self.local_addr)

    def _dispatch(self, data: bytes, addr: tuple[str, int]) -> None:
        _deliver(self, data, addr)


@dataclass
class GatedTcpTransport(TcpSipTransport):
    gate: PeerGate | None = None

    def send(self, message: SipRequest | SipResponse, addr: tuple[str, int]) -> None:
        """Our Contact says TCP, so the caller's in-dialog requests (BYE) come back over TCP (the
        library writes a bare ``<sip:host:port>``, which means UDP)."""
        contact = message.headers.get_first("contact")
        if contact and "transport=" not in contact.lower() and contact.endswith(">"):
            message.headers.set_single("Contact", contact[:-1] + ";transport=tcp>")
        super().send(message, addr)

    def _dispatch(self, data: bytes, addr: tuple[str, int]) -> None:
        _deliver(self, data, addr)
