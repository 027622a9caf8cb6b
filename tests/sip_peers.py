"""Real SIP software from Debian's packages, driven by the SIP tests: baresip, SIPp, Kamailio.

``scripts/install_sip_tools.sh`` installs them. A test that needs one skips naming it when it is
missing, and fails instead under HELPLINE_REQUIRE_SERVICES=1 (CI sets it).

baresip plays the caller: its ``aufile`` module sends a WAV file as the caller's voice (and hangs
up when the file ends), ``sndfile`` records what it hears, ``ctrl_tcp`` takes commands (dial,
switch the WAV, send RFC 4733 keys, hang up) and reports call events as JSON netstrings.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
import wave
from pathlib import Path

import numpy as np

from tests.needs import sip_tool

BARESIP_MODULES = Path("/usr/lib/baresip/modules")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for UDP and TCP alike (SIP listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, \
                socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            try:
                tcp.bind((host, port))
            except OSError:
                continue
            return port


def write_wav(path: Path, pcm16: bytes, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16)
    return path


def silence(seconds: float, rate: int = 8000) -> bytes:
    return b"\x00\x00" * int(seconds * rate)


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path)) as source:
        return source.readframes(source.getnframes()), source.getframerate()


class Baresip:
    """One baresip caller process (one call), controlled over ctrl_tcp."""

    def __init__(self, workdir: Path, voice: Path, transport: str = "udp", number: str = "+15551230001",
                 local_host: str = "127.0.0.1", codecs: str = "PCMU,PCMA"):
        self.binary = sip_tool("baresip")
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "heard").mkdir(exist_ok=True)
        self.control_port = free_port()
        self.sip_port = free_port()
        self.number = number
        self.transport = transport
        modules = "\n".join(f"module {name}.so" for name in ("g711", "aufile", "sndfile"))
        (self.dir / "config").write_text(
            f"poll_method epoll\nnet_interface {local_host}\nsip_listen {local_host}:{self.sip_port}\nsip_trans_def {transport}\n"
            f"audio_source aufile,{voice}\naudio_player aufile,/dev/null\naudio_alert aufile,/dev/null\n"
            f"ausrc_srate 8000\nauplay_srate 8000\naudio_buffer 20-160\njitter_buffer_delay 1-10\n"
            f"rtp_timeout 0\nmodule_path {BARESIP_MODULES}\n{modules}\n"
            f"module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:{self.control_port}\n"
            f"snd_path {self.dir / 'heard'}\n")
        (self.dir / "accounts").write_text(
            f"<sip:{number}@{local_host}>;regint=0;audio_codecs={codecs}\n")
        (self.dir / "contacts").write_text("")
        self.events: list[dict] = []
        self._changed = asyncio.Event()
        self._responses: asyncio.Queue = asyncio.Queue()

    async def start(self) -> "Baresip":
        self.log = open(self.dir / "baresip.log", "wb")
        self.process = await asyncio.create_subprocess_exec(
            self.binary, "-f", str(self.dir), stdin=asyncio.subprocess.DEVNULL, stdout=self.log,
            stderr=asyncio.subprocess.STDOUT)
        for _ in range(100):
            try:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.control_port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"baresip did not start: {(self.dir / 'baresip.log').read_text()[-2000:]}")
        self._reading = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        try:
            while True:
                length = int((await self.reader.readuntil(b":"))[:-1])
                message = json.loads(await self.reader.readexactly(length))
                await self.reader.readexactly(1)  # the netstring's ','
                if message.get("event"):
                    self.events.append(message)
                    self._changed.set()
                elif message.get("response"):
                    await self._responses.put(message)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            self._changed.set()

    async def command(self, command: str, params: str = "") -> dict:
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.writer.write(b"%d:%s," % (len(body), body))
        await self.writer.drain()
        return await asyncio.wait_for(self._responses.get(), 10)

    async def dial(self, uri: str) -> None:
        await self.command("dial", uri)
        await self.wait_event("CALL_ESTABLISHED")

    async def play(self, voice: Path) -> None:
        """Switch the caller's voice to another WAV (the current one stops at once)."""
        await self.command("ausrc", f"aufile,{voice}")

    async def press(self, keys: str) -> None:
        """RFC 4733 telephone-events, one per key."""
        for key in keys:
            await self.command("sndcode", key)
            await asyncio.sleep(0.25)

    async def hang_up(self) -> None:
        await self.command("hangup")

    def has_event(self, kind: str) -> dict | None:
        return next((event for event in self.events if event.get("type") == kind), None)

    async def wait_event(self, kind: str, timeout: float = 20) -> dict:
        async def wait() -> dict:
            while True:
                found = self.has_event(kind)
                if found is not None:
                    return found
                if self.has_event("CALL_CLOSED") and kind != "CALL_CLOSED":
                    raise AssertionError(f"call closed while waiting for {kind}: {self.events[-3:]}")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    def heard(self) -> bytes:
        """What the caller heard (decoded audio from the gateway), 8 kHz PCM16."""
        files = sorted((self.dir / "heard").glob("*-dec.wav"))
        assert files, f"baresip recorded nothing: {(self.dir / 'baresip.log').read_text()[-2000:]}"
        return read_wav(files[-1])[0]

    async def close(self) -> None:
        if getattr(self, "process", None) is None:
            return
        if self.process.returncode is None:
            try:
                await self.command("quit")
            except (asyncio.TimeoutError, ConnectionError):
                pass
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        if hasattr(self, "_reading"):
            self._reading.cancel()
        self.log.close()


def speech_segments(pcm16: bytes, rate: int = 8000, gap_secs: float = 0.7, threshold: float = 0.02) -> list[bytes]:
    """The audio cut at pauses longer than ``gap_secs``: one piece per sentence or reply, silence dropped."""
    samples = np.frombuffer(pcm16, dtype="<i2")
    window = rate // 50
    loud = [float(np.sqrt(((samples[i:i + window] / 32768.0) ** 2).mean())) > threshold
            for i in range(0, len(samples) - window + 1, window)]
    pieces, start, quiet = [], None, 0
    for index, voiced in enumerate(loud + [False] * int(gap_secs * 50 + 1)):
        if voiced:
            start = index if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet > gap_secs * 50:
                pieces.append(samples[start * window:(index - quiet + 1) * window].tobytes())
                start, quiet = None, 0
    return [piece for piece in pieces if len(piece) > rate // 5]


def recognise(engine, pcm16_8k: bytes) -> str:
    """What a listener makes of the audio: Whisper on each spoken piece, lower case, joined."""
    from voice_gateway.audio.resample import resample

    texts = []
    for piece in speech_segments(pcm16_8k):
        samples = np.frombuffer(resample(piece, 8000, engine.sample_rate), dtype="<i2").astype(np.float32) / 32768
        for start in range(0, len(samples), 25 * engine.sample_rate):
            texts.append(engine.transcribe(samples[start:start + 25 * engine.sample_rate]))
    return " ".join(texts).lower()


def sip_request(method: str, target: str, source: tuple[str, int], call_id: str, body: str = "",
                extra: str = "") -> bytes:
    """A hand-made request, for what no well-behaved SIP client sends (malformed or from outside)."""
    host, port = source
    headers = (f"{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{call_id[:12]};rport\r\n"
               f"From: <sip:+15550000000@{host}>;tag=t{call_id[:6]}\r\nTo: <{target}>\r\nCall-ID: {call_id}\r\n"
               f"CSeq: 1 {method}\r\nContact: <sip:probe@{host}:{port}>\r\nMax-Forwards: 70\r\n{extra}")
    if body:
        headers += "Content-Type: application/sdp\r\n"
    return f"{headers}Content-Length: {len(body.encode())}\r\n\r\n{body}".encode()


def exchange(datagram: bytes, server: tuple[str, int], source_host: str = "127.0.0.1",
             timeout: float = 3.0) -> str | None:
    """Send one datagram from ``source_host``; the first final response's status line, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source_host, 0))
        sock.settimeout(timeout)
        sock.sendto(datagram.replace(b"PORT0", str(sock.getsockname()[1]).encode()), server)
        try:
            while True:
                reply = sock.recv(65536).decode(errors="replace")
                status = reply.split("\r\n", 1)[0]
                if not status.startswith("SIP/2.0 1"):
                    return status
        except (socket.timeout, ConnectionRefusedError):  # nothing answered, or nothing listens yet
            return None


async def run_sipp(target: str, calls: int, *, rate: float = 5, concurrent: int = 10, hold_ms: int = 500,
                   service: str = "helpline", timeout: float = 120, scenario: Path | None = None,
                   workdir: Path | None = None) -> dict:
    """SIPp calls (its built-in caller: INVITE, ACK, hold, BYE; or ``scenario``); exit code and counts."""
    binary = sip_tool("sipp")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="sipp-"))
    stats = workdir / f"sipp-{os.getpid()}-{free_port()}.csv"
    script = ["-sf", str(scenario)] if scenario else ["-sn", "uac"]
    process = await asyncio.create_subprocess_exec(
        binary, target, *script, "-s", service, "-m", str(calls), "-r", str(rate), "-l", str(concurrent),
        "-d", str(hold_ms), "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()), "-nostdin",
        "-timeout", f"{int(timeout)}s", "-timeout_error", "-trace_stat", "-stf", str(stats), "-fd", "1",
        cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout + 30)
    counts = sipp_counts(stats)
    return {"exit_code": process.returncode, **counts, "output": output.decode(errors="replace")[-3000:]}


def sipp_counts(stats: Path) -> dict:
    """Cumulative successful and failed calls from SIPp's statistics file (the last row)."""
    if not stats.exists():
        return {"successful_calls": None, "failed_calls": None}
    rows = [line.split(";") for line in stats.read_text().splitlines() if line.strip()]
    header, last = rows[0], rows[-1]

    def count(name: str) -> int | None:
        return int(last[header.index(name)]) if name in header else None

    return {"successful_calls": count("SuccessfulCall(C)"), "failed_calls": count("FailedCall(C)")}


class Kamailio:
    """A Kamailio process in the foreground, logging to a file."""

    def __init__(self, config: Path, workdir: Path, defines: dict[str, str]):
        self.binary = sip_tool("kamailio")
        self.config, self.dir, self.defines = config, workdir, defines
        self.dir.mkdir(parents=True, exist_ok=True)

    async def start(self) -> "Kamailio":
        args = [self.binary, "-f", str(self.config), "-DD", "-E", "-w", str(self.dir), "-Y", str(self.dir),
                "-P", str(self.dir / "kamailio.pid")]
        for name, value in self.defines.items():
            args += ["-A", f"{name}={value}"]
        self.log = open(self.dir / "kamailio.log", "wb")
        self.process = await asyncio.create_subprocess_exec(*args, stdout=self.log, stderr=asyncio.subprocess.STDOUT)
        await asyncio.sleep(1.0)
        if self.process.returncode is not None:
            raise AssertionError(f"kamailio did not start: {(self.dir / 'kamailio.log').read_text()[-3000:]}")
        return self

    def log_text(self) -> str:
        return (self.dir / "kamailio.log").read_text(errors="replace")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.log.close()
