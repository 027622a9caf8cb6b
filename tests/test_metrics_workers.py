"""Several worker processes, one /metrics: prometheus-client's multiprocess mode as the supervisor sets it up.

Each "worker" is a real Python process that imports ``helpline.metrics`` with the folder the
supervisor prepares and reports through ``bot.observe``, as the gateway and the bot do; a third
one renders the scrape. Counters add up over the workers; a dead worker's live calls leave the gauge.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from helpline.metrics import MULTIPROC_ENV
from tests.conftest import ROOT

WORKER = textwrap.dedent("""
    import os, sys
    from bot import observe
    from helpline.metrics import PrometheusObserver
    observe.install(PrometheusObserver())
    for _ in range(int(sys.argv[1])):
        observe.count("call_opened", protocol="twilio")
        observe.count("turn", channel="voice")
        observe.timing("turn", 0.4)
    print(os.getpid())
""")
SCRAPE = "import sys; from helpline.metrics import exposition; sys.stdout.write(exposition().decode())"


def run(code: str, *args: str, env: dict) -> str:
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=120).stdout


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_every_workers_values_are_added_up_and_a_dead_workers_live_calls_drop(tmp_path):
    folder = tmp_path / "metrics"
    supervisor = {k: v for k, v in os.environ.items() if k != MULTIPROC_ENV}
    (folder / "stale_from_last_run.db").parent.mkdir()
    (folder / "stale_from_last_run.db").write_bytes(b"")
    run("from pathlib import Path; from helpline.metrics import prepare_multiprocess; "
        f"prepare_multiprocess(Path({str(folder)!r}))", env=supervisor)
    assert not list(folder.iterdir())  # emptied: no value of an earlier run is added in
    env = {**os.environ, MULTIPROC_ENV: str(folder)}
    first = int(run(WORKER, "3", env=env))
    run(WORKER, "2", env=env)
    scraped = samples(run(SCRAPE, env=env))
    assert scraped[("helpline_calls_total", (("protocol", "twilio"),))] == 5
    assert scraped[("helpline_turns_total", (("channel", "voice"),))] == 5
    assert scraped[("helpline_turn_latency_seconds_count", ())] == 5
    assert scraped[("helpline_live_calls", ())] == 5  # neither worker closed its calls
    run(f"from helpline.metrics import worker_died; worker_died({first})", env=env)  # the supervisor saw it die
    scraped = samples(run(SCRAPE, env=env))
    assert scraped[("helpline_live_calls", ())] == 2
    assert scraped[("helpline_calls_total", (("protocol", "twilio"),))] == 5  # counters keep what was counted
