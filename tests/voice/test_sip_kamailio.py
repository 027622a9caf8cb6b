"""Helpline behind Kamailio (Debian's package): registration with digest auth, and the dispatcher.

Registration: a second SIP endpoint on the session's voice server registers with a Kamailio
registrar that challenges for a password; a call from SIPp to the registered address of record is
then routed by Kamailio to the endpoint. Dispatcher: deploy/kamailio/dispatcher.cfg in front of two
``helpline run`` processes; SIPp's calls spread over both, and once one process stops answering
(SIGSTOP: no OPTIONS, no INVITEs) every new call goes to the other.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
import urllib.request

from tests.conftest import ROOT
from tests.needs import sip_tool
from tests.sip_peers import Kamailio, exchange, free_port, run_sipp, sip_request
from voice_gateway.sip.config import RegistrationConfig, SipConfig
from voice_gateway.sip.endpoint import SipEndpoint

TOKEN = secrets.token_hex(16)  # the Helpline processes' admin bearer token (HELPLINE_AUTH_TOKEN)
CALLER = ROOT / "tests" / "sipp_caller.xml"  # SIPp's caller that follows a proxy's Record-Route
REGISTRAR = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="helpline.test"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
request_route {{
    if (has_totag()) {{ if (loose_route() || is_method("ACK|BYE")) t_relay(); exit; }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$td", "{password}", "0")) {{ www_challenge("$td", "0"); exit; }}
        save("location");
        exit;
    }}
    if (!lookup("location")) {{ sl_send_reply("404", "Not Registered"); exit; }}
    record_route();
    t_relay();
}}
"""


async def test_registers_with_digest_auth_and_takes_calls_through_the_registrar(voice_server, tmp_path, monkeypatch):
    sip_tool("sipp")
    port = free_port()
    config_file = tmp_path / "registrar.cfg"
    config_file.write_text(REGISTRAR.format(port=port, password="s3cret-pass"))
    registrar = await Kamailio(config_file, tmp_path / "kamailio", {}).start()

    monkeypatch.setenv("HELPLINE_TEST_SIP_PASSWORD", "s3cret-pass")
    monkeypatch.setenv("HELPLINE_TEST_SIP_WRONG", "wrong")

    def endpoint(password_env: str) -> SipEndpoint:
        registration = RegistrationConfig(registrar=f"127.0.0.1:{port}", aor="sip:helpline@helpline.test",
                                          username="helpline", password_env=password_env, expires=120)
        config = SipConfig(port=0, allow=["127.0.0.1/32"], registration=registration, rtp_ports=(31000, 31999))
        return SipEndpoint(voice_server.services, config)

    registered, refused = endpoint("HELPLINE_TEST_SIP_PASSWORD"), endpoint("HELPLINE_TEST_SIP_WRONG")
    try:
        for sip in (registered, refused):
            voice_server.call(sip.start())
        deadline = time.monotonic() + 15
        while registered.status()["registered"] != "registered" or refused.status()["registered"] != "failed":
            assert time.monotonic() < deadline, (registered.status(), refused.status(), registrar.log_text()[-2000:])
            await asyncio.sleep(0.1)
        result = await run_sipp(f"127.0.0.1:{port}", 1, hold_ms=300, timeout=30, scenario=CALLER)
        assert result["exit_code"] == 0 and result["successful_calls"] == 1, result["output"]
        assert registered.answered == 1 and refused.answered == 0
    finally:
        for sip in (registered, refused):
            voice_server.call(sip.stop())
        await registrar.stop()


async def start_helpline(demo_archive, tmp_path, name: str) -> tuple[asyncio.subprocess.Process, int, int]:
    http_port, sip_port = free_port(), free_port()
    env = {**os.environ, "HELPLINE_PORT": str(http_port), "HELPLINE_SIP_PORT": str(sip_port),
           "HELPLINE_AUTH_TOKEN": TOKEN,
           "HELPLINE_DATA_DIR": str(tmp_path / name), "HELPLINE_MODELS_DIR": str(demo_archive.parent),
           "HELPLINE_TRACKER_STORE": "memory", "HELPLINE_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / f"{name}.log", "wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "helpline.cli", "--project", str(ROOT), "run", "--model", str(demo_archive),
        env=env, cwd=ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT)
    return process, http_port, sip_port


def answered(http_port: int) -> int:
    """Calls the process answered over SIP (/voice/status is a supervisor's route: the admin token)."""
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/voice/status",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["sip"]["answered"]


async def test_dispatcher_spreads_calls_and_moves_them_off_a_silent_process(demo_archive, tmp_path):
    sip_tool("sipp")
    processes = [await start_helpline(demo_archive, tmp_path, name) for name in ("helpline-a", "helpline-b")]
    proxy = None
    try:
        for process, http_port, sip_port in processes:  # up when its SIP port answers OPTIONS
            deadline = time.monotonic() + 120
            options = sip_request("OPTIONS", f"sip:127.0.0.1:{sip_port}", ("127.0.0.1", "PORT0"), os.urandom(8).hex())
            while exchange(options, ("127.0.0.1", sip_port), timeout=1.0) != "SIP/2.0 200 OK":
                assert process.returncode is None and time.monotonic() < deadline, "a Helpline process did not start"
            while True:
                try:
                    answered(http_port)
                    break
                except OSError:
                    await asyncio.sleep(0.2)
        proxy_port = free_port()
        listing = tmp_path / "dispatcher.list"
        listing.write_text("".join(f"1 sip:127.0.0.1:{sip}\n" for _, _, sip in processes))
        proxy = await Kamailio(ROOT / "deploy" / "kamailio" / "dispatcher.cfg", tmp_path / "kamailio",
                               {"LISTEN": f"udp:127.0.0.1:{proxy_port}", "DISPATCHER_LIST": f'"{listing}"'}).start()
        (a, a_http, _), (b, b_http, _) = processes

        spread = await run_sipp(f"127.0.0.1:{proxy_port}", 6, rate=3, hold_ms=300, timeout=60, scenario=CALLER)
        assert spread["exit_code"] == 0 and spread["successful_calls"] == 6, spread["output"]
        a_calls, b_calls = answered(a_http), answered(b_http)
        assert a_calls >= 2 and b_calls >= 2 and a_calls + b_calls == 6

        a.send_signal(signal.SIGSTOP)  # process A stops answering anything, OPTIONS included
        try:
            await asyncio.sleep(8)  # two probe rounds: the dispatcher marks A inactive
            moved = await run_sipp(f"127.0.0.1:{proxy_port}", 4, rate=2, hold_ms=300, timeout=60,
                                   scenario=CALLER)
            assert moved["exit_code"] == 0 and moved["successful_calls"] == 4, moved["output"]
            assert answered(b_http) == b_calls + 4
        finally:
            a.send_signal(signal.SIGCONT)
        assert answered(a_http) == a_calls
    finally:
        if proxy is not None:
            await proxy.stop()
        for process, _, _ in processes:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 20)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
