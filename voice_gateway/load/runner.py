"""`helpline load`: many callers at once against a running gateway, as a carrier would send them.

``lines`` callers dial in ``interval`` seconds apart over Twilio Media Streams (signed with the
server's Twilio auth token, as Twilio signs its streams), each playing scripted conversations
(``voice_gateway.load.scenarios``) in real time, 20 ms frames, silence between turns, and placing
its next call when one ends until ``duration`` has passed (one call each without it). For every
caller turn it measures end of caller speech -> first frame of the bot's answer; a turn the bot
does not answer within ``answer_timeout``, a call refused or dropped, and a goodbye the bot does
not hang up on are errors. Meanwhile it samples the server's CPU and memory
(``voice_gateway.load.monitor``) and shows progress.
"""
from __future__ import annotations

import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from voice_gateway.client import Caller, LineCredentials, open_line
from voice_gateway.load.monitor import Sample, ServerMonitor
from voice_gateway.load.scenarios import CallerAudio, Scenario


@dataclass
class TurnLatency:
    scenario: str
    step: str
    ms: float


@dataclass
class CallOutcome:
    reference: str  # the client's id for the call (Twilio's callSid): the recording's external_call_id
    scenario: str
    started_at: float
    seconds: float = 0.0
    error: str | None = None
    turns: list[TurnLatency] = field(default_factory=list)


@dataclass
class LoadOptions:
    url: str
    lines: int
    scenarios: list[Scenario]
    credentials: LineCredentials
    interval: float = 0.5
    duration: float = 0.0  # 0: each line places one call
    protocol: str = "twilio"
    caller_number: str = "+15551230001"
    answer_timeout: float = 8.0
    quiet_secs: float = 1.5
    sample_every: float = 2.0


@dataclass
class LoadReport:
    calls: list[CallOutcome]
    samples: list[Sample]
    seconds: float
    lines: int
    cpu_seconds: float = 0.0  # CPU time this process (the callers) used

    @property
    def latencies_ms(self) -> list[float]:
        return [turn.ms for call in self.calls for turn in call.turns]

    @property
    def errors(self) -> list[str]:
        return [f"{call.reference} ({call.scenario}): {call.error}" for call in self.calls if call.error]

    def summary(self) -> dict:
        """Turn latency percentiles, errors, and the server's CPU and memory while calls were live."""
        latencies = np.array(self.latencies_ms or [np.nan])
        p50, p95, p99 = (round(float(np.percentile(latencies, q)), 1) for q in (50, 95, 99))
        busy = [s for s in self.samples if s.at > 0] or self.samples
        cpu = [s.cpu_cores for s in busy]
        per_process = [rss for s in self.samples for rss in s.rss_mb_per_process]
        return {
            "calls": self.lines, "calls_placed": len(self.calls), "turns": len(self.latencies_ms),
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": round(float(np.max(latencies)), 1),
            "errors": len(self.errors),
            "server_cpu_cores": round(float(np.mean(cpu)), 3) if cpu else None,
            "server_cpu_cores_max": round(max(cpu), 3) if cpu else None,
            "rss_mb": max((s.rss_mb for s in self.samples), default=None),
            "pss_mb": max((s.pss_mb for s in self.samples), default=None),
            "rss_mb_per_process_max": max(per_process, default=None),
            "seconds": round(self.seconds, 1),
            "load_generator_cpu_cores": round(self.cpu_seconds / self.seconds, 3) if self.seconds else None,
            "p50_p95_ms_by_step": self.by_step(),
        }

    def by_step(self) -> dict[str, list[float]]:
        """p50 and p95 of each scripted step ("say:Goodbye.", "dtmf:2468#"): which turns are slow."""
        steps: dict[str, list[float]] = {}
        for call in self.calls:
            for turn in call.turns:
                steps.setdefault(turn.step, []).append(turn.ms)
        return {step: [round(float(np.percentile(ms, q)), 1) for q in (50, 95)] for step, ms in sorted(steps.items())}


async def place_call(options: LoadOptions, scenario: Scenario, audio: CallerAudio) -> CallOutcome:
    outcome = CallOutcome(f"CA{uuid.uuid4().hex}", scenario.name, time.monotonic())
    line = open_line(options.url, options.protocol, credentials=options.credentials)
    caller = Caller(line, quiet_secs=options.quiet_secs, answer_timeout=options.answer_timeout)
    try:
        async with caller.dial(outcome.reference, options.caller_number):
            await caller.wait_until_quiet()
            if caller.greeting.first_bot_audio is None:
                raise _CallError("no greeting")
            for index, step in enumerate(scenario.steps):
                if caller.closed.is_set():
                    raise _CallError(f"the call ended before step {index + 1}")
                last = index == len(scenario.steps) - 1
                if step.startswith("dtmf:"):
                    result = await caller.press(step[5:])
                else:
                    result = await caller.say(audio.pcm(step[4:]), step)
                if result.latency_ms is None:
                    raise _CallError(f"no answer within {options.answer_timeout:g} s to step {index + 1} ({step})")
                outcome.turns.append(TurnLatency(scenario.name, step, round(result.latency_ms, 1)))
                if last and scenario.ends_call:
                    try:
                        await asyncio.wait_for(caller.closed.wait(), options.answer_timeout)
                    except asyncio.TimeoutError:
                        raise _CallError("the bot did not hang up after goodbye") from None
    except _CallError as error:
        outcome.error = str(error)
    except (OSError, asyncio.TimeoutError) as error:  # refused (503), reset, unreachable
        outcome.error = f"{type(error).__name__}: {error}"
    except Exception as error:  # websockets' InvalidStatus (a 503 when full), protocol errors
        outcome.error = f"{type(error).__name__}: {error}"
    outcome.seconds = round(time.monotonic() - outcome.started_at, 1)
    return outcome


class _CallError(Exception):
    pass


async def run_load(options: LoadOptions, audio: CallerAudio, monitor: ServerMonitor | None = None,
                   progress=None) -> LoadReport:
    """Run the load; ``progress(report_so_far, live_calls)`` is called about once a second."""
    started, cpu_started = time.monotonic(), time.process_time()
    outcomes: list[CallOutcome] = []
    live = [0]

    async def caller_line(index: int) -> None:
        await asyncio.sleep(index * options.interval)
        call = 0
        while True:
            scenario = options.scenarios[(index + call) % len(options.scenarios)]
            live[0] += 1
            try:
                outcomes.append(await place_call(options, scenario, audio))
            finally:
                live[0] -= 1
            call += 1
            if time.monotonic() - started >= options.duration:
                return

    async def watch() -> None:
        next_sample = 0.0
        while True:
            now = time.monotonic() - started
            if monitor is not None and now >= next_sample:
                await asyncio.to_thread(monitor.sample)
                next_sample = now + options.sample_every
            if progress is not None:
                progress(LoadReport(outcomes, monitor.samples if monitor else [], now, options.lines), live[0])
            await asyncio.sleep(1.0)

    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.gather(*(caller_line(i) for i in range(options.lines)))
    finally:
        watcher.cancel()
    if monitor is not None:
        monitor.sample()
    return LoadReport(outcomes, monitor.samples if monitor else [], time.monotonic() - started, options.lines,
                      time.process_time() - cpu_started)


class ProgressLine:
    """One status line on stderr: rewritten in place on a terminal, printed every 10 s otherwise."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0

    def __call__(self, report: LoadReport, live: int) -> None:
        latencies = report.latencies_ms
        p95 = f"{np.percentile(latencies, 95):.0f}" if latencies else "-"
        sample = report.samples[-1] if report.samples else None
        server = f", server {sample.cpu_cores:.2f} cores, {sample.rss_mb:.0f} MB" if sample else ""
        text = (f"[{report.seconds:5.0f} s] live {live:3d}, done {len(report.calls):4d}, turns {len(latencies):5d}, "
                f"p95 {p95} ms, errors {len(report.errors)}{server}")
        if self.tty:
            self.stream.write("\r" + text.ljust(110))
            self.stream.flush()
        elif report.seconds - self._last >= 10:
            self._last = report.seconds
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
