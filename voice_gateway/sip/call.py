"""One answered SIP call as a transport for ``run_call``: its dialog, its RTP leg, its inbox.

The endpoint fills the inbox (caller audio, keys, the caller's BYE); ``run_call`` reads it through
``receive`` and answers through ``send_raw`` like on any other transport. Ending the call from our
side sends a BYE; a blind transfer sends a REFER and hands the caller over once the transfer target
answered (the progress arrives as NOTIFYs). In-dialog requests are retransmitted over UDP until a
final response (RFC 3261 timer E/F), which aiosipua leaves to its user.
"""
from __future__ import annotations

import asyncio
import logging

from aiosipua import DialogState, IncomingCall

from voice_gateway.serializers.sip import SipEvent, SipHangUp
from voice_gateway.sip.media import RtpLeg

logger = logging.getLogger(__name__)
INBOX_FRAMES = 500  # 10 s of caller audio waiting for the pipeline; beyond, audio is dropped
T1, T2, TIMER_F = 0.5, 4.0, 32.0
TRANSFER_TIMEOUT = 30.0


class SipCall:
    def __init__(self, endpoint, dialog: IncomingCall, transport, rtp: RtpLeg):
        self.endpoint = endpoint
        self.dialog = dialog
        self.transport = transport
        self.sip_call_id = dialog.call_id  # the gateway call's external reference
        self.rtp = rtp
        self.inbox: asyncio.Queue[SipEvent | None] = asyncio.Queue(maxsize=INBOX_FRAMES)
        self.closed = False
        self.ended_by_caller = False
        self._dropped = 0

    # ---- inbound, from the endpoint ------------------------------------------------------------------
    def push(self, event: SipEvent) -> None:
        if self.closed:
            return
        try:
            self.inbox.put_nowait(event)
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped == 1:
                logger.warning("caller audio dropped: the call's pipeline is behind",
                               extra={"sip_call_id": self.sip_call_id})

    def caller_hung_up(self, reason: str) -> None:
        self.ended_by_caller = True
        self.push(SipHangUp(reason))

    # ---- the transport run_call drives -------------------------------------------------------------
    async def receive(self, timeout: float) -> SipEvent | None:
        if self.closed and self.inbox.empty():
            return None
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def send_raw(self, message: bytes) -> None:
        if self.closed:
            raise ConnectionError("SIP call ended")
        self.rtp.send(message)

    async def close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.ended_by_caller:
            self.endpoint.spawn(self._bye(reason))
        await self.rtp.close()
        while not self.inbox.empty():
            self.inbox.get_nowait()
        self.inbox.put_nowait(None)

    async def _bye(self, reason: str) -> None:
        status = await self.request("BYE")
        logger.info("BYE sent", extra={"sip_call_id": self.sip_call_id, "reason": reason, "status": status})

    async def transfer(self, uri: str) -> bool:
        """Blind transfer (RFC 3515): True once the transfer target answered the caller."""
        if self.closed:
            return False
        progress = self.endpoint.expect_transfer(self.sip_call_id)
        status = await self.request("REFER", {"Refer-To": f"<{uri}>", "Referred-By": f"<{self.dialog.callee}>"})
        if status is None or not 200 <= status < 300:
            self.endpoint.forget_transfer(self.sip_call_id)
            logger.warning("transfer refused", extra={"sip_call_id": self.sip_call_id, "target": uri,
                                                      "status": status})
            return False
        try:
            final = await asyncio.wait_for(progress, TRANSFER_TIMEOUT)
        except asyncio.TimeoutError:
            final = None
        finally:
            self.endpoint.forget_transfer(self.sip_call_id)
        logger.info("transfer result", extra={"sip_call_id": self.sip_call_id, "target": uri, "status": final})
        return final is not None and 200 <= final < 300  # the agent bridge then hangs up our leg

    async def request(self, method: str, headers: dict[str, str] | None = None) -> int | None:
        """Send an in-dialog request; its final status, or None when nothing answered in time."""
        dialog = self.dialog.dialog
        if dialog.state == DialogState.TERMINATED and method != "BYE":
            return None
        host, port = self.endpoint.contact_addr
        transport_name = "TCP" if self.transport.reliable else "UDP"
        request = dialog.create_request(method, via_host=host, via_port=port, via_transport=transport_name)
        request.headers.set_single("Contact", f"<sip:{host}:{port};transport={transport_name.lower()}>")
        request.headers.set_single("Max-Forwards", "70")
        for name, value in (headers or {}).items():
            request.headers.set_single(name, value)
        if method == "BYE":
            dialog.terminate()
        answered = self.endpoint.expect_response(request)
        interval, waited = T1, 0.0
        try:
            while waited < TIMER_F:
                try:
                    self.transport.send(request, self.dialog.source_addr)
                except (RuntimeError, OSError) as error:  # the TCP connection is gone
                    logger.info("in-dialog request not sent", extra={"sip_call_id": self.sip_call_id,
                                                                     "method": method,
                                                                     "error": str(error)})
                    return None
                wait = TIMER_F - waited if self.transport.reliable else interval
                try:
                    return await asyncio.wait_for(asyncio.shield(answered), wait)
                except asyncio.TimeoutError:
                    waited += wait
                    interval = min(interval * 2, T2)
            return None
        finally:
            self.endpoint.forget_response(request)
