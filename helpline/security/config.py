"""``helpline: auth:`` in config.yml: sign-in limits and the users who are not desk agents."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, field_validator

from bot.config_model import ConfigModel
from bot.security.passwords import check_hash

PLAIN_PASSWORD = ("a plain password is not accepted in config.yml: put the output of `helpline desk hash-password` "
                  "in password_hash, or keep users in a file outside git named by HELPLINE_USERS_FILE")
Role = Literal["agent", "supervisor", "editor", "admin"]


def refuse_plain_password(value: str | None) -> None:
    if value is not None:
        raise ValueError(PLAIN_PASSWORD)


def known_hash(value: str | None) -> str | None:
    if value is not None:
        check_hash(value)
    return value


class UserConfig(ConfigModel):
    """Someone who signs in to the pages or the API."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    name: str | None = None
    roles: list[Role] = Field(min_length=1)
    """agent (desk), supervisor (queues, quality, reports), editor (content, models), admin (everything)."""
    password_hash: str | None = None
    """What `helpline desk hash-password` prints (scrypt); without one the user cannot sign in."""
    password: str | None = None
    """Refused: config.yml never holds a password."""

    _hash = field_validator("password_hash")(classmethod(lambda cls, value: known_hash(value)))

    @field_validator("password")
    @classmethod
    def _no_plain_password(cls, value: str | None) -> None:
        refuse_plain_password(value)


class AuthConfig(ConfigModel):
    session_hours: float = Field(12.0, gt=0, le=168)
    """A sign-in lasts this long at most (a shift)."""
    max_failures_per_account: PositiveInt = 5
    """Failed sign-ins per account in 15 minutes before it is throttled."""
    max_failures_per_address: PositiveInt = 20
    """Failed sign-ins per client address in 15 minutes before it is throttled."""
    users: list[UserConfig] = []
    """Supervisors, editors and admins (desk agents are under handoff.agents and get the agent role)."""
