"""The SIP endpoint's front door, without speech models: settings, the caller's number, and the gate.

The gate is fuzzed with hypothesis over a real UDP socket: random bytes, oversized datagrams and
mutated INVITEs (lines dropped, doubled or garbled; the Via is kept, so every answer goes back to
this test's socket on loopback). Nothing may escape as an error, and the endpoint must still
answer afterwards.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading

import pytest
from aiosipua import SipMessage
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config_model import ConfigError, validate_section
from voice_gateway.sip.config import SipConfig
from voice_gateway.sip.endpoint import SipEndpoint
from voice_gateway.sip.identity import caller_number

INVITE = ("INVITE sip:helpline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport\r\n"
          "From: <sip:+15551230001@127.0.0.1>;tag=abc\r\nTo: <sip:helpline@127.0.0.1>\r\nCall-ID: {branch}\r\n"
          "CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
          "Content-Type: application/sdp\r\nContent-Length: {length}\r\n\r\n{body}")
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n"
       "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


def test_settings_errors_name_the_key(monkeypatch):
    def problem(raw: dict) -> str:
        with pytest.raises(ConfigError) as error:
            validate_section(SipConfig, raw, "config.yml", "helpline.voice.sip")
        return str(error.value)

    assert "helpline.voice.sip.allow" in problem({"allow": ["pbx.example.com"]})
    assert "helpline.voice.sip.transports" in problem({"transports": ["sctp"]})
    assert "alow" in problem({"alow": ["127.0.0.1"]})
    missing = problem({"registration": {"registrar": "127.0.0.1:5070", "aor": "sip:a@b", "username": "a",
                                        "password_env": "HELPLINE_TEST_SIP_PASSWORD"}})
    assert "HELPLINE_TEST_SIP_PASSWORD" in missing and "helpline.voice.sip.registration" in missing
    monkeypatch.setenv("HELPLINE_TEST_SIP_PASSWORD", "pw")
    config = SipConfig(allow=["10.1.0.0/16"], registration={
        "registrar": "127.0.0.2:5070", "aor": "sip:a@b", "username": "a", "password_env": "HELPLINE_TEST_SIP_PASSWORD"})
    assert config.allows("10.1.2.3") and config.allows("127.0.0.2")  # the registrar delivers calls too
    assert not config.allows("10.2.0.1") and not config.allows("not an address")
    assert "pw" not in repr(config) and config.registration.password() == "pw"


@pytest.mark.parametrize("headers, number", [
    ("P-Asserted-Identity: <tel:+1-555-123-0002>\r\nFrom: <sip:+15551230001@pbx>;tag=1\r\n", "+15551230002"),
    ("From: \"Maria\" <sip:+15551230001@pbx;user=phone>;tag=1\r\n", "+15551230001"),
    ("From: <sip:alice@pbx.example.com>;tag=1\r\n", None),
])
def test_caller_number_from_the_asserted_identity_or_from(headers, number):
    invite = SipMessage.parse((f"INVITE sip:helpline@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n"
                               f"{headers}To: <sip:helpline@127.0.0.1>\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\n"
                               "Content-Length: 0\r\n\r\n").encode())
    assert caller_number(invite) == number


class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        self.records.append(record)


@pytest.fixture(scope="module")
def busy_endpoint():
    """A real endpoint on loopback that answers every INVITE 503 (no pipeline behind it)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    endpoint = SipEndpoint(services=None, config=SipConfig(port=0, transports=["udp"], max_message_bytes=4096,
                                                           allow=["127.0.0.1/32"]))
    asyncio.run_coroutine_threadsafe(endpoint.start(), loop).result(10)
    endpoint._accepting = False
    errors = Errors()
    logging.getLogger().addHandler(errors)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield endpoint, sock, errors
    logging.getLogger().removeHandler(errors)
    sock.close()
    asyncio.run_coroutine_threadsafe(endpoint.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def mutated_invites():
    lines = st.integers(min_value=0, max_value=40)
    garbage = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)

    @st.composite
    def build(draw) -> tuple[str, list]:
        body = draw(st.sampled_from([SDP, SDP.replace("m=audio 4000", "m=audio x"), "", "v=0\r\n" + draw(garbage)]))
        operations = draw(st.lists(st.tuples(st.sampled_from(["drop", "double", "garble", "cut"]), lines, garbage),
                                   max_size=4))
        return body, operations

    return build()


def apply(message: str, operations: list) -> bytes:
    lines = message.split("\r\n")
    for kind, index, text in operations:
        index = 2 + index % max(1, len(lines) - 2)  # never the request line or the Via: answers stay local
        if index >= len(lines):
            continue
        if kind == "drop":
            del lines[index]
        elif kind == "double":
            lines.insert(index, lines[index])
        elif kind == "garble":
            name = lines[index].split(":", 1)[0]
            lines[index] = f"{name}: {text}".replace("\r", "").replace("\n", "")
        else:
            lines[index] = lines[index][: len(text)]
    return "\r\n".join(lines).encode()


def still_answering(endpoint, sock, probe: str) -> bytes:
    """An OPTIONS after whatever was sent: its answer means everything before it has been handled."""
    port = sock.getsockname()[1]
    options = (f"OPTIONS sip:127.0.0.1:{endpoint.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{probe}\r\n"
               f"From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: {probe}\r\nCSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n").encode()
    sock.settimeout(5)
    sock.sendto(options, ("127.0.0.1", endpoint.port))
    while True:
        answer = sock.recv(65536)
        if f"Call-ID: {probe}".encode() in answer:
            return answer.split(b"\r\n", 1)[0]


def failures(errors: Errors) -> list[str]:
    found = [f"{r.getMessage()}: {r.exc_text or ''}" for r in errors.records]
    errors.records.clear()
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(datagram=(SDP, [("garble", 3, "x INVITE")]))  # a CSeq the stack cannot read (found by this test)
@given(datagram=st.one_of(st.binary(max_size=1500), st.binary(min_size=4097, max_size=6000), mutated_invites()))
def test_the_gate_survives_whatever_arrives(busy_endpoint, datagram):
    endpoint, sock, errors = busy_endpoint
    if isinstance(datagram, tuple):
        body, operations = datagram
        port = sock.getsockname()[1]
        text = INVITE.format(port=port, branch=f"{abs(hash((body, str(operations)))):x}", body=body,
                             length=len(body.encode()))
        datagram = apply(text, operations)
    sock.sendto(datagram, ("127.0.0.1", endpoint.port))
    assert still_answering(endpoint, sock, os.urandom(6).hex()) == b"SIP/2.0 503 Service Unavailable"
    assert not failures(errors), datagram


def test_oversized_and_garbage_datagrams_are_dropped_and_counted(busy_endpoint):
    endpoint, sock, errors = busy_endpoint
    before = endpoint.gate.malformed
    for datagram in (b"\x00" * 5000, b"INVITE \xff garbage\r\n\r\n", b"\r\n\r\n"):
        sock.sendto(datagram, ("127.0.0.1", endpoint.port))
    assert still_answering(endpoint, sock, os.urandom(6).hex()) == b"SIP/2.0 503 Service Unavailable"
    assert endpoint.gate.malformed == before + 1  # the oversized one; the others parse or are keep-alives
    assert not failures(errors)
