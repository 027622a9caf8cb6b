"""The people who sign in: ids, names, roles and password hashes, from config.yml and a private file.

Three sources, merged by user id (roles add up):
- ``helpline: auth: users:`` in config.yml: ``{id, name, roles: [...], password_hash}``;
- ``helpline: handoff: agents:``: every desk agent is a user with the ``agent`` role;
- ``HELPLINE_USERS_FILE``: a YAML list in the same form, kept outside git (production passwords).

config.yml never holds a password, only hashes (``helpline desk hash-password`` prints one); a plain
``password:`` is refused when the config is validated (``helpline.security.config``). The demo's users share one well-known password, so ``demo_users`` finds
them and ``helpline run`` refuses to serve them on anything but a loopback address.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config_model import ConfigModel, validate_section
from bot.security.passwords import verify_password
from bot.security.principal import AGENT
from bot.training_data.yaml_reader import read_yaml_file
from helpline.security.config import UserConfig

if TYPE_CHECKING:
    from helpline.config_schema import HelplineConfig

DEMO_PASSWORDS = ("northwind",)


class UsersFile(ConfigModel):
    users: list[UserConfig]

@dataclass(frozen=True)
class User:
    id: str
    name: str
    roles: frozenset[str]
    password_hash: str | None


class UserDirectory:
    def __init__(self, users: dict[str, User]):
        self.users = users

    def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    @classmethod
    def from_config(cls, config: "HelplineConfig", users_file: str | None = None) -> "UserDirectory":
        merged: dict[str, User] = {}
        for item in config.auth.users:
            _add(merged, User(item.id, item.name or item.id, frozenset(item.roles), item.password_hash))
        for item in config.handoff.agents:
            _add(merged, User(item.id, item.name or item.id, frozenset({AGENT}), item.password_hash))
        path = users_file if users_file is not None else os.environ.get("HELPLINE_USERS_FILE")
        if path:
            for item in _read_users_file(Path(path)):
                _add(merged, User(item.id, item.name or item.id, frozenset(item.roles), item.password_hash))
        return cls(merged)


def demo_users(directory: UserDirectory) -> list[str]:
    """Users whose password is one of the demo's published passwords."""
    return sorted(user.id for user in directory.users.values() if user.password_hash
                  and any(verify_password(user.password_hash, password) for password in DEMO_PASSWORDS))


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _read_users_file(path: Path) -> list[UserConfig]:
    """``HELPLINE_USERS_FILE``: a YAML list of users, validated like ``auth.users`` (errors name file and line)."""
    return validate_section(UsersFile, {"users": read_yaml_file(path) or []}, path, "").users


def _add(users: dict[str, User], user: User) -> None:
    known = users.get(user.id)
    if known is None:
        users[user.id] = user
        return
    users[user.id] = User(user.id, known.name or user.name, known.roles | user.roles,
                          user.password_hash or known.password_hash)
