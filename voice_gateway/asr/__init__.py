"""Speech recognition: one interface (``base``), three engines (moonshine, whisper, vosk)."""
from voice_gateway.asr.base import DIGITS, NORMAL, ASRConfigError, ASREngine, SpeechRecognizer, create_engine

__all__ = ["ASREngine", "ASRConfigError", "SpeechRecognizer", "create_engine", "NORMAL", "DIGITS"]
