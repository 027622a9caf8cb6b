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
(``agent-audio:<agent>`` towards the desk, ``agent-mic:<agent>`` back). A supervisor monitoring the
call is mixed in here too (``handoff.monitor``): this process sees both sides of the conversation.

``CallerLeg`` mirrors ``voice_gateway.agent_bridge.CallerLeg`` structurally
(handoff does not import the gateway; the composition root wires the two).
"""
from __future__ import annotations

import asyncio
import logging
import wave
from pathlib import Path
from typing import Protocol

from bot.security.paths import safe_child
from handoff import announcements
from handoff.acd import ACD
from handoff.bus_audio import decode_audio, encode_audio
from handoff.model import CONNECTED
from handoff.monitor import CallMonitor

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
        self._transferring: dict[str, str] = {}             # call id -> the queue's transfer_to, while it runs
        self.monitor = CallMonitor(acd.store, self._to_agent, self._to_leg)

    # --- AgentBridge -------------------------------------------------------------
    async def caller_joined(self, leg: CallerLeg) -> None:
        if await self._transfer_out(leg):
            return
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
            await self._to_agent(call_id, *await self.monitor.caller_frame(call_id, pcm16, sample_rate))

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
        target = self._transferring.pop(call_id, None)
        if target is not None:  # left for the transfer target (or hung up while it rang): not abandoned here
            await self.acd.transferred_out(call_id, target)
            return
        self.legs.pop(call_id, None)
        await self._disconnect_agent(call_id)
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
        await self.monitor.close()

    # --- from the desks ------------------------------------------------------------
    async def agent_audio(self, agent_id: str, pcm16: bytes, sample_rate: int) -> None:
        """The agent's microphone, for the caller they are connected to (if any)."""
        call_id = next((c for c, a in self.agent_of.items() if a == agent_id), None)
        if call_id is not None and call_id in self.legs:
            await self._to_leg(call_id, *await self.monitor.agent_frame(call_id, pcm16, sample_rate))
        else:  # the caller's leg may live in another gateway process
            await self.acd.store.publish(f"agent-mic:{agent_id}", encode_audio(call_id, pcm16, sample_rate))

    # --- internals -----------------------------------------------------------------
    async def _transfer_out(self, leg: CallerLeg) -> bool:
        """A queue with ``transfer_to`` sends SIP callers to that URI (agents on an existing PBX).

        True when the caller went; False when the queue has none, the leg cannot transfer
        (WebSocket, AudioSocket) or the target refused: then the caller queues for the desk as usual.
        """
        transfer = getattr(leg, "transfer", None)
        call = await self.acd.store.get_call(leg.call_id)
        target = self.acd.queue(call.queue).transfer_to if call is not None else None
        if not target or transfer is None:
            return False
        self._transferring[leg.call_id] = target
        if await transfer(target):
            await leg.hang_up("transferred")
            return True
        self._transferring.pop(leg.call_id, None)
        logger.warning("transfer failed; the caller queues for the desk", extra={"call_id": leg.call_id,
                                                                                  "target": target})
        return False

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
            await self._disconnect_agent(call_id)
            await leg.say(announcements.REQUEUED)
            await leg.play_hold()
        elif kind == "transferred":
            await self._disconnect_agent(call_id)
            await leg.say(announcements.transferring(event["queue"]))
            await leg.play_hold()
        elif kind == "callback_offer":
            self._callback_offered.add(call_id)
            await leg.say(announcements.CALLBACK_OFFER)
            await leg.play_hold()
        elif kind == "monitor" and call_id in self.agent_of:
            await self.monitor.change(call_id, str(event.get("supervisor")), event.get("mode"))
        elif kind == "ended":
            await self._disconnect_agent(call_id)
            await leg.hang_up("agent_ended")
            return False
        return True

    async def _connect_agent(self, leg: CallerLeg, agent_id: str) -> None:
        """Route audio between the leg and the agent, also when the agent's desk is in another process."""
        await self._disconnect_agent(leg.call_id)
        self.agent_of[leg.call_id] = agent_id
        ready = asyncio.Event()
        self._mic_relays[leg.call_id] = asyncio.create_task(self._relay_agent_mic(leg, agent_id, ready))
        await ready.wait()
        await self.monitor.connected(leg.call_id)

    async def _disconnect_agent(self, call_id: str) -> None:
        self.agent_of.pop(call_id, None)
        relay = self._mic_relays.pop(call_id, None)
        if relay:
            relay.cancel()
        await self.monitor.stop(call_id, "the call left the agent")

    async def _to_agent(self, call_id: str, pcm16: bytes, sample_rate: int) -> None:
        """Audio for the agent of a connected call, on this process's desk or over the bus."""
        agent_id = self.agent_of.get(call_id)
        if agent_id is not None and not await self.desks.send_audio(agent_id, call_id, pcm16, sample_rate):
            await self.acd.store.publish(f"agent-audio:{agent_id}", encode_audio(call_id, pcm16, sample_rate))

    async def _to_leg(self, call_id: str, pcm16: bytes, sample_rate: int) -> None:
        leg = self.legs.get(call_id)
        if leg is not None:
            await leg.send_agent_audio(pcm16, sample_rate)

    async def _relay_agent_mic(self, leg: CallerLeg, agent_id: str, ready: asyncio.Event) -> None:
        try:
            async with self.acd.store.subscribe(f"agent-mic:{agent_id}") as frames:
                ready.set()
                while True:
                    frame = await frames.get()
                    if frame.get("call_id") in (leg.call_id, None):
                        heard = await self.monitor.agent_frame(leg.call_id, *decode_audio(frame))
                        await self._to_leg(leg.call_id, *heard)
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

