"""Barge-in: when caller speech during bot playback is real enough to stop the bot (Pipecat-style strategies)."""
from voice_gateway.interruptions.base import BaseInterruptionStrategy
from voice_gateway.interruptions.min_duration import MinDurationInterruptionStrategy
from voice_gateway.interruptions.min_words import MinWordsInterruptionStrategy


def strategies_from_config(config) -> list[BaseInterruptionStrategy]:
    """``barge_in: {min_speech_secs, min_words}`` (``voice_gateway.config.BargeInConfig``): the caller
    interrupts when any of them is met."""
    strategies: list[BaseInterruptionStrategy] = []
    if config.min_speech_secs is not None:
        strategies.append(MinDurationInterruptionStrategy(config.min_speech_secs))
    if config.min_words is not None:
        strategies.append(MinWordsInterruptionStrategy(config.min_words))
    return strategies


__all__ = ["BaseInterruptionStrategy", "MinDurationInterruptionStrategy", "MinWordsInterruptionStrategy",
           "strategies_from_config"]
