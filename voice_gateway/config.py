"""The ``helpline: voice:`` section of config.yml, read once into typed settings with defaults."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voice_gateway.no_input import NoInputPolicy
from voice_gateway.sip.config import SipConfig, load_sip_config

HANDOFF_WITHOUT_BRIDGE = ("stay", "hang_up")


@dataclass
class VoiceConfig:
    asr: dict = field(default_factory=dict)  # voice_gateway.asr.create_engine
    tts: dict = field(default_factory=dict)  # voice_gateway.tts.create_synthesizer
    greeting: str | None = "utter_greet"  # action run when a call is answered
    hang_up_after: tuple[str, ...] = ("utter_goodbye",)  # the call ends once these have been spoken
    digit_slots: frozenset[str] = frozenset({"order_number", "pin", "caller_phone"})
    # Digits a slot takes: its turn ends after the normal silence once they have all been heard.
    digit_lengths: dict = field(default_factory=lambda: {"order_number": 6, "pin": 4})
    vad_threshold: float = 0.5
    turn_start_secs: float = 0.1
    end_of_turn_secs: float = 0.5
    digits_end_of_turn_secs: float = 1.0
    speculate_after_secs: float | None = 0.15  # recognise during the end-of-turn silence (None: off)
    barge_in: dict = field(default_factory=lambda: {"min_speech_secs": 0.6, "min_words": 2})
    keypad: dict = field(default_factory=dict)  # agent_key, repeat_key, submit_key, inter_digit_timeout_secs
    no_input: dict = field(default_factory=dict)  # NoInputPolicy.from_config
    handoff_without_bridge: str = "stay"
    recording_dir: Path | None = None  # None: calls are not recorded
    recording_retention_days: float = 30
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int | None = None  # None: no AudioSocket listener
    sip: SipConfig | None = None  # None: no SIP endpoint (voice_gateway/sip/config.py)
    start_timeout_secs: float = 10.0  # a connection that never says who is calling is closed
    idle_timeout_secs: float = 30.0  # a call that stops sending anything is over
    prewarm_responses: bool = False  # synthesize the domain's fixed responses at start-up

    @property
    def inter_digit_timeout_secs(self) -> float:
        return float(self.keypad.get("inter_digit_timeout_secs", 3.0))

    def no_input_policy(self) -> NoInputPolicy:
        return NoInputPolicy.from_config(self.no_input)


def load_voice_config(raw: dict, base_dir: Path) -> VoiceConfig:
    raw = dict(raw or {})
    recording = raw.get("recording") or {}
    audiosocket = raw.get("audiosocket") or {}
    config = VoiceConfig(
        asr=dict(raw.get("asr") or {}), tts=dict(raw.get("tts") or {}),
        greeting=raw.get("greeting", "utter_greet"),
        hang_up_after=tuple(raw.get("hang_up_after", ("utter_goodbye",))),
        digit_slots=frozenset(raw.get("digit_slots", VoiceConfig.digit_slots)),
        digit_lengths=dict(raw.get("digit_lengths") or VoiceConfig().digit_lengths),
        vad_threshold=float(raw.get("vad_threshold", 0.5)),
        turn_start_secs=float(raw.get("turn_start_secs", 0.1)),
        end_of_turn_secs=float(raw.get("end_of_turn_secs", 0.5)),
        digits_end_of_turn_secs=float(raw.get("digits_end_of_turn_secs", 1.0)),
        speculate_after_secs=raw.get("speculate_after_secs", 0.15),
        barge_in=dict(raw.get("barge_in") or VoiceConfig().barge_in),
        keypad=dict(raw.get("keypad") or {}), no_input=dict(raw.get("no_input") or {}),
        handoff_without_bridge=raw.get("handoff_without_bridge", "stay"),
        recording_dir=base_dir / recording["dir"] if recording.get("enabled") and recording.get("dir") else None,
        recording_retention_days=float(recording.get("retention_days", 30)),
        audiosocket_host=audiosocket.get("host", "127.0.0.1"),
        audiosocket_port=audiosocket.get("port"),
        sip=load_sip_config(raw.get("sip")),
        start_timeout_secs=float(raw.get("start_timeout_secs", 10.0)),
        idle_timeout_secs=float(raw.get("idle_timeout_secs", 30.0)),
        prewarm_responses=bool(raw.get("prewarm_responses", False)),
    )
    if config.handoff_without_bridge not in HANDOFF_WITHOUT_BRIDGE:
        raise ValueError(f"helpline.voice.handoff_without_bridge must be one of {HANDOFF_WITHOUT_BRIDGE}")
    config.no_input_policy()  # validates
    return config
