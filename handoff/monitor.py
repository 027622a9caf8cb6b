"""Live monitoring, where the caller's leg is: a supervisor listens to, whispers to, or barges into a call.

The process that holds a call's caller leg (``handoff.bridge``) does all the mixing, since both the
caller's audio and the agent's microphone pass through it whichever process serves the desk:

- listen: the supervisor hears the caller and the agent; their microphone goes nowhere;
- whisper: as listen, and the supervisor's voice is mixed into what the agent hears, never the caller;
- barge: as whisper, and the supervisor's voice is also mixed into what the caller hears.

The supervisor's socket may be served by any process: its microphone arrives over the store's bus
(``monitor-mic:<call>``) and what it hears leaves the same way (``monitor-audio:<call>``: audio frames
and ``monitoring``, ``monitor_ended``, ``leg_ready`` notices), so this works across processes on Redis.
One supervisor monitors a call at a time; a second one takes over from the first.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from handoff.bus_audio import decode_audio, encode_audio
from handoff.mixer import RATE, Mixer

LISTEN, WHISPER, BARGE = "listen", "whisper", "barge"
MODES = (LISTEN, WHISPER, BARGE)
logger = logging.getLogger(__name__)

Send = Callable[[str, bytes, int], Awaitable[None]]  # (call id, pcm16, sample rate)


def mic_topic(call_id: str) -> str:
    return f"monitor-mic:{call_id}"


def audio_topic(call_id: str) -> str:
    return f"monitor-audio:{call_id}"


@dataclass
class Watch:
    supervisor: str
    mode: str
    relay: asyncio.Task | None = None
    to_agent: Mixer = field(default_factory=Mixer)        # the caller, plus the supervisor (whisper, barge)
    to_caller: Mixer = field(default_factory=Mixer)       # the agent, plus the supervisor (barge)
    to_supervisor: Mixer = field(default_factory=Mixer)   # the caller, plus the agent


class CallMonitor:
    def __init__(self, store, to_agent: Send, to_caller: Send):
        self.store = store
        self._to_agent, self._to_caller = to_agent, to_caller
        self.watches: dict[str, Watch] = {}

    async def change(self, call_id: str, supervisor: str, mode: str | None) -> None:
        """A supervisor joins (or changes mode on) a call this process holds; ``mode`` None: they leave."""
        watch = self.watches.get(call_id)
        if mode not in MODES:
            if watch is not None and watch.supervisor == supervisor:
                await self.stop(call_id, "left")
            return
        if watch is not None and watch.supervisor != supervisor:
            await self.stop(call_id, f"taken over by {supervisor}")
            watch = None
        if watch is None:
            watch = self.watches[call_id] = Watch(supervisor, mode)
            ready = asyncio.Event()
            watch.relay = asyncio.create_task(self._relay_mic(call_id, watch, ready))
            await ready.wait()
        elif watch.mode != mode:
            watch.mode = mode
            watch.to_agent.clear()    # nothing said in one mode is heard in the next
            watch.to_caller.clear()
        await self.store.publish(audio_topic(call_id), {"type": "monitoring", "call_id": call_id,
                                                        "supervisor": supervisor, "mode": mode})

    async def connected(self, call_id: str) -> None:
        """The call's agent is connected here: a supervisor who asked before this process followed the
        call (the caller's leg joins once the bot's last words are played) asks again on this notice."""
        await self.store.publish(audio_topic(call_id), {"type": "leg_ready", "call_id": call_id})

    async def stop(self, call_id: str, reason: str) -> None:
        watch = self.watches.pop(call_id, None)
        if watch is None:
            return
        if watch.relay is not None:
            watch.relay.cancel()
        await self.store.publish(audio_topic(call_id), {"type": "monitor_ended", "call_id": call_id,
                                                        "supervisor": watch.supervisor, "reason": reason})

    async def close(self) -> None:
        tasks = [w.relay for w in self.watches.values() if w.relay is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.watches.clear()

    # --- the call's audio, as it passes through the bridge ---------------------------------
    async def caller_frame(self, call_id: str, pcm16: bytes, sample_rate: int) -> tuple[bytes, int]:
        """A frame from the caller: the supervisor hears it (with the agent); returns what the agent hears."""
        watch = self.watches.get(call_id)
        if watch is None:
            return pcm16, sample_rate
        await self.store.publish(audio_topic(call_id),
                                 encode_audio(call_id, watch.to_supervisor.mix(pcm16, sample_rate), RATE))
        return watch.to_agent.mix(pcm16, sample_rate), RATE

    async def agent_frame(self, call_id: str, pcm16: bytes, sample_rate: int) -> tuple[bytes, int]:
        """A frame from the agent: the supervisor hears it (with the caller); returns what the caller hears."""
        watch = self.watches.get(call_id)
        if watch is None:
            return pcm16, sample_rate
        overdue = watch.to_supervisor.add_side(pcm16, sample_rate)
        if overdue:
            await self.store.publish(audio_topic(call_id), encode_audio(call_id, overdue, RATE))
        return watch.to_caller.mix(pcm16, sample_rate), RATE

    async def supervisor_frame(self, call_id: str, watch: Watch, pcm16: bytes, sample_rate: int) -> None:
        if watch.mode in (WHISPER, BARGE):
            overdue = watch.to_agent.add_side(pcm16, sample_rate)
            if overdue:
                await self._to_agent(call_id, overdue, RATE)
        if watch.mode == BARGE:
            overdue = watch.to_caller.add_side(pcm16, sample_rate)
            if overdue:
                await self._to_caller(call_id, overdue, RATE)

    async def _relay_mic(self, call_id: str, watch: Watch, ready: asyncio.Event) -> None:
        try:
            async with self.store.subscribe(mic_topic(call_id)) as frames:
                ready.set()
                while True:
                    frame = await frames.get()
                    if frame.get("supervisor") == watch.supervisor:
                        await self.supervisor_frame(call_id, watch, *decode_audio(frame))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("mixing a supervisor into a call failed", extra={"call_id": call_id})
        finally:
            ready.set()
