"""The ``AgentBridge`` the voice gateway talks to: queued callers hear their place, connected ones hear the agent.

The gateway calls ``caller_joined`` once the bot has paused for a handoff (the
port has already queued the call), then streams the caller's audio here. While
queued the caller hears position and estimated wait on entry and every
``announce_interval`` seconds, hold audio in between; when an agent accepts,
caller audio goes to that agent's desk over its WebSocket and the agent's audio
comes back through ``leg.send_agent_audio``. Past the queue's max wait the
caller may press 1 for a callback or 2 for voicemail.

With several gateway processes on Redis, the agent's desk may be connected to
another process than the caller's leg: audio then crosses over the store's bus
(``agent-audio:<agent>`` towards the desk, ``agent-mic:<agent>`` back).

``CallerLeg`` mirrors ``voice_gateway.agent_bridge.CallerLeg`` structurally
(handoff does not import the gateway; the composition root wires the two).
"""
from __future__ import annotations

import asyncio
import base64
import logging
import wave
from pathlib import Path
from typing import Protocol

from bot.security.paths import safe_child
from handoff import announcements
from handoff.acd import ACD
from handoff.model import CONNECTED

logger = logging.getLogger(__name__)


class CallerLeg(Protocol):
    call_id: str
    caller_number: str | None

    async def say(self, text: str) -> None: ...

    async def play_hold(self) -> None: ...

    async def send_agent_audio(self, pcm16: bytes, sample_rate: int) -> None: ...

    async def hang_up(self, reason: str) -> None: ...


class AgentAudioSink(Protocol):
    """The desks: where a connected caller's audio goes (``handoff.desk.DeskHub``)."""

    async def send_audio(self, agent_id: str, call_id: str, pcm16: bytes, sample_rate: int) -> bool: ...


class ACDAgentBridge:
    def __init__(self, acd: ACD, desks: AgentAudioSink, voicemail_dir: Path):
        self.acd = acd
        self.desks = desks
        self.voicemail_dir = voicemail_dir
        self.legs: dict[str, CallerLeg] = {}
        self.agent_of: dict[str, str] = {}                  # call id -> agent id while connected
        self._followers: dict[str, asyncio.Task] = {}
        self._voicemail: dict[str, tuple[bytearray, int]] = {}
        self._callback_offered: set[str] = set()
        self._mic_relays: dict[str, asyncio.Task] = {}

    # --- AgentBridge -------------------------------------------------------------
    async def caller_joined(self, leg: CallerLeg) -> None:
        self.legs[leg.call_id] = leg
        ready = asyncio.Event()
        self._followers[leg.call_id] = asyncio.create_task(self._follow(leg, ready))
        await ready.wait()  # subscribed: no event about this call can be missed from here on

    async def caller_audio(self, call_id: str, pcm16: bytes, sample_rate: int) -> None:
        if call_id in self._voicemail:
            buffer, _ = self._voicemail[call_id]
            buffer.extend(pcm16)
            self._voicemail[call_id] = (buffer, sample_rate)
        elif call_id in self.agent_of:
            agent_id = self.agent_of[call_id]
            if not await self.desks.send_audio(agent_id, call_id, pcm16, sample_rate):
                await self.acd.store.publish(f"agent-audio:{agent_id}", encode_audio(call_id, pcm16, sample_rate))

    async def caller_dtmf(self, call_id: str, digit: str) -> None:
        leg = self.legs.get(call_id)
        if leg is None or call_id not in self._callback_offered:
            return
        if digit == "1" and await self.acd.take_callback(call_id, leg.caller_number):
            await leg.say(announcements.CALLBACK_TAKEN)
            await leg.hang_up("callback")
        elif digit == "2":
            self._voicemail[call_id] = (bytearray(), 8000)
            await leg.say(announcements.VOICEMAIL_PROMPT)

    async def caller_left(self, call_id: str, reason: str) -> None:
        self.legs.pop(call_id, None)
        self._disconnect_agent(call_id)
        self._callback_offered.discard(call_id)
        follower = self._followers.pop(call_id, None)
        if follower:
            follower.cancel()
        if call_id in self._voicemail:
            await self._keep_voicemail(call_id)
        else:
            await self.acd.caller_left(call_id, reason)

    async def close(self) -> None:
        """Stop following calls (the app is shutting down; the calls stay in the store)."""
        tasks = [*self._followers.values(), *self._mic_relays.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._followers.clear()
        self._mic_relays.clear()

    # --- from the desks ------------------------------------------------------------
    async def agent_audio(self, agent_id: str, pcm16: bytes, sample_rate: int) -> None:
        """The agent's microphone, for the caller they are connected to (if any)."""
        call_id = next((c for c, a in self.agent_of.items() if a == agent_id), None)
        leg = self.legs.get(call_id) if call_id else None
        if leg is not None:
            await leg.send_agent_audio(pcm16, sample_rate)
        else:  # the caller's leg may live in another gateway process
            await self.acd.store.publish(f"agent-mic:{agent_id}", encode_audio(call_id, pcm16, sample_rate))

    # --- internals -----------------------------------------------------------------
    async def _follow(self, leg: CallerLeg, ready: asyncio.Event) -> None:
        """Tell the caller what happens to their call until it ends."""
        call_id = leg.call_id
        try:
            async with self.acd.store.subscribe(f"call:{call_id}") as events:
                ready.set()
                call = await self.acd.store.get_call(call_id)
                if call is None:
                    return
                if call.state == CONNECTED:
                    await self._connect_agent(leg, call.agent_id)
                else:
                    await self._announce_position(leg)
                    if call.callback_offered:  # offered before the caller's leg joined (a short max_wait)
                        await self._on_event(leg, {"type": "callback_offer"})
                interval = self.acd.queue(call.queue).announce_interval
                while True:
                    try:
                        async with asyncio.timeout(interval):
                            event = await events.get()
                    except TimeoutError:
                        if call_id not in self.agent_of and call_id not in self._voicemail:
                            await self._announce_position(leg)
                        continue
                    if not await self._on_event(leg, event):
                        return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("following a queued call failed", extra={"call_id": call_id})
        finally:
            ready.set()

    async def _on_event(self, leg: CallerLeg, event: dict) -> bool:
        kind, call_id = event.get("type"), leg.call_id
        if kind == "connected":
            await leg.say(announcements.CONNECTING)
            await self._connect_agent(leg, event["agent_id"])
        elif kind == "requeued":
            self._disconnect_agent(call_id)
            await leg.say(announcements.REQUEUED)
            await leg.play_hold()
        elif kind == "transferred":
            self._disconnect_agent(call_id)
            await leg.say(announcements.transferring(event["queue"]))
            await leg.play_hold()
        elif kind == "callback_offer":
            self._callback_offered.add(call_id)
            await leg.say(announcements.CALLBACK_OFFER)
            await leg.play_hold()
        elif kind == "ended":
            self._disconnect_agent(call_id)
            await leg.hang_up("agent_ended")
            return False
        return True

    async def _connect_agent(self, leg: CallerLeg, agent_id: str) -> None:
        """Route audio between the leg and the agent, also when the agent's desk is in another process."""
        self._disconnect_agent(leg.call_id)
        self.agent_of[leg.call_id] = agent_id
        ready = asyncio.Event()
        self._mic_relays[leg.call_id] = asyncio.create_task(self._relay_agent_mic(leg, agent_id, ready))
        await ready.wait()

    def _disconnect_agent(self, call_id: str) -> None:
        self.agent_of.pop(call_id, None)
        relay = self._mic_relays.pop(call_id, None)
        if relay:
            relay.cancel()

    async def _relay_agent_mic(self, leg: CallerLeg, agent_id: str, ready: asyncio.Event) -> None:
        try:
            async with self.acd.store.subscribe(f"agent-mic:{agent_id}") as frames:
                ready.set()
                while True:
                    frame = await frames.get()
                    if frame.get("call_id") in (leg.call_id, None):
                        await leg.send_agent_audio(*decode_audio(frame))
        finally:
            ready.set()

    async def _announce_position(self, leg: CallerLeg) -> None:
        place = await self.acd.position(leg.call_id)
        if place is not None:
            await leg.say(announcements.queue_position(*place))
            await leg.play_hold()

    async def _keep_voicemail(self, call_id: str) -> None:
        buffer, rate = self._voicemail.pop(call_id)
        self.voicemail_dir.mkdir(parents=True, exist_ok=True)
        path = safe_child(self.voicemail_dir, call_id, ".wav")  # a REST sender or carrier may have chosen the id
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(bytes(buffer))
        await self.acd.take_voicemail(call_id, str(path), len(buffer) / 2 / rate)


def encode_audio(call_id: str | None, pcm16: bytes, sample_rate: int) -> dict:
    """An audio frame as a bus event (the bus carries JSON)."""
    return {"call_id": call_id, "sample_rate": sample_rate, "pcm16": base64.b64encode(pcm16).decode("ascii")}


def decode_audio(frame: dict) -> tuple[bytes, int]:
    return base64.b64decode(frame["pcm16"]), int(frame["sample_rate"])
