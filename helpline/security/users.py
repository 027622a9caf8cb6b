"""The people who sign in: ids, names, roles and password hashes, from config.yml and a private file.

Three sources, merged by user id (roles add up):
- ``helpline: auth: users:`` in config.yml: ``{id, name, roles: [...], password_hash}``;
- ``helpline: handoff: agents:``: every desk agent is a user with the ``agent`` role;
- ``HELPLINE_USERS_FILE``: a YAML list in the same form, kept outside git (production passwords).

config.yml never holds a password, only hashes (``helpline desk hash-password`` prints one); a plain
``password:`` is refused. The demo's users share one well-known password, so ``demo_users`` finds
them and ``helpline run`` refuses to serve them on anything but a loopback address.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from bot.security.passwords import check_hash, verify_password
from bot.security.principal import AGENT, STAFF_ROLES
from bot.training_data.yaml_reader import TrainingDataError, read_yaml_file

DEMO_PASSWORDS = ("northwind",)
USER_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class UserConfigError(ValueError):
    pass


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
    def from_config(cls, helpline_config: dict, users_file: str | None = None) -> "UserDirectory":
        merged: dict[str, User] = {}
        auth = helpline_config.get("auth") or {}
        for index, item in enumerate(auth.get("users") or []):
            _add(merged, _user(item, f"helpline.auth.users[{index}]"))
        for index, item in enumerate((helpline_config.get("handoff") or {}).get("agents") or []):
            _add(merged, _user({**item, "roles": [AGENT]}, f"helpline.handoff.agents[{index}]"))
        path = users_file if users_file is not None else os.environ.get("HELPLINE_USERS_FILE")
        if path:
            try:
                items = read_yaml_file(Path(path)) or []
            except TrainingDataError as error:
                raise UserConfigError(f"HELPLINE_USERS_FILE: {error}") from None
            if not isinstance(items, list):
                raise UserConfigError(f"{path}: a list of users ({{id, name, roles, password_hash}}) is expected")
            for index, item in enumerate(items):
                _add(merged, _user(item, f"{path}[{index}]"))
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


def _user(item, where: str) -> User:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not USER_ID.match(item["id"]):
        raise UserConfigError(f"{where}: needs an 'id' of letters, digits, '.', '_', '@' or '-' (at most 64)")
    if "password" in item:
        raise UserConfigError(f"{where} ({item['id']}): a plain 'password' is not accepted; put the output of "
                              "`helpline desk hash-password` in 'password_hash', or keep users in HELPLINE_USERS_FILE")
    roles = item.get("roles") or []
    if not isinstance(roles, list) or not roles or any(r not in STAFF_ROLES for r in roles):
        raise UserConfigError(f"{where} ({item['id']}): 'roles' must list some of {list(STAFF_ROLES)}")
    password_hash = item.get("password_hash")
    if password_hash is not None:
        try:
            check_hash(str(password_hash))
        except ValueError as error:
            raise UserConfigError(f"{where} ({item['id']}): {error}") from None
    return User(item["id"], str(item.get("name") or item["id"]), frozenset(roles),
                str(password_hash) if password_hash else None)


def _add(users: dict[str, User], user: User) -> None:
    known = users.get(user.id)
    if known is None:
        users[user.id] = user
        return
    users[user.id] = User(user.id, known.name or user.name, known.roles | user.roles,
                          user.password_hash or known.password_hash)
