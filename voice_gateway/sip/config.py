"""``helpline: voice: sip:``: where the SIP endpoint listens and who may call it.

Without an ``allow`` list every request is refused (secure by default): name the trunk's or PBX's
addresses there. Registration's password never sits in config.yml: ``password_env`` names the
environment variable that holds it.
"""
from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from typing import Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from bot.config_model import ConfigModel


def _networks(value: list[str]) -> list[str]:
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not an IP address or network (host names are not resolved: "
                             "name the trunk's addresses)") from None
    return value


class RegistrationConfig(ConfigModel):
    """Register with a registrar (a SIP phone's or a trunk account's way in), with digest authentication."""

    registrar: str = Field(pattern=r"^[0-9a-fA-F.:]+:\d{1,5}$")
    """IP:PORT the REGISTERs go to; its address may also send calls."""
    aor: str = Field(pattern=r"^sips?:\S+@\S+$")
    """Address of record, e.g. sip:helpline@pbx.example.com."""
    username: str = Field(min_length=1)
    password_env: str = Field(min_length=1)
    """The environment variable that holds the password."""
    expires: int = Field(300, ge=60, le=86400)

    @model_validator(mode="after")
    def _password_is_set(self) -> "RegistrationConfig":
        if not os.environ.get(self.password_env):
            raise ValueError(f"the environment variable {self.password_env} (password_env) is not set")
        _networks([self.registrar_address[0]])
        return self

    @property
    def registrar_address(self) -> tuple[str, int]:
        host, _, port = self.registrar.rpartition(":")
        return host, int(port)

    def password(self) -> str:
        return os.environ[self.password_env]


class SipConfig(ConfigModel):
    """SIP trunks, PBXs and SIP phones (voice_gateway/sip): UDP and TCP on one port."""

    host: str = "127.0.0.1"
    """The address to listen on (0.0.0.0: all)."""
    port: int = Field(5060, ge=0, le=65535)
    """UDP and TCP (0: any free port; HELPLINE_SIP_PORT overrides)."""
    transports: list[Literal["udp", "tcp"]] = Field(["udp", "tcp"], min_length=1)
    advertised_host: str | None = None
    """The address peers reach, when the listener sits behind NAT (SDP, Contact)."""
    rtp_ports: tuple[int, int] = (20000, 29999)
    allow: list[str] = []
    """Trunk/PBX addresses or networks that may send requests; everyone else gets 403."""
    max_calls: PositiveInt = 50
    """Concurrent SIP calls; more are answered 503, so a proxy in front tries another Helpline."""
    max_message_bytes: int = Field(16384, ge=1024, le=1 << 20)
    """A longer SIP message is dropped unread."""
    refusals_per_second: float = Field(20.0, gt=0)
    """403s to outsiders at most this often, so the endpoint never amplifies a flood."""
    registration: RegistrationConfig | None = None
    user_agent: str = "Helpline"

    @field_validator("allow")
    @classmethod
    def _allow_networks(cls, value: list[str]) -> list[str]:
        return _networks(value)

    @field_validator("rtp_ports")
    @classmethod
    def _port_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1024 <= value[0] < value[1] <= 65535:
            raise ValueError(f"must be [low, high] within 1024-65535, not {list(value)}")
        return value

    @property
    def public_host(self) -> str:
        return self.advertised_host or self.host

    @cached_property
    def _allowed(self) -> tuple:
        networks = list(self.allow)
        if self.registration is not None:  # the registrar delivers the calls for our binding
            networks.append(self.registration.registrar_address[0])
        return tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._allowed)
