"""A call handed to an agent bridge (the CallerLeg contract), and `helpline call` from the command line."""
from __future__ import annotations

import asyncio
import uuid

import numpy as np

from helpline.cli import main
from voice_gateway.audio.wav import write_wav
from voice_gateway.client import Caller
from tests.voice.conftest import CALLER


class QueueingBridge:
    """What the handoff module does with a queued caller, reduced to one agent who answers at once."""

    def __init__(self):
        self.legs, self.audio_bytes, self.keys, self.left = [], 0, [], []
        self.agent_spoke = asyncio.Event()

    async def caller_joined(self, leg) -> None:
        self.legs.append(leg)
        await leg.say("You are first in the queue.")
        await leg.play_hold()
        await asyncio.sleep(1.0)
        agent_voice = (np.sin(np.arange(16000) * 2 * np.pi * 300 / 16000) * 8000).astype("<i2").tobytes()
        for start in range(0, len(agent_voice), 640):
            await leg.send_agent_audio(agent_voice[start:start + 640], 16000)
            await asyncio.sleep(0.02)
        self.agent_spoke.set()

    async def caller_audio(self, call_id: str, pcm16: bytes, sample_rate: int) -> None:
        assert sample_rate == 16000
        self.audio_bytes += len(pcm16)

    async def caller_dtmf(self, call_id: str, digit: str) -> None:
        self.keys.append(digit)

    async def caller_left(self, call_id: str, reason: str) -> None:
        self.left.append((call_id, reason))


async def test_a_handed_off_call_goes_to_the_agent_bridge(voice_server):
    bridge = QueueingBridge()
    acd_bridge, voice_server.services.agent_bridge = voice_server.services.agent_bridge, bridge
    call_id = None
    try:
        async with Caller(voice_server.line("twilio")).dial(f"CA{uuid.uuid4().hex}", CALLER) as caller:
            call_id = await voice_server.call_id_of(caller)
            handoff = await caller.press("0", wait=False)
            # "please hold", queue position, hold chime, one second of agent voice (set in the server's loop)
            for _ in range(300):
                if bridge.agent_spoke.is_set():
                    break
                await asyncio.sleep(0.1)
            await caller.press("5", wait=False)
            await asyncio.sleep(0.5)
        for _ in range(50):
            if bridge.left:
                break
            await asyncio.sleep(0.1)
    finally:
        voice_server.services.agent_bridge = acd_bridge
        if acd_bridge is not None and call_id:  # the app's handoff port queued this call too: tell the ACD
            voice_server.call(acd_bridge.caller_left(call_id, "caller hung up"))
    assert [leg.call_id for leg in bridge.legs] == [call_id] and bridge.legs[0].caller_number == CALLER
    assert bridge.audio_bytes > 16000 * 2  # the caller's audio went to the bridge (> 1 s), not to the bot
    assert bridge.keys == ["5"]
    assert bridge.left == [(call_id, "caller hung up")]
    assert len(handoff.bot_audio) > 8000 * 2 * 4  # handoff message, queue position, hold, agent voice
    assert voice_server.tracker(call_id).paused


def test_helpline_call_prints_each_turn_with_its_latency(voice_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(voice_server.data_dir))  # sign with the server's secrets
    question = tmp_path / "question.wav"
    write_wav(question, voice_server.synthesize("What's my account balance?", 16000), 16000)
    recording = tmp_path / "bot.wav"
    main(["call", str(question), "dtmf:2468#", "--url", voice_server.url, "--protocol", "helpline",
          "--record", str(recording)])
    output = capsys.readouterr().out
    assert "caller: question.wav" in output and "caller: keys 2468#" in output
    assert "pin" in output.lower() and "balance is" in output.lower()
    assert output.count(" ms)") == 2
    assert recording.stat().st_size > 8000 * 2 * 5


def test_helpline_call_speaks_say_turns_with_the_piper_voice(voice_server, capsys, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(voice_server.data_dir))
    main(["call", "say:I'd like to check on my order.", "--url", voice_server.url, "--protocol", "helpline"])
    output = capsys.readouterr().out
    assert "caller: say:I'd like to check on my order." in output
    assert "order number" in output.lower()
