"""`helpline call`: dial the gateway like a phone, play WAV files as the caller's turns, record the bot.

The client sends audio in real time, 20 ms frames, silence between turns (a phone line never goes
quiet on the wire, and the gateway's end-of-turn detection needs to hear the silence). After each
turn it waits until the bot has answered and gone quiet, then plays the next one. Each turn's latency
is measured from the last frame of the caller's speech to the first frame of the bot's answer.

Turns are WAV files or keypad entries (``dtmf:1234#``). Protocols: twilio (default), helpline,
audiosocket (keys are then sent as in-band tones, as a phone on an Asterisk line would).
"""
from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import websockets

from voice_gateway.audio import mulaw
from voice_gateway.audio.dtmf import tone
from voice_gateway.audio.resample import resample
from voice_gateway.auth import issue_voice_token, twilio_signature
from voice_gateway.serializers import audiosocket as asock

FRAME_SECS = 0.02
LONGEST_REPLY_SECS = 60.0  # a bot reply that goes on longer is stuck, not long
SPEECH_LEVEL = 500  # samples above this are speech when finding where a caller's WAV stops talking


@dataclass
class Turn:
    kind: str  # "say" or "keys"
    label: str
    pcm8k: bytes = b""
    keys: str = ""


@dataclass
class TurnResult:
    label: str
    end_of_speech: float = 0.0  # monotonic time the last frame of caller speech was sent
    first_bot_audio: float | None = None
    bot_audio: bytearray = field(default_factory=bytearray)
    bot_text: list[str] = field(default_factory=list)
    after_end_of_turn_ms: float | None = None  # measured by the gateway (Helpline protocol tells it)

    @property
    def latency_ms(self) -> float | None:
        if self.first_bot_audio is None:
            return None
        return (self.first_bot_audio - self.end_of_speech) * 1000


def speech_end(pcm16: bytes) -> int:
    """Byte offset just after the last speech sample (trailing silence in a WAV is not speech)."""
    samples = np.abs(np.frombuffer(pcm16, dtype="<i2").astype(np.int32))
    loud = np.nonzero(samples > SPEECH_LEVEL)[0]
    return 0 if len(loud) == 0 else int(loud[-1] + 1) * 2


class _Line:
    """One protocol's client side: send caller audio and keys, receive bot audio and notices.

    ``open`` gives the gateway the client's own id for the call (``reference``); the gateway makes
    the call's real id, which ``call_id`` holds once the protocol has said it (Helpline's does)."""

    sample_rate = 8000
    call_id: str | None = None

    async def open(self, reference: str, caller_number: str | None) -> None: ...
    async def send_audio(self, pcm: bytes) -> None: ...
    async def send_key(self, key: str) -> bool:
        return False  # False: send the key as an in-band tone

    async def receive(self):
        """Yields ("audio", pcm), ("clear", None), ("mark", name), ("event", dict); ends when closed."""
        raise NotImplementedError
        yield

    async def close(self) -> None: ...


@dataclass(frozen=True)
class LineCredentials:
    """What a line proves itself with: the Twilio auth token signs a Twilio stream; the secret key
    signs a voice token (with the caller number) for Helpline's protocol."""

    twilio_auth_token: str | None = None
    secret_key: str | None = None

    def headers(self, protocol: str, url: str, caller_number: str | None = None) -> dict[str, str]:
        """The upgrade request's headers that authenticate a ``protocol`` call to ``url``."""
        if protocol == "twilio" and self.twilio_auth_token:
            return {"X-Twilio-Signature": twilio_signature(self.twilio_auth_token, url)}
        if protocol == "helpline" and self.secret_key:
            return {"Authorization": f"Bearer {issue_voice_token(self.secret_key, 'helpline-call', caller_number)}"}
        return {}


class TwilioLine(_Line):
    def __init__(self, url: str, credentials: LineCredentials = LineCredentials()):
        self.url, self.credentials = url, credentials

    async def open(self, reference, caller_number):
        self.ws = await websockets.connect(self.url, max_size=None,
                                           additional_headers=self.credentials.headers("twilio", self.url))
        self.stream_sid = f"MZ{uuid.uuid4().hex}"
        await self.ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await self.ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": self.stream_sid, "start": {
            "streamSid": self.stream_sid, "callSid": reference, "tracks": ["inbound"],
            "customParameters": {"caller_number": caller_number} if caller_number else {},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))

    async def send_audio(self, pcm):
        payload = base64.b64encode(mulaw.encode(pcm)).decode()
        await self.ws.send(json.dumps({"event": "media", "streamSid": self.stream_sid,
                                       "media": {"track": "inbound", "payload": payload}}))

    async def send_key(self, key):
        await self.ws.send(json.dumps({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"digit": key}}))
        return True

    async def receive(self):
        async for message in self.ws:
            data = json.loads(message)
            if data["event"] == "media":
                yield "audio", mulaw.decode(base64.b64decode(data["media"]["payload"]))
            elif data["event"] == "clear":
                yield "clear", None
            elif data["event"] == "mark":
                await self.ws.send(json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": data["mark"]}))
                yield "mark", data["mark"]["name"]

    async def close(self):
        try:
            await self.ws.send(json.dumps({"event": "stop", "streamSid": self.stream_sid}))
        except websockets.ConnectionClosed:
            pass
        await self.ws.close()


class HelplineLine(_Line):
    def __init__(self, url: str, sample_rate: int = 8000, credentials: LineCredentials = LineCredentials()):
        self.url, self.sample_rate, self.credentials = url, sample_rate, credentials

    async def open(self, reference, caller_number):
        """The voice token says the caller number; the gateway answers ``start`` with the call's id."""
        self.ws = await websockets.connect(self.url, max_size=None,
                                           additional_headers=self.credentials.headers("helpline", self.url,
                                                                                       caller_number))
        await self.ws.send(json.dumps({"event": "start", "call_id": reference, "sample_rate": self.sample_rate}))
        started = json.loads(await self.ws.recv())
        if started.get("event") != "started":
            raise ConnectionError(f"the gateway answered 'start' with {started}")
        self.call_id = started["call_id"]

    async def send_audio(self, pcm):
        await self.ws.send(pcm)

    async def send_key(self, key):
        await self.ws.send(json.dumps({"event": "dtmf", "digit": key}))
        return True

    async def receive(self):
        async for message in self.ws:
            if isinstance(message, bytes):
                yield "audio", message
                continue
            data = json.loads(message)
            if data["event"] == "clear":
                yield "clear", None
            elif data["event"] == "mark":
                yield "mark", data["name"]
            else:
                yield "event", data

    async def close(self):
        try:
            await self.ws.send(json.dumps({"event": "stop"}))
        except websockets.ConnectionClosed:
            pass
        await self.ws.close()


class AudioSocketLine(_Line):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    async def open(self, reference, caller_number):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(asock.pack(asock.UUID, uuid.UUID(reference).bytes))

    async def send_audio(self, pcm):
        self.writer.write(asock.pack(asock.AUDIO, pcm))
        await self.writer.drain()

    async def receive(self):
        while True:
            try:
                header = await self.reader.readexactly(asock.HEADER.size)
                kind, length = asock.HEADER.unpack(header)
                payload = await self.reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if kind == asock.AUDIO:
                yield "audio", payload
            elif kind == asock.HANGUP:
                return

    async def close(self):
        if not self.writer.is_closing():
            self.writer.write(asock.pack(asock.HANGUP))
            self.writer.close()


class Caller:
    """Plays turns into a line in real time and collects the bot's answers."""

    def __init__(self, line: _Line, quiet_secs: float = 1.2, answer_timeout: float = 20.0):
        self.line = line
        self.quiet_secs = quiet_secs
        self.answer_timeout = answer_timeout
        self.results: list[TurnResult] = []
        self.greeting = TurnResult("(call answered)")
        self.events: list[dict] = []
        self.clears = 0
        self.closed = asyncio.Event()
        self._current = self.greeting
        self._last_audio = 0.0
        self._queue: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
        self.frame_bytes = int(line.sample_rate * FRAME_SECS) * 2
        self._speech_sent = asyncio.Event()

    async def __aenter__(self):
        self.greeting.end_of_speech = time.monotonic()  # the greeting answers the call itself
        await self.line.open(self.reference, self.caller_number)
        self.call_id = self.line.call_id
        self._tasks = [asyncio.ensure_future(self._send_frames()), asyncio.ensure_future(self._receive())]
        return self

    async def __aexit__(self, *exc):
        await self.hang_up()

    def dial(self, reference: str | None = None, caller_number: str | None = None) -> "Caller":
        """``reference``: the client's own id for the call (a UUID for AudioSocket); ``call_id`` is the
        gateway's, known once the call is open where the protocol says it."""
        self.reference = reference or str(uuid.uuid4())
        self.caller_number = caller_number
        self.call_id: str | None = None
        return self

    async def hang_up(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.line.close()

    async def _receive(self) -> None:
        try:
            async for kind, value in self.line.receive():
                if kind == "audio":
                    now = time.monotonic()
                    current = self._current
                    # The tail of an earlier answer still arriving while the caller speaks is not this turn's.
                    if current.first_bot_audio is None and 0 < current.end_of_speech <= now:
                        current.first_bot_audio = now
                    self._current.bot_audio += value
                    self._last_audio = now
                elif kind == "clear":
                    self.clears += 1
                elif kind == "event":
                    self.events.append(value)
                    if value.get("event") == "transcript" and value.get("speaker") == "bot":
                        self._current.bot_text.append(value["text"])
                    elif value.get("event") == "turn" and self._current.after_end_of_turn_ms is None:
                        self._current.after_end_of_turn_ms = value["after_end_of_turn_ms"]
        except (websockets.ConnectionClosed, ConnectionError):
            pass
        finally:
            self.closed.set()

    async def _send_frames(self) -> None:
        """One frame every 20 ms on a fixed schedule: queued caller audio, else silence."""
        silence = bytes(self.frame_bytes)
        next_at = time.monotonic()
        while True:
            frame, last_speech = (self._queue.get_nowait() if not self._queue.empty() else (silence, False))
            await self.line.send_audio(frame)
            if last_speech:
                self._current.end_of_speech = time.monotonic()
                self._speech_sent.set()
            next_at += FRAME_SECS
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def wait_until_quiet(self, started_after: float = 0.0) -> None:
        """Wait until the bot has spoken (after ``started_after``) and then been quiet for ``quiet_secs``.

        The bot has ``answer_timeout`` seconds to start; once it speaks, its reply may go on for up to
        ``LONGEST_REPLY_SECS`` (a long answer is not a missing one).
        """
        waiting_since = time.monotonic()
        while not self.closed.is_set():
            now = time.monotonic()
            heard = self._last_audio > started_after
            if heard and now - self._last_audio >= self.quiet_secs:
                return
            if now - waiting_since >= (self.answer_timeout + LONGEST_REPLY_SECS if heard else self.answer_timeout):
                return
            await asyncio.sleep(0.05)

    async def say(self, pcm: bytes, label: str = "speech", wait: bool = True) -> TurnResult:
        """Play one caller turn (PCM16 at the line's rate); with ``wait``, until the bot has answered."""
        result = TurnResult(label)
        self.results.append(result)
        self._current = result
        end = speech_end(pcm) or len(pcm)
        frames = [pcm[i:i + self.frame_bytes] for i in range(0, len(pcm), self.frame_bytes)]
        last_speech_frame = max(0, (end - 1) // self.frame_bytes)
        self._speech_sent.clear()
        for index, frame in enumerate(frames):
            frame = frame.ljust(self.frame_bytes, b"\0")
            self._queue.put_nowait((frame, index == last_speech_frame))
        await self._speech_sent.wait()
        if wait:
            await self.wait_until_quiet(result.end_of_speech)
        return result

    async def press(self, keys: str, wait: bool = True) -> TurnResult:
        result = TurnResult(f"keys {keys}")
        self.results.append(result)
        self._current = result
        for key in keys:
            if not await self.line.send_key(key):
                await self.say_tone(key)
            else:
                await asyncio.sleep(0.15)
        result.end_of_speech = time.monotonic()
        if wait:
            await self.wait_until_quiet(result.end_of_speech)
        return result

    async def say_tone(self, key: str) -> None:
        pcm = resample(tone(key), 8000, self.line.sample_rate) + bytes(int(0.1 * self.line.sample_rate) * 2)
        self._speech_sent.clear()
        frames = [pcm[i:i + self.frame_bytes].ljust(self.frame_bytes, b"\0") for i in range(0, len(pcm), self.frame_bytes)]
        for index, frame in enumerate(frames):
            self._queue.put_nowait((frame, index == len(frames) - 1))
        await self._speech_sent.wait()

    async def silence(self, seconds: float) -> None:
        self._current = TurnResult(f"silence {seconds:g} s")
        self.results.append(self._current)
        self._current.end_of_speech = time.monotonic()
        await asyncio.sleep(seconds)


def open_line(url: str, protocol: str, sample_rate: int = 8000,
              credentials: LineCredentials = LineCredentials()) -> _Line:
    """``url``: the gateway's base (http://host:port) or, for audiosocket, host:port."""
    base = url.rstrip("/").replace("http://", "ws://").replace("https://", "wss://")
    if protocol == "twilio":
        return TwilioLine(f"{base}/voice/twilio", credentials)
    if protocol == "helpline":
        return HelplineLine(f"{base}/voice/ws", sample_rate, credentials)
    if protocol == "audiosocket":
        host, _, port = url.split("//")[-1].rpartition(":")
        return AudioSocketLine(host or "127.0.0.1", int(port))
    raise ValueError(f"unknown protocol {protocol!r} (twilio, helpline or audiosocket)")
