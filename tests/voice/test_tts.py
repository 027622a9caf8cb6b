"""Piper TTS: audio of plausible length at the call's rate, cached; text read the way callers need."""
from __future__ import annotations

import pytest

from bot.training_data.yaml_reader import plain, read_yaml_file
from tests.conftest import ROOT
from voice_gateway.speech import BotVoice
from voice_gateway.tts import TTSConfigError, create_synthesizer
from voice_gateway.tts.cache import AudioCache
from voice_gateway.tts.normalize import normalize_for_speech, year_words
from voice_gateway.tts.sentences import split_sentences


@pytest.fixture(scope="module")
def tts():
    """The voice config.yml configures: the same (cached) synthesizer the gateway tests use."""
    config = plain(read_yaml_file(ROOT / "config.yml"))
    return create_synthesizer(config["helpline"]["voice"]["tts"])


def test_synthesizes_speech_of_plausible_length_at_the_calls_rate(tts):
    text = "What's your order number? It's the six digit number in your confirmation email."
    native = tts.synthesize(text)
    phone = tts.synthesize(text, 8000)
    seconds = len(native) / 2 / tts.sample_rate
    assert tts.sample_rate == 22050
    assert 3.0 < seconds < 8.0  # 14 words at a normal speaking rate
    assert abs(len(phone) / 2 / 8000 - seconds) < 0.15 * seconds  # Piper varies durations a little per run
    assert max(abs(int.from_bytes(phone[i:i + 2], "little", signed=True)) for i in range(0, len(phone), 2)) > 3000


def test_static_responses_come_from_the_cache(tts):
    first = tts.synthesize("Is there anything else I can help you with?", 8000)
    hits = tts.cache.hits
    assert tts.synthesize("Is there anything else I can help you with?", 8000) is first
    assert tts.cache.hits == hits + 1
    assert tts.synthesize("Is there anything else I can help you with?", 16000) is not first  # rate is in the key


async def test_a_prewarmed_response_opening_a_turn_is_spoken_from_the_cache(tts):
    """``speak`` splits a turn's long first sentence after its comma; prewarming caches those pieces too."""
    text = "I can tell you where an order is, read you your account balance, or connect you. Just ask."
    voice = BotVoice(tts)
    await voice.prewarm([text], 8000)
    misses = tts.cache.misses
    opening = [pcm async for pcm in voice.speak([text], 8000)]
    after_another = [pcm async for pcm in voice.speak(["Sure.", text], 8000)]
    assert len(opening) == 3 and len(after_another) == 3  # "I can tell you ...," | "read you ..." | "Just ask."
    assert tts.cache.misses == misses + 1  # only "Sure." was synthesized


def test_audio_cache_is_bounded_least_recently_used_first():
    cache = AudioCache(max_bytes=10)
    cache.put("joe", 8000, "a", b"1234")
    cache.put("joe", 8000, "b", b"5678")
    assert cache.get("joe", 8000, "a") == b"1234"  # "a" is now the most recently used
    cache.put("joe", 8000, "c", b"9012")
    assert cache.get("joe", 8000, "b") is None and cache.get("joe", 8000, "a") == b"1234"
    assert cache.bytes <= 10 and len(cache) == 2
    cache.put("joe", 8000, "huge", b"x" * 11)  # larger than the whole cache: not stored
    assert cache.get("joe", 8000, "huge") is None


@pytest.mark.parametrize("text, spoken", [
    ("Your balance is $42.50.", "Your balance is forty two dollars and fifty cents."),
    ("That's $1,200.", "That's one thousand two hundred dollars."),
    ("Your order 472918 shipped.", "Your order four seven two nine one eight shipped."),
    ("Order #4729 is late.", "Order number four seven two nine is late."),
    ("It arrives 2026-03-05.", "It arrives March fifth, twenty twenty six."),
    ("Due 12/24/2025.", "Due December twenty fourth, twenty twenty five."),
    ("We open at 9:00 and close at 5:30 pm.", "We open at nine o'clock and close at five thirty p m."),
    ("Call 555-0142.", "Call five five five, zero one four two."),
    ("Save 15% on your 2nd order.", "Save fifteen percent on your second order."),
    ("Press 0 for an agent.", "Press zero for an agent."),
    ("Sure, I can help with that.", "Sure, I can help with that."),
])
def test_normalizer_reads_numbers_money_dates_and_order_numbers(text, spoken):
    assert normalize_for_speech(text) == spoken


def test_years():
    assert [year_words(y) for y in (1985, 2026, 2005, 1900, 2000)] == [
        "nineteen eighty five", "twenty twenty six", "two thousand five", "nineteen hundred", "two thousand"]


def test_sentence_splitting_keeps_abbreviations_and_decimals():
    assert split_sentences("Sure. Dr. Lee will call at 3.30 today! Anything else?") == [
        "Sure.", "Dr. Lee will call at 3.30 today!", "Anything else?"]


def test_synthesizer_offers_the_splitter_for_sentence_by_sentence_playback(tts):
    assert tts.sentences("One. Two.") == ["One.", "Two."]


def test_unknown_tts_engine_and_missing_voice_are_config_errors(tmp_path):
    with pytest.raises(TTSConfigError, match="unknown engine"):
        create_synthesizer({"engine": "espeak"})
    with pytest.raises(TTSConfigError, match="voice.tts.voice"):
        create_synthesizer({"voice": str(tmp_path / "nope.onnx")})
