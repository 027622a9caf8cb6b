"""A SIP phone for the benchmarks: aiosipua places the call, aiortp carries G.711 both ways.

It sends 20 ms packets on a steady clock for the whole call (speech when it has some, silence
otherwise, as a phone does), can drop a share of its packets (``loss``: the network losing them),
and timestamps every packet it receives, so a turn's latency is measured where the caller is: last
packet of speech sent -> first packet of the bot's answer received.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections import deque

from aiortp import PayloadType, PortAllocator, RTPSession
from aiosipua import SipUAC, SipUAS, build_sdp, parse_sdp

from voice_gateway.sip.config import SipConfig
from voice_gateway.sip.transports import GatedUdpTransport, PeerGate

FRAME = 320  # 20 ms at 8 kHz, PCM16
LOST = ("127.0.0.1", 9)  # the discard port: nothing listens there on loopback


class SipCaller:
    def __init__(self, server: tuple[str, int], number: str, loss: float = 0.0, seed: int = 1):
        self.server, self.number = server, number
        self.loss, self.random = loss, random.Random(seed)
        self.outbox: deque[bytes] = deque()
        self.received: list[float] = []  # arrival time of every bot packet
        self.sent = self.dropped = 0
        self.closed = asyncio.Event()

    async def dial(self) -> "SipCaller":
        gate = PeerGate(SipConfig(allow=["127.0.0.1/32"]))
        self.transport = GatedUdpTransport(local_addr=("127.0.0.1", 0), gate=gate)
        self.uac = SipUAC(self.transport)
        self.uas = SipUAS(self.transport, uac=self.uac)
        self.uas.on_bye = lambda call, request: self.closed.set()
        await self.uas.start()
        port = self.transport._udp_transport.get_extra_info("sockname")[1]
        self.transport.local_addr = self.uac.advertised_addr = self.uas.advertised_addr = ("127.0.0.1", port)
        rtp_port, _ = await PortAllocator((40000, 40999)).allocate()
        self.rtp = await RTPSession.create(local_addr=("127.0.0.1", rtp_port), remote_addr=LOST,
                                           payload_type=PayloadType.PCMU)
        self.rtp.on_audio = lambda pcm, timestamp: self.received.append(time.monotonic())
        offer = build_sdp("127.0.0.1", rtp_port, 0, "PCMU")
        self.call = self.uac.send_invite(f"sip:{self.number}@127.0.0.1", f"sip:helpline@{self.server[0]}",
                                         self.server, offer)
        await self.call.wait_answered(30)
        answer = parse_sdp(self.call.sdp_answer) if isinstance(self.call.sdp_answer, str) else self.call.sdp_answer
        self.remote = answer.rtp_address
        self.rtp.update_remote(self.remote)
        self._clock = asyncio.ensure_future(self._send_forever())
        return self

    async def _send_forever(self) -> None:
        """One packet every 20 ms on an absolute clock: queued speech, else silence."""
        start, tick = time.monotonic(), 0
        while not self.closed.is_set():
            frame = self.outbox.popleft() if self.outbox else b"\x00" * FRAME
            if self.random.random() < self.loss:  # the network loses it: sent where nothing listens
                self.dropped += 1
                self.rtp.update_remote(LOST)
                self.rtp.send_audio_pcm_auto(frame)
                self.rtp.update_remote(self.remote)
            else:
                self.rtp.send_audio_pcm_auto(frame)
            self.sent += 1
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 0.02 - time.monotonic()))

    async def wait_until_quiet(self, quiet_secs: float = 0.8, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.received[-1] if self.received else 0.0
            if time.monotonic() - last >= quiet_secs and not self.outbox:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot kept talking")

    async def say(self, pcm16: bytes, answer_timeout: float = 15) -> float | None:
        """Speak; ms from the last packet of speech sent to the first packet of the answer received."""
        frames = [pcm16[i:i + FRAME].ljust(FRAME, b"\x00") for i in range(0, len(pcm16), FRAME)]
        self.outbox.extend(frames)
        while self.outbox:
            await asyncio.sleep(0.01)
        ended = time.monotonic()  # the last speech frame has just been sent
        deadline = ended + answer_timeout
        while time.monotonic() < deadline:
            answer = next((t for t in reversed(self.received) if t > ended), None)
            if answer is not None:
                first = min(t for t in self.received if t > ended)
                return (first - ended) * 1000
            await asyncio.sleep(0.005)
        return None

    async def hang_up(self) -> None:
        if not self.closed.is_set():
            self.call.hangup(self.uac)
        self.closed.set()
        if hasattr(self, "_clock"):
            await self._clock
        await self.rtp.close()
        await self.uas.stop()
