"""Test stand-ins for the voice gateway's side of the handoff: a caller leg that plays real speech.

The gateway is built on another branch; ``RecordedCallerLeg`` implements its
``CallerLeg`` contract and feeds an LJSpeech recording (resampled to 16 kHz PCM16,
as the gateway would) through ``AgentBridge.caller_audio`` in 20 ms frames.
"""
from __future__ import annotations

import asyncio
import json
import wave
from dataclasses import dataclass, field

import numpy as np
from aiohttp import WSMsgType

from tests.needs import shared_data

RATE = 16000


def speech_pcm16(name: str = "LJ001-0001.wav", rate: int = RATE) -> bytes:
    """A real recording as mono PCM16 at ``rate`` (linear resampling is plenty for a level check)."""
    with wave.open(str(shared_data("ljspeech_samples", "wavs", name))) as source:
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2").astype(np.float32)
        source_rate = source.getframerate()
    times = np.arange(0, len(samples) / source_rate, 1 / rate)
    resampled = np.interp(times, np.arange(len(samples)) / source_rate, samples)
    return resampled.astype("<i2").tobytes()


@dataclass
class RecordedCallerLeg:
    call_id: str
    caller_number: str | None = "+15551230001"
    said: list[str] = field(default_factory=list)
    holds: int = 0
    agent_audio: bytearray = field(default_factory=bytearray)
    hung_up: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def say(self, text: str) -> None:
        self.said.append(text)
        self.changed.set()

    async def play_hold(self) -> None:
        self.holds += 1

    async def send_agent_audio(self, pcm16: bytes, sample_rate: int) -> None:
        self.agent_audio.extend(pcm16)
        self.changed.set()

    async def hang_up(self, reason: str) -> None:
        self.hung_up = reason
        self.changed.set()

    async def wait_for(self, condition, timeout: float = 10.0) -> None:
        async def poll() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(poll(), timeout)


async def stream_speech(bridge, call_id: str, pcm16: bytes, frame_ms: int = 20, realtime: bool = False) -> int:
    """Send speech to the bridge in gateway-sized frames; returns the bytes sent."""
    step = RATE * frame_ms // 1000 * 2
    for start in range(0, len(pcm16), step):
        await bridge.caller_audio(call_id, pcm16[start:start + step], RATE)
        await asyncio.sleep(frame_ms / 1000 if realtime else 0)
    return len(pcm16)


async def receive_audio(socket, size: int, timeout: float = 5.0) -> bytes:
    """Binary frames from an agent desk WebSocket until ``size`` bytes of audio have arrived."""
    received = bytearray()
    while len(received) < size:
        message = await asyncio.wait_for(socket.receive(), timeout)
        if message.type == WSMsgType.BINARY:
            received.extend(message.data)
    return bytes(received)


class Ears:
    """Everything a WebSocket party receives: audio bytes and JSON events, in order."""

    def __init__(self, socket):
        self.socket, self.audio, self.events = socket, bytearray(), []
        self.task = asyncio.create_task(self._listen())

    async def _listen(self):
        async for message in self.socket:
            if message.type == WSMsgType.BINARY:
                self.audio.extend(message.data)
            elif message.type == WSMsgType.TEXT:
                self.events.append(json.loads(message.data))

    async def event(self, kind: str, timeout: float = 10.0, **match) -> dict:
        async def find():
            while True:
                for event in self.events:
                    if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                        self.events.remove(event)
                        return event
                await asyncio.sleep(0.02)
        return await asyncio.wait_for(find(), timeout)
