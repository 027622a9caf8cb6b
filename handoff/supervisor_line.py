"""The supervisor's live line (``/supervisor/ws``): listen to, whisper into, or barge into an agent's call.

JSON commands up (``monitor`` with ``call_id`` and ``mode``: listen, whisper or barge; ``stop``),
JSON events down (``monitoring`` once the caller's side has the supervisor on the call, ``monitor_ended``,
``audio_format``, ``error``) and binary PCM16 frames both ways: the call's audio down (caller and agent
mixed, 16 kHz), the supervisor's microphone up (16 kHz; used in whisper and barge only).

Whichever process serves this socket, the caller's leg may be in another: commands reach it as events on
``call:<id>``, audio crosses the store's bus (see ``handoff.monitor``). The agent's desk is told who is
on the call and how (a ``supervisor`` event), and every join, mode change and leave is audited.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Callable

from aiohttp import WSMsgType, web

from bot.security.json_limits import JsonLimitError, loads
from bot.security.principal import principal_of
from handoff.acd import ACD
from handoff.bus_audio import decode_audio, encode_audio
from handoff.mixer import RATE
from handoff.model import CONNECTED
from handoff.monitor import LISTEN, MODES, audio_topic, mic_topic

logger = logging.getLogger(__name__)
MAX_MESSAGE = 64 * 1024  # commands and 20-100 ms microphone frames, as on the desk


@dataclass
class Watching:
    call_id: str
    agent_id: str
    mode: str
    relay: asyncio.Task


class SupervisorLine:
    def __init__(self, acd: ACD, audit: Callable[..., object] | None = None):
        self.acd = acd
        self.audit = audit  # (action, who, where, **details): the composition root's audit log

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        principal = principal_of(request)
        supervisor, name = principal.user, principal.name or principal.user
        socket = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_MESSAGE)
        await socket.prepare(request)
        session = _Session(self, socket, supervisor, name, request.remote)
        try:
            async for message in socket:
                if message.type == WSMsgType.BINARY:
                    await session.microphone(message.data)
                elif message.type == WSMsgType.TEXT:
                    await session.command(message.data)
        finally:
            await session.leave("closed")
        return socket

    def record(self, action: str, who: str, where: str | None, **details) -> None:
        if self.audit is not None:
            self.audit(action, who, where, **details)


class _Session:
    """One supervisor's socket: at most one call watched at a time."""

    def __init__(self, line: SupervisorLine, socket: web.WebSocketResponse, supervisor: str, name: str,
                 address: str | None):
        self.line, self.store = line, line.acd.store
        self.socket, self.supervisor, self.name, self.address = socket, supervisor, name, address
        self.watching: Watching | None = None

    async def command(self, raw: str) -> None:
        try:
            command = loads(raw)
            kind = command["type"]
        except (JsonLimitError, KeyError, TypeError):
            await self.socket.send_json({"type": "error", "error": "commands are JSON objects with a 'type'"})
            return
        if kind == "stop":
            await self.leave("stopped")
        elif kind == "monitor":
            await self.monitor(str(command.get("call_id")), str(command.get("mode")))
        else:
            await self.socket.send_json({"type": "error", "error": f"unknown command {kind!r}"})

    async def monitor(self, call_id: str, mode: str) -> None:
        if mode not in MODES:
            await self.socket.send_json({"type": "error", "error": f"mode is one of {', '.join(MODES)}"})
            return
        call = await self.store.get_call(call_id)
        if call is None or call.state != CONNECTED or not call.agent_id:
            await self.socket.send_json({"type": "error", "error": f"{call_id} is not a call with an agent"})
            return
        watching = self.watching
        if watching is not None and watching.call_id != call_id:
            await self.leave("moved to another call")
            watching = None
        if watching is None:
            ready = asyncio.Event()
            relay = asyncio.create_task(self._relay(call_id, ready))
            await ready.wait()  # subscribed before the caller's side is asked: its answer cannot be missed
            watching = self.watching = Watching(call_id, call.agent_id, mode, relay)
            self.line.record("monitor_join", self.supervisor, self.address, call_id=call_id, agent=call.agent_id,
                             mode=mode)
        elif watching.mode != mode:
            self.line.record("monitor_mode", self.supervisor, self.address, call_id=call_id, agent=call.agent_id,
                             mode=mode, previous=watching.mode)
            watching.mode = mode
        await self._announce(watching, mode)

    async def leave(self, reason: str) -> None:
        watching, self.watching = self.watching, None
        if watching is None:
            return
        watching.relay.cancel()
        await asyncio.gather(watching.relay, return_exceptions=True)
        await self._announce(watching, None)
        self.line.record("monitor_leave", self.supervisor, self.address, call_id=watching.call_id,
                         agent=watching.agent_id, reason=reason)

    async def microphone(self, pcm16: bytes) -> None:
        watching = self.watching
        if watching is not None and watching.mode != LISTEN:
            await self.store.publish(mic_topic(watching.call_id),
                                     encode_audio(watching.call_id, pcm16, RATE, supervisor=self.supervisor))

    async def _announce(self, watching: Watching, mode: str | None) -> None:
        """Tell the caller's side (which mixes) and the agent's desk (which shows it)."""
        await self.store.publish(f"call:{watching.call_id}", {"type": "monitor", "supervisor": self.supervisor,
                                                              "mode": mode})
        await self.store.publish(f"agent:{watching.agent_id}", {
            "type": "supervisor", "call_id": watching.call_id, "supervisor": self.supervisor, "name": self.name,
            "mode": mode})

    def _ended(self, call_id: str, reason: str) -> None:
        """The caller's side ended the monitoring (the call left the agent, another supervisor took over)."""
        watching = self.watching
        if watching is not None and watching.call_id == call_id:
            self.watching = None
            self.line.record("monitor_leave", self.supervisor, self.address, call_id=call_id,
                             agent=watching.agent_id, reason=reason)

    async def _relay(self, call_id: str, ready: asyncio.Event) -> None:
        """The call's audio and the caller side's notices, to this supervisor."""
        announced = False
        try:
            async with self.store.subscribe(audio_topic(call_id)) as frames:
                ready.set()
                while not self.socket.closed:
                    frame = await frames.get()
                    if frame.get("type") == "leg_ready" and self.watching is not None \
                            and self.watching.call_id == call_id:  # the caller's side missed the request
                        await self._announce(self.watching, self.watching.mode)
                        continue
                    if "pcm16" not in frame:
                        if frame.get("supervisor") == self.supervisor:
                            await self.socket.send_json(frame)
                            if frame["type"] == "monitor_ended":
                                self._ended(call_id, frame.get("reason", ""))
                                return
                        continue
                    pcm16, sample_rate = decode_audio(frame)
                    if not announced:
                        await self.socket.send_json({"type": "audio_format", "call_id": call_id,
                                                     "sample_rate": sample_rate})
                        announced = True
                    await self.socket.send_bytes(pcm16)
        except ConnectionResetError:
            pass  # the supervisor's browser went away: the socket's handler leaves the call
        except Exception:
            logger.exception("relaying a monitored call to its supervisor failed", extra={"call_id": call_id})
        finally:
            ready.set()
