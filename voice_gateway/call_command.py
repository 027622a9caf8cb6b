"""`helpline call FILE.wav|say:TEXT|dtmf:KEYS ...`: a test call from the terminal, with each turn's latency.

``say:TEXT`` turns are spoken with the Piper voice, so a first call needs no recording at hand.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from voice_gateway.audio.wav import read_wav, write_wav
from voice_gateway.client import Caller, TurnResult, open_line


def transcribe(results: list[TurnResult], sample_rate: int) -> None:
    """What the bot said, recognised locally, for protocols that carry only audio."""
    from voice_gateway.asr import create_engine
    from voice_gateway.audio.resample import resample

    engine = create_engine({})
    for result in results:
        if result.bot_audio and not result.bot_text:
            recognizer = engine.recognizer("normal")
            recognizer.accept(resample(bytes(result.bot_audio), sample_rate, engine.sample_rate))
            result.bot_text.append(recognizer.finish())


def caller_audio(item: str, sample_rate: int, synthesizer=None) -> bytes:
    """One caller turn as PCM16: a WAV file, or ``say:TEXT`` synthesized."""
    if item.startswith("say:"):
        return synthesizer.synthesize(item[4:], sample_rate)
    return read_wav(item, sample_rate)[0]


async def place_call(args) -> list[TurnResult]:
    line = open_line(args.url if args.protocol != "audiosocket" else args.audiosocket, args.protocol,
                     args.sample_rate, args.credentials)
    synthesizer = None
    if any(item.startswith("say:") for item in args.turns):
        from voice_gateway.tts import create_synthesizer

        synthesizer = create_synthesizer({})
    async with Caller(line).dial(caller_number=args.caller) as caller:
        if caller.call_id:  # the conversation's id on the server (its tracker, recording, queue entry)
            print(f"call id: {caller.call_id}", flush=True)
        await caller.wait_until_quiet()
        for item in args.turns:
            if item.startswith("dtmf:"):
                await caller.press(item[5:])
            else:
                label = item if item.startswith("say:") else Path(item).name
                await caller.say(caller_audio(item, line.sample_rate, synthesizer), label)
        return [caller.greeting, *caller.results]


def run(args) -> None:
    for item in args.turns:
        if not item.startswith(("dtmf:", "say:")) and not Path(item).is_file():
            sys.exit(f"error: no such WAV file: {item}")
    results = asyncio.run(place_call(args))
    sample_rate = 8000 if args.protocol != "helpline" else args.sample_rate
    if args.transcribe:
        transcribe(results, sample_rate)
    for result in results:
        latency = "" if result.latency_ms is None or result is results[0] else f"  ({result.latency_ms:.0f} ms)"
        if result is not results[0]:
            print(f"caller: {result.label}")
        print(f"bot:    {' '.join(result.bot_text) or '(audio only)'}{latency}")
    if args.record:
        write_wav(args.record, b"".join(bytes(r.bot_audio) for r in results), sample_rate)
        print(f"bot audio written to {args.record}")
