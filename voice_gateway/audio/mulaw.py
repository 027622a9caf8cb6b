"""G.711 mu-law <-> 16-bit linear PCM (what Twilio Media Streams carry), vectorised with numpy."""
from __future__ import annotations

import numpy as np

_BIAS = 0x84
_CLIP = 32635


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


_DECODE = _decode_table()


def decode(ulaw: bytes) -> bytes:
    """mu-law bytes -> PCM16 little-endian bytes (twice as long)."""
    return _DECODE[np.frombuffer(ulaw, dtype=np.uint8)].tobytes()


def _encode_table() -> np.ndarray:
    """The mu-law byte of every 16-bit sample, indexed by the sample's bits read as unsigned."""
    samples = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


_ENCODE = _encode_table()  # 64 KB: one look-up per sample instead of eight array operations per frame


def encode(pcm16: bytes) -> bytes:
    """PCM16 little-endian bytes -> mu-law bytes (half as long)."""
    return _ENCODE[np.frombuffer(pcm16, dtype="<u2")].tobytes()
