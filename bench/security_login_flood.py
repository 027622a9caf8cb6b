"""Does a flood of bad sign-ins slow the bot? `/model/parse` p50 while quiet, then during 200 bad logins.

    python bench/security_login_flood.py [--logins 200] [--concurrency 200] [--parses 60] [--rounds 5]

Starts the demo bot (`helpline run` on a project of links in a temporary directory, as the load
benchmark does) and parses one utterance at a time with the API token, first while nothing else
happens, then while ``--logins`` wrong-password sign-ins are sent all at once; ``--rounds`` times,
quiet then flood, so that the shared box's drifting load weighs on both alike. The guesses come from
a separate attacker process, so that its event loop does not delay the parse loop's. The sign-in limits
are raised for the run (``max_failures_per_account``/``_per_address``) so that every guess reaches
the password check, as guesses from many addresses would: the measure is the scrypt pool's effect
on the NLU path, not the throttle's. Writes bench/results/security.json; target: the flood moves
the parse p50 by less than 2x.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402

from bench.common import write_result  # noqa: E402
from bench.load import demo_model  # noqa: E402
from tests.scale_support import ServerProcess, linked_project  # noqa: E402

TARGET_RATIO = 2.0
UTTERANCE = "what is the status of my order"


def raise_login_limits(project: Path, limit: int) -> None:
    """Let every guess reach the password check (config.yml is the linked project's own copy)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    config = yaml.load((project / "config.yml").read_text())
    config["helpline"]["auth"].update({"max_failures_per_account": limit, "max_failures_per_address": limit})
    with (project / "config.yml").open("w") as out:
        yaml.dump(config, out)


async def parse_times(session: aiohttp.ClientSession, base: str, token: str, count: int,
                      stop: asyncio.Event | None = None) -> list[float]:
    """Milliseconds per parse, one after another, ``count`` of them (or until ``stop`` is set)."""
    times = []
    headers = {"Authorization": f"Bearer {token}"}
    while len(times) < count and not (stop is not None and stop.is_set() and times):
        started = time.perf_counter()
        async with session.post(f"{base}/model/parse", json={"text": UTTERANCE}, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"/model/parse answered {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    return times


async def bad_login(session: aiohttp.ClientSession, base: str, number: int) -> int:
    body = {"username": f"guess{number % 20}", "password": f"wrong-{number}"}
    async with session.post(f"{base}/auth/login", json=body) as response:
        await response.read()
        return response.status


async def flood(base: str, logins: int, concurrency: int) -> None:
    """The attacker, in a process of its own (its event loop must not slow the parse loop's):
    says "ready", waits for a line on stdin, sends the logins, prints their statuses as JSON."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def guarded(number: int) -> int:
            async with gate:
                return await bad_login(session, base, number)

        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        statuses = await asyncio.gather(*(guarded(n) for n in range(logins)))
    print(json.dumps(statuses), flush=True)


async def wait_for_parse(session: aiohttp.ClientSession, base: str, token: str, limit: float) -> None:
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            await parse_times(session, base, token, 1)
            return
        except (aiohttp.ClientError, RuntimeError):
            await asyncio.sleep(0.5)
    raise RuntimeError(f"/model/parse not ready in {limit:g} s")


async def measure(server: ServerProcess, args) -> dict:
    base = f"http://127.0.0.1:{server.port}"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_for_parse(session, base, server.token, 600)
        await parse_times(session, base, server.token, 20)  # warm-up
        load_before = os.getloadavg()[0]
        quiet, flood_parses, statuses, seconds = [], [], [], []
        for _ in range(args.rounds):  # quiet right before each flood: the box's other load drifts
            quiet += await parse_times(session, base, server.token, args.parses)
            attacker = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--attack", base, "--logins", str(args.logins),
                "--concurrency", str(args.concurrency),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            assert (await attacker.stdout.readline()).strip() == b"ready"
            stop = asyncio.Event()
            parses = asyncio.create_task(parse_times(session, base, server.token, 10 ** 9, stop))
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            attacker.stdin.write(b"go\n")
            await attacker.stdin.drain()
            answered = json.loads(await attacker.stdout.readline())
            seconds.append(round(time.perf_counter() - started, 2))
            stop.set()
            flood_parses += await parses
            statuses += answered
            await attacker.wait()
            await asyncio.sleep(1)  # let the password pool drain before the next round
        flood = flood_parses
    quiet_p50, flood_p50 = statistics.median(quiet), statistics.median(flood)
    return {
        "parse_p50_ms_quiet": round(quiet_p50, 2),
        "parse_p50_ms_login_flood": round(flood_p50, 2),
        "ratio": round(flood_p50 / quiet_p50, 2),
        "target_ratio_below": TARGET_RATIO,
        "met": flood_p50 / quiet_p50 < TARGET_RATIO,
        "parse_p95_ms_quiet": round(statistics.quantiles(quiet, n=20)[-1], 2),
        "parse_p95_ms_login_flood": round(statistics.quantiles(flood, n=20)[-1], 2) if len(flood) >= 20 else None,
        "parses_quiet": len(quiet),
        "parses_during_flood": len(flood),
        "bad_logins_per_round": args.logins,
        "login_concurrency": args.concurrency,
        "login_statuses": dict(sorted(Counter(map(str, statuses)).items())),
        "rounds": args.rounds,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # the box is shared
        "flood_seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200, help="bad logins in flight at once")
    parser.add_argument("--parses", type=int, default=60, help="parses measured while quiet, before each flood")
    parser.add_argument("--rounds", type=int, default=5, help="floods, each of --logins sign-ins")
    parser.add_argument("--attack", metavar="URL", help=argparse.SUPPRESS)  # the attacker process
    args = parser.parse_args()
    if args.attack:
        asyncio.run(flood(args.attack, args.logins, args.concurrency))
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = linked_project(Path(tmp) / "project")
        raise_login_limits(project, args.logins * 10)
        server = ServerProcess(project, Path(tmp) / "data", demo_model())
        try:
            print(f"starting the server; log: {server.log}", flush=True)
            result = asyncio.run(measure(server, args))
        finally:
            server.stop()
    result["command"] = "python " + " ".join(["bench/security_login_flood.py", *sys.argv[1:]])
    path = write_result("security.json", result)
    print(f"quiet p50 {result['parse_p50_ms_quiet']} ms, flood p50 {result['parse_p50_ms_login_flood']} ms "
          f"(x{result['ratio']}); logins {result['login_statuses']}; wrote {path}")


if __name__ == "__main__":
    main()
