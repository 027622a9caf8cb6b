"""Where the voice gateway meets the agent queues (handoff), without either importing the other.

The gateway implements ``CallerLeg`` (one per live call); the handoff module implements
``AgentBridge``; helpline/app.py wires them. When the bot has paused a call for an agent, the gateway
calls ``caller_joined``, then streams the caller's audio (PCM16, 16 kHz) and keypad digits to the
bridge instead of the recogniser, and plays what the bridge sends through the leg.
"""
from __future__ import annotations

from typing import Protocol

BRIDGE_SAMPLE_RATE = 16000  # caller audio to the bridge


class CallerLeg(Protocol):
    call_id: str  # == the bot's sender_id for the call
    caller_number: str | None

    async def say(self, text: str) -> None:
        """Speak to the caller (queue position, wait time); returns when it has been played."""

    async def play_hold(self) -> None:
        """Start hold audio; it plays until the next ``say`` or agent audio."""

    async def send_agent_audio(self, pcm16: bytes, sample_rate: int) -> None:
        """The agent's voice to the caller (mono PCM16, any rate)."""

    async def hang_up(self, reason: str) -> None:
        """End the call."""

    async def transfer(self, uri: str) -> bool:
        """Blind-transfer the caller to a SIP URI; True when they left for it, False when the transport
        cannot transfer (WebSocket, AudioSocket) or the target refused (the caller is still here)."""


class AgentBridge(Protocol):
    async def caller_joined(self, leg: CallerLeg) -> None:
        """The bot paused the call for a person: the call is queued."""

    async def caller_audio(self, call_id: str, pcm16: bytes, sample_rate: int) -> None: ...

    async def caller_dtmf(self, call_id: str, digit: str) -> None: ...

    async def caller_left(self, call_id: str, reason: str) -> None:
        """The caller hung up (abandoned if still queued)."""
