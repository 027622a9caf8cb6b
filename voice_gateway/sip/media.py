"""One call's RTP: G.711 audio both ways and RFC 4733 keypad events, on aiortp.

Inbound packets pass aiortp's jitter buffer (reordering; a lost packet is concealed with a short
fade instead of waiting for it, so the pipeline never stalls), are decoded to PCM16 at 8 kHz and
handed to ``on_audio``; telephone-events come out of ``on_dtmf`` once per key press.
Outbound audio arrives already paced in real time (``voice_gateway.playback``), so it is cut into
20 ms packets and sent at once. Media is symmetric (RFC 4961): replies go where the caller's
packets come from, which is what gets audio through a caller's NAT; packets from any host other
than the caller's signalling or SDP address are ignored, so nobody else can steer or inject media.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from aiortp import PayloadType, PortAllocator, RTPSession

logger = logging.getLogger(__name__)
FRAME_BYTES = 320  # 20 ms of PCM16 at 8 kHz
CODECS = {0: "PCMU", 8: "PCMA"}


class _GuardedSession(RTPSession):
    """aiortp's session, taking packets only from the hosts the call's signalling names."""

    allowed_hosts: frozenset[str] = frozenset()

    def _handle_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[0] in self.allowed_hosts:
            super()._handle_rtp(data, addr)

    def _handle_rtcp(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[0] in self.allowed_hosts:
            super()._handle_rtcp(data, addr)


class RtpLeg:
    def __init__(self, session: _GuardedSession, payload_type: int, port: int, allocator: PortAllocator,
                 remote: tuple[str, int]):
        self.session = session
        self.remote = remote  # where the caller's SDP says to send (packets from the caller may move it)
        self.payload_type = payload_type
        self.port = port
        self._allocator = allocator
        self._pending = b""
        self._closed = False

    @classmethod
    async def open(cls, allocator: PortAllocator, bind_host: str, remote: tuple[str, int], payload_type: int,
                   dtmf_payload_type: int, peer_host: str, on_audio: Callable[[bytes], None],
                   on_dtmf: Callable[[str], None]) -> "RtpLeg":
        port, _rtcp_port = await allocator.allocate()  # an even port and the odd one above it for RTCP
        try:
            session = await _GuardedSession.create(
                local_addr=(bind_host, port), remote_addr=remote, payload_type=PayloadType(payload_type),
                dtmf_payload_type=dtmf_payload_type, skip_audio_gaps=True, plc=True, symmetric_rtp=True,
                cname="helpline")
        except BaseException:
            await allocator.release(port)
            raise
        session.allowed_hosts = frozenset({remote[0], peer_host})
        session.on_audio = lambda pcm, _timestamp: on_audio(pcm)
        session.on_dtmf = lambda digit, _duration: on_dtmf(digit)
        return cls(session, payload_type, port, allocator, remote)

    def send(self, pcm16: bytes) -> None:
        """Send audio (PCM16, 8 kHz) as 20 ms packets; a partial packet waits for the next call."""
        if self._closed:
            return
        data = self._pending + pcm16
        whole = len(data) // FRAME_BYTES * FRAME_BYTES
        for start in range(0, whole, FRAME_BYTES):
            self.session.send_audio_pcm_auto(data[start:start + FRAME_BYTES])
        self._pending = data[whole:]

    def move_to(self, remote: tuple[str, int]) -> None:
        """The caller's media moved (re-INVITE): send there, and take packets from there."""
        self.session.allowed_hosts = self.session.allowed_hosts | {remote[0]}
        self.session.update_remote(remote)
        self.remote = remote

    @property
    def stats(self) -> dict:
        stats = self.session.stats
        return {key: stats.get(key) for key in ("packets_received", "packets_lost", "concealed_frames", "jitter",
                                                "packets_sent") if key in stats}

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.session.close()
        await self._allocator.release(self.port)
