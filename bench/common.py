"""Shared bits of the benchmarks: where the datasets are, machine facts, writing results."""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HELPLINE_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "bench" / "results"


def machine() -> str:
    """Cores, CPU and Python. The CPU's family and int8 instructions are named because boxes sold
    under one name ("AMD EPYC") differ threefold here: CTranslate2's int8 Whisper uses AVX-512 VNNI."""
    return f"{os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}"


def _cpu() -> str:
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/cpuinfo").read_text().split("\n\n")[0].splitlines()
                    if ":" in line)
    except OSError:
        return "unknown cpu"
    info = {key.strip(): value.strip() for key, value in info.items()}
    int8 = "AVX-512 VNNI" if "avx512_vnni" in info.get("flags", "").split() else "no AVX-512 VNNI"
    return f"{info.get('model name', 'unknown cpu')} (family {info.get('cpu family', '?')} model {info.get('model', '?')}, {int8})"


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    payload = {**data, "machine": machine(), "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
