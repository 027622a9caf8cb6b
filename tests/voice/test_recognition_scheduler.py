"""Recognition's own threads and its early guesses, with the real Whisper model on Piper speech."""
from __future__ import annotations

import asyncio

import pytest

from tests.voice.conftest import caller_voice
from voice_gateway.asr import create_engine
from voice_gateway.asr.scheduler import RecognitionScheduler
from voice_gateway.audio.resample import resample
from voice_gateway.utterance import Utterance

pytestmark = pytest.mark.slow  # loads the speech models

PHRASE = "I'd like to check on my order."


@pytest.fixture(scope="module")
def speech() -> bytes:
    return resample(caller_voice().synthesize(PHRASE, 8000), 8000, 16000)


@pytest.fixture(scope="module")
def whisper():
    return create_engine({"engine": "whisper", "threads": 1})


def fed(whisper, audio: bytes):
    recognizer = whisper.recognizer()
    recognizer.accept(audio)
    return recognizer


async def test_a_guess_is_declined_while_a_decode_waits_and_taken_when_the_decoder_is_free(whisper, speech):
    scheduler = RecognitionScheduler()
    utterance = Utterance(whisper.recognizer(), lambda text: None, scheduler)
    utterance.feed(speech)
    final = asyncio.ensure_future(scheduler.decode(fed(whisper, speech).finish))
    await asyncio.sleep(0)  # the decode is queued

    assert utterance.speculate(whisper.recognizer()) is False
    assert utterance.speculation is None and scheduler.speculations_skipped == 1
    assert "order" in (await final).lower()

    assert utterance.speculate(whisper.recognizer()) is True
    assert "order" in (await utterance.finish()).lower()  # the guess is the turn's transcript
    assert scheduler.speculations == 1 and scheduler.in_flight == 0
    scheduler.close()


async def test_queued_decodes_do_not_hold_up_the_threads_other_work_uses(whisper, speech):
    """NLU, tracker and call-record work (``asyncio.to_thread``) runs while decodes queue."""
    scheduler = RecognitionScheduler()
    decodes = [asyncio.ensure_future(scheduler.decode(fed(whisper, speech).finish)) for _ in range(8)]
    await asyncio.sleep(0)

    await asyncio.to_thread(lambda: None)

    assert sum(decode.done() for decode in decodes) <= 1, "other work waited for the decodes"
    assert all("order" in text.lower() for text in await asyncio.gather(*decodes))
    scheduler.close()
