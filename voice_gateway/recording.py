"""Call recordings: the caller's and the bot's audio as two time-aligned WAV files, plus a transcript.

One folder per call under the configured directory, named by the time and the gateway's call id
(``bot.security.paths.safe_child`` keeps it inside): ``caller.wav``, ``bot.wav``, ``transcript.json``
(each line of the conversation with seconds from the start of the call, and the carrier's id for
it). The caller's words and audio are masked while the bot asks for a sensitive slot (the PIN), as
the bot does in its trackers.
Folders older than the retention period are deleted when a new call starts.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from bot.core.redaction import MASK
from bot.security.paths import safe_child
from voice_gateway.audio.wav import WavWriter

logger = logging.getLogger(__name__)


def purge_old_recordings(root: Path, retention_days: float) -> int:
    if not root.exists():
        return 0
    cutoff = time.time() - retention_days * 86400
    removed = 0
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("old call recordings deleted", extra={"count": removed, "retention_days": retention_days})
    return removed


class CallRecorder:
    def __init__(self, root: Path, call_id: str, sample_rate: int, external_id: str | None = None):
        root.mkdir(parents=True, exist_ok=True)
        self.folder = safe_child(root, f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{call_id}")
        self.folder.mkdir(exist_ok=True)
        self.sample_rate = sample_rate
        self.started = time.monotonic()
        self.started_at = time.time()
        self.call_id, self.external_id = call_id, external_id
        self._caller = WavWriter(self.folder / "caller.wav", sample_rate)
        self._bot = WavWriter(self.folder / "bot.wav", sample_rate)
        self._lines: list[dict] = []

    def _now_samples(self) -> int:
        return int((time.monotonic() - self.started) * self.sample_rate)

    def caller_audio(self, pcm16: bytes, masked: bool = False) -> None:
        self._caller.pad_to(self._now_samples() - len(pcm16) // 2)
        self._caller.write(bytes(len(pcm16)) if masked else pcm16)

    def bot_audio(self, pcm16: bytes) -> None:
        self._bot.pad_to(self._now_samples())
        self._bot.write(pcm16)

    def line(self, speaker: str, text: str, masked: bool = False, **extra) -> None:
        self._lines.append({"t": round(time.monotonic() - self.started, 3), "speaker": speaker,
                            "text": MASK if masked else text, **extra})

    def close(self, reason: str) -> Path:
        end = self._now_samples()
        for track in (self._caller, self._bot):
            track.pad_to(end)
            track.close()
        transcript = {"call_id": self.call_id, "external_call_id": self.external_id,
                      "started_at": self.started_at, "ended_reason": reason,
                      "sample_rate": self.sample_rate, "lines": self._lines}
        (self.folder / "transcript.json").write_text(json.dumps(transcript, indent=2) + "\n")
        return self.folder
