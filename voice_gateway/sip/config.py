"""The ``helpline: voice: sip:`` section: where the SIP endpoint listens and who may call it.

Read once into typed settings; a bad value is an error that names its key. Without an ``allow``
list every request is refused (secure by default): name the trunk's or PBX's addresses there.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

TRANSPORTS = ("udp", "tcp")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SipConfigError(ValueError):
    """A key of ``helpline.voice.sip`` has a bad value; the message names it."""


@dataclass(frozen=True)
class RegistrationConfig:
    """Register with a registrar (a SIP phone's or a trunk account's way in), with digest auth."""
    registrar: tuple[str, int]  # where the REGISTERs go
    aor: str  # address of record, e.g. sip:helpline@pbx.example.com
    username: str
    password: str = field(repr=False)
    expires: int = 300


@dataclass(frozen=True)
class SipConfig:
    host: str = "127.0.0.1"
    port: int = 5060  # 0: any free port (tests)
    transports: tuple[str, ...] = TRANSPORTS
    advertised_host: str | None = None  # the address peers reach, when the listener sits behind NAT
    rtp_ports: tuple[int, int] = (20000, 29999)
    allow: tuple[IpNetwork, ...] = ()  # trunks/PBXs that may send requests; nobody else
    max_calls: int = 50  # concurrent SIP calls; more are answered 503 so a proxy tries elsewhere
    max_message_bytes: int = 16384  # a longer SIP message is dropped unread
    refusals_per_second: float = 20.0  # 403s to outsiders: a cap, so the endpoint never amplifies floods
    registration: RegistrationConfig | None = None
    user_agent: str = "Helpline"

    @property
    def public_host(self) -> str:
        return self.advertised_host or self.host

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.allow)


def load_sip_config(raw: dict | None) -> SipConfig | None:
    """None when the section is absent or ``enabled: false``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SipConfigError("helpline.voice.sip must be a mapping")
    raw = dict(raw)
    if not raw.pop("enabled", True):
        return None
    known = {"host", "port", "transports", "advertised_host", "rtp_ports", "allow", "max_calls",
             "max_message_bytes", "refusals_per_second", "register", "user_agent"}
    unknown = set(raw) - known
    if unknown:
        raise SipConfigError(f"helpline.voice.sip: unknown settings {sorted(unknown)}")
    transports = tuple(str(t).lower() for t in raw.get("transports", TRANSPORTS))
    if not transports or set(transports) - set(TRANSPORTS):
        raise SipConfigError(f"helpline.voice.sip.transports must be some of {TRANSPORTS}, not {transports}")
    rtp_ports = tuple(raw.get("rtp_ports", SipConfig.rtp_ports))
    if len(rtp_ports) != 2 or not 1024 <= int(rtp_ports[0]) < int(rtp_ports[1]) <= 65535:
        raise SipConfigError(f"helpline.voice.sip.rtp_ports must be [low, high] within 1024-65535, not {rtp_ports}")
    registration = _registration(raw.get("register"))
    allow = [_network(item) for item in raw.get("allow") or []]
    if registration is not None:  # the registrar delivers the calls for our binding
        allow.append(_network(registration.registrar[0]))
    return SipConfig(
        host=str(raw.get("host", SipConfig.host)),
        port=_int(raw, "port", SipConfig.port, 0, 65535),
        transports=transports,
        advertised_host=raw.get("advertised_host"),
        rtp_ports=(int(rtp_ports[0]), int(rtp_ports[1])),
        allow=tuple(allow),
        max_calls=_int(raw, "max_calls", SipConfig.max_calls, 1, 100000),
        max_message_bytes=_int(raw, "max_message_bytes", SipConfig.max_message_bytes, 1024, 1 << 20),
        refusals_per_second=float(raw.get("refusals_per_second", SipConfig.refusals_per_second)),
        registration=registration,
        user_agent=str(raw.get("user_agent", SipConfig.user_agent)),
    )


def _int(raw: dict, key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SipConfigError(f"helpline.voice.sip.{key} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise SipConfigError(f"helpline.voice.sip.{key} must be between {low} and {high}, not {number}")
    return number


def _network(item) -> IpNetwork:
    try:
        return ipaddress.ip_network(str(item), strict=False)
    except ValueError:
        raise SipConfigError(f"helpline.voice.sip.allow: {item!r} is not an IP address or network "
                             "(host names are not resolved: name the trunk's addresses)") from None


def _registration(raw) -> RegistrationConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SipConfigError("helpline.voice.sip.register must be a mapping")
    for key in ("registrar", "aor", "username", "password_env"):
        if not raw.get(key):
            raise SipConfigError(f"helpline.voice.sip.register needs '{key}'")
    host, _, port = str(raw["registrar"]).rpartition(":")
    if not host or not port.isdigit():
        raise SipConfigError(f"helpline.voice.sip.register.registrar must be HOST:PORT, not {raw['registrar']!r}")
    _network(host)
    password = os.environ.get(str(raw["password_env"]))
    if not password:
        raise SipConfigError(f"helpline.voice.sip.register.password_env: the environment variable "
                             f"{raw['password_env']} holding the SIP password is not set")
    aor = str(raw["aor"])
    if not aor.startswith(("sip:", "sips:")):
        raise SipConfigError(f"helpline.voice.sip.register.aor must be a sip: URI, not {aor!r}")
    return RegistrationConfig(registrar=(host, int(port)), aor=aor, username=str(raw["username"]),
                              password=password, expires=_int(raw, "expires", 300, 60, 86400))
