"""The agent desk and supervisor pages, served by the same aiohttp app as the bot.

An agent signs in (the server's session cookie; see ``helpline.security``), then keeps one WebSocket
open (``/desk/ws``): JSON commands up (state, accept, decline, note, transfer,
hangup, ping), JSON events down (offers with the summary, connections, state)
and binary frames both ways for audio (PCM16 little-endian mono; caller audio
at the gateway's rate, announced in an ``audio_format`` event). Closing the
socket logs the agent out: a call they had goes back to the head of the queue.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

from aiohttp import WSMsgType, web

from bot.security.audit import audit
from bot.security.json_limits import JsonLimitError, loads
from bot.security.principal import principal_of
from handoff.acd import ACD, UnknownQueue
from handoff.bus_audio import decode_audio
from handoff.kpis import supervisor_view
from handoff.model import WAITING, to_dict

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
# Desk messages are small: JSON commands and 20 ms microphone frames (640 bytes). A larger message
# closes that desk's socket (aiohttp answers 1009) instead of being buffered (aiohttp allows 4 MiB).
MAX_DESK_MESSAGE = 64 * 1024


@dataclass
class DeskHub:
    """The open desks of this process: one WebSocket per signed-in agent."""

    sockets: dict[str, web.WebSocketResponse] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)           # agent id -> sample rate last announced

    async def send_audio(self, agent_id: str, call_id: str, pcm16: bytes, sample_rate: int) -> bool:
        socket = self.sockets.get(agent_id)
        if socket is None or socket.closed:
            return False
        if self.formats.get(agent_id) != sample_rate:
            self.formats[agent_id] = sample_rate
            await socket.send_json({"type": "audio_format", "call_id": call_id, "sample_rate": sample_rate})
        await socket.send_bytes(pcm16)
        return True


@dataclass
class Desk:
    acd: ACD
    hub: DeskHub
    bridge: object                                  # handoff.bridge.ACDAgentBridge (agent_audio)
    alerts: dict = field(default_factory=dict)
    kpis: Callable[[], Awaitable[dict]] | None = None   # the live KPIs from the call records (handoff.kpis)
    kpi_window: float = 24 * 3600
    more_alerts: Callable[[], Awaitable[list[str]]] | None = None  # alerts from elsewhere (verification lockouts)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/desk", _page("desk.html"))
        app.router.add_get("/supervisor", _page("supervisor.html"))
        app.router.add_static("/handoff/static", STATIC)
        app.router.add_get("/desk/api/queues", self.queues)
        app.router.add_get("/desk/ws", self.websocket)
        app.router.add_get("/supervisor/api/stats", self.stats)
        app.router.add_get("/handoff/api/callbacks", self.callbacks)

    async def queues(self, request: web.Request) -> web.Response:
        now = self.acd.clock()
        calls = sorted((c for c in await self.acd.store.calls() if c.state == WAITING), key=lambda c: c.order_key())
        return web.json_response([{"id": c.id, "queue": c.queue, "reason": c.reason, "priority": c.priority,
                                   "waited": round(now - c.entered_at, 1)} for c in calls])

    async def stats(self, request: web.Request) -> web.Response:
        view = await supervisor_view(self.acd, self.alerts, self.kpis, self.kpi_window)
        if self.more_alerts is not None:
            view["alerts"] += await self.more_alerts()
        return web.json_response(view)

    async def callbacks(self, request: web.Request) -> web.Response:
        return web.json_response(await self.acd.store.records("callback"))

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        agent_id = principal_of(request).user
        if await self.acd.store.get_agent(agent_id) is None:
            return web.json_response({"error": f"{agent_id} is not an agent of any queue"}, status=403)
        socket = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_DESK_MESSAGE)
        await socket.prepare(request)
        previous = self.hub.sockets.get(agent_id)
        if previous is not None and not previous.closed:
            await previous.close(message=b"logged in elsewhere")
        self.hub.sockets[agent_id] = socket
        self.hub.formats.pop(agent_id, None)
        async with self.acd.store.subscribe(f"agent:{agent_id}") as events, \
                self.acd.store.subscribe(f"agent-audio:{agent_id}") as remote_audio:
            forward = asyncio.create_task(self._forward(events, socket))
            relay = asyncio.create_task(self._relay_audio(agent_id, remote_audio))
            try:
                await self.acd.heartbeat(agent_id)
                await socket.send_json({"type": "hello", "agent": to_dict(await self.acd.store.get_agent(agent_id)),
                                        "queues": list(self.acd.queues)})
                async for message in socket:
                    if message.type == WSMsgType.BINARY:
                        await self.bridge.agent_audio(agent_id, message.data, 16000)
                    elif message.type == WSMsgType.TEXT:
                        await self._command(request, agent_id, socket, message.data)
            finally:
                forward.cancel()
                relay.cancel()
                if self.hub.sockets.get(agent_id) is socket:
                    del self.hub.sockets[agent_id]
                    await self.acd.agent_disconnected(agent_id)
        return socket

    async def _forward(self, events: asyncio.Queue, socket: web.WebSocketResponse) -> None:
        while not socket.closed:
            await socket.send_json(await events.get())

    async def _relay_audio(self, agent_id: str, frames: asyncio.Queue) -> None:
        """Caller audio from a leg held by another gateway process (Redis)."""
        while True:
            frame = await frames.get()
            pcm16, sample_rate = decode_audio(frame)
            await self.hub.send_audio(agent_id, frame["call_id"], pcm16, sample_rate)

    async def _command(self, request: web.Request, agent_id: str, socket: web.WebSocketResponse, raw: str) -> None:
        """One desk command; a malformed one gets an error back and changes nothing. Transfers and
        hang-ups, done or refused, go to the audit log."""
        try:
            command = loads(raw)
            kind = command["type"]
        except (JsonLimitError, KeyError, TypeError):
            await socket.send_json({"type": "error", "error": "commands are JSON objects with a 'type'"})
            return
        acd = self.acd
        agent = await acd.store.get_agent(agent_id)
        call_id = command.get("call_id") or agent.current_call
        ok = True
        try:
            if kind == "ping":
                await acd.heartbeat(agent_id)
            elif kind == "state":
                ok = await acd.set_agent_state(agent_id, str(command.get("state")))
            elif kind == "accept":
                ok = await acd.accept(str(call_id), agent_id)
                if ok:
                    call = await acd.store.get_call(str(call_id))
                    await socket.send_json({"type": "call", "call": to_dict(call)})
            elif kind == "decline":
                await acd.no_answer(str(call_id), agent_id)
            elif kind == "note":
                ok = await acd.add_note(str(call_id), agent_id, str(command.get("text", "")))
            elif kind == "transfer":
                ok = await acd.transfer(str(call_id), agent_id, str(command.get("queue")), str(command.get("note", "")))
                audit(request, "call_transferred", call=str(call_id), queue=str(command.get("queue"))[:64], ok=ok)
            elif kind == "hangup":
                ok = await acd.end_call(str(call_id), agent_id) is not None
                audit(request, "call_hung_up", call=str(call_id), ok=ok)
            else:
                await socket.send_json({"type": "error", "error": f"unknown command {kind!r}"})
                return
        except UnknownQueue as error:
            ok = False
            audit(request, "call_transferred", call=str(call_id), queue=str(command.get("queue"))[:64], ok=False)
            await socket.send_json({"type": "error", "error": str(error)})
        if kind != "ping":
            await socket.send_json({"type": "ack", "command": kind, "ok": bool(ok),
                                    "agent": to_dict(await acd.store.get_agent(agent_id))})


def _page(name: str):
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name)
    return handler
