"""Barge-in: when caller speech during bot playback is real enough to stop the bot (Pipecat-style strategies)."""
from voice_gateway.interruptions.base import BaseInterruptionStrategy
from voice_gateway.interruptions.min_duration import MinDurationInterruptionStrategy
from voice_gateway.interruptions.min_words import MinWordsInterruptionStrategy


def strategies_from_config(config: dict) -> list[BaseInterruptionStrategy]:
    """``barge_in: {min_speech_secs, min_words}``: the caller interrupts when any of them is met."""
    strategies: list[BaseInterruptionStrategy] = []
    if config.get("min_speech_secs") is not None:
        strategies.append(MinDurationInterruptionStrategy(float(config["min_speech_secs"])))
    if config.get("min_words") is not None:
        strategies.append(MinWordsInterruptionStrategy(int(config["min_words"])))
    return strategies


__all__ = ["BaseInterruptionStrategy", "MinDurationInterruptionStrategy", "MinWordsInterruptionStrategy",
           "strategies_from_config"]
