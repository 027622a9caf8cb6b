"""Text-to-speech: Piper voices behind ``SpeechSynthesizer``, with speech text normalisation."""
from voice_gateway.tts.base import SpeechSynthesizer, TTSConfigError, create_synthesizer

__all__ = ["SpeechSynthesizer", "TTSConfigError", "create_synthesizer"]
