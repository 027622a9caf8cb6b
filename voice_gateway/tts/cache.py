"""A bounded LRU cache of synthesised audio: static replies ("What's your order number?") are
spoken many times a day and cost a Piper run each; cached they cost a dictionary look-up."""
from __future__ import annotations

import threading
from collections import OrderedDict


class AudioCache:
    """Keyed by (voice, sample rate, text); bounded by total bytes (least recently used goes first)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, voice: str, sample_rate: int, text: str) -> bytes | None:
        key = (voice, sample_rate, text)
        with self._lock:
            audio = self._entries.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return audio

    def put(self, voice: str, sample_rate: int, text: str, audio: bytes) -> None:
        if len(audio) > self.max_bytes:
            return
        key = (voice, sample_rate, text)
        with self._lock:
            old = self._entries.pop(key, None)
            self.bytes += len(audio) - (len(old) if old is not None else 0)
            self._entries[key] = audio
            while self.bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.bytes -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)
