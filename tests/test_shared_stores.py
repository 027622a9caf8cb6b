"""Stores several processes share: endpoints.yml as Rasa writes it, the Redis conversation lock, and
the refusal of a second process on SQLite stores."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import uuid

import pytest

from bot.core.lock_store import LockError, RedisLockStore
from bot.training_data.yaml_reader import TrainingDataError
from helpline.endpoints import read_endpoints
from helpline.workers import SingleProcessLock, StoresInUse
from tests import needs
from tests.conftest import ROOT

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_endpoints_yml_stores_read_as_rasa_reads_them(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "s3cret/word")
    path = tmp_path / "endpoints.yml"
    path.write_text(textwrap.dedent("""\
        action_endpoint: {url: "http://localhost:5055/webhook"}
        tracker_store:
          type: SQL
          dialect: "postgresql"
          url: db.internal
          port: 5433
          db: helpline
          username: bot
          password: ${DB_PASSWORD}
          query: {sslmode: require}
        lock_store: {type: redis, url: redis.internal, port: 6380, db: 2, key_prefix: site1}
        """))
    endpoints = read_endpoints(path)
    assert endpoints.action_url == "http://localhost:5055/webhook"
    assert endpoints.tracker_store == "postgresql://bot:s3cret%2Fword@db.internal:5433/helpline?sslmode=require"
    assert (endpoints.lock_store, endpoints.lock_key_prefix) == ("redis://redis.internal:6380/2", "site1")
    path.write_text("tracker_store: {type: mongod, url: mongodb://localhost:27017}\n")
    with pytest.raises(TrainingDataError, match="mongod") as error:
        read_endpoints(path)
    assert error.value.line == 1


async def test_redis_lock_keeps_two_processes_out_of_one_conversation():
    needs.redis(REDIS_URL)
    prefix = f"test{uuid.uuid4().hex[:8]}"
    first, second = (RedisLockStore(REDIS_URL, prefix, wait_secs=0.5) for _ in range(2))
    inside: list[str] = []
    try:
        async def turn(store, name: str) -> None:
            async with store.lock("call-1"):
                inside.append(f"{name} in")
                await asyncio.sleep(0.05)
                inside.append(f"{name} out")

        await asyncio.gather(*(turn(store, f"{i}{side}") for i in range(4)
                               for side, store in (("a", first), ("b", second))))
        assert all(inside[i].endswith(" in") and inside[i + 1] == inside[i].replace(" in", " out")
                   for i in range(0, len(inside), 2)), inside  # never two turns inside at once
        async with first.lock("call-2"):
            with pytest.raises(LockError, match="still locked"):
                async with second.lock("call-2"):
                    pass
        async with second.lock("call-2"):  # released: the other process gets it
            pass
    finally:
        await first.close()
        await second.close()


def test_a_second_process_on_the_sqlite_stores_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""\
        import sys, time
        from pathlib import Path
        from helpline.workers import SingleProcessLock
        lock = SingleProcessLock(Path({str(tmp_path)!r}), ["trackers"])
        print("held", flush=True)
        time.sleep(60)
        """)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoresInUse, match=f"pid {holder.pid} already serves the SQLite stores"):
            SingleProcessLock(tmp_path, ["trackers"])
    finally:
        holder.kill()
        holder.wait()
    SingleProcessLock(tmp_path, ["trackers"]).release()  # the kernel dropped the dead holder's lock


def test_workers_need_shared_stores(tmp_path):
    result = subprocess.run([sys.executable, "-m", "helpline.cli", "run", "--workers", "2"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "HELPLINE_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "several workers need shared stores" in result.stderr
    assert "trackers, handoff queues and call records are in SQLite" in result.stderr and "lock_store" in result.stderr
