"""Rasa's ``endpoints.yml``: the action server, the tracker store and the lock store, read as Rasa reads them.

    action_endpoint: {url: http://localhost:5055/webhook}
    tracker_store: {type: SQL, dialect: postgresql, url: db.example.com, port: 5432, db: rasa,
                    username: rasa, password: ${DB_PASSWORD}, query: {sslmode: require}}
    lock_store: {type: redis, url: redis.example.com, port: 6379, db: 1, password: ..., key_prefix: helpline}

``${VAR}`` in any string is the environment's, as in Rasa. Each store comes out as one URL
(``postgresql://...``, ``sqlite:///...``, ``redis://...``) for the store factories; a type Helpline
does not have is an error naming the file and line.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from bot.training_data.yaml_reader import TrainingDataError, read_yaml_file

_PREFIX = re.compile(r"^[A-Za-z0-9]*$")  # Rasa: the lock store's key prefix is alphanumeric


@dataclass
class Endpoints:
    action_url: str | None = None
    tracker_store: str | None = None  # a URL for bot.core.tracker_store.create_tracker_store
    lock_store: str | None = None  # a URL for bot.core.lock_store.create_lock_store
    lock_key_prefix: str = ""


def read_endpoints(path: Path) -> Endpoints:
    if not path.exists():
        return Endpoints()
    data = read_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise TrainingDataError("endpoints.yml must be a mapping", path)
    endpoints = Endpoints()
    action = data.get("action_endpoint")
    if action is not None:
        if not isinstance(action, dict) or not isinstance(action.get("url"), str):
            raise TrainingDataError("action_endpoint needs a 'url'", path, getattr(action, "line", None))
        endpoints.action_url = os.path.expandvars(action["url"])
    tracker = data.get("tracker_store")
    if tracker is not None:
        endpoints.tracker_store = _tracker_store_url(_section(tracker, "tracker_store", path), path)
    lock = data.get("lock_store")
    if lock is not None:
        section = _section(lock, "lock_store", path)
        endpoints.lock_store, endpoints.lock_key_prefix = _lock_store_url(section, path)
    return endpoints


def _section(value, name: str, path: Path) -> dict:
    if not isinstance(value, dict):
        raise TrainingDataError(f"{name} must be a mapping with a 'type'", path, getattr(value, "line", None))
    section = {key: os.path.expandvars(item) if isinstance(item, str) else item for key, item in value.items()}
    section["_line"] = getattr(value, "line", None)
    return section


def _tracker_store_url(section: dict, path: Path) -> str | None:
    kind = str(section.get("type") or "").lower()
    if kind in ("", "memory", "in_memory", "inmemory"):
        return "memory"
    if kind != "sql":
        raise TrainingDataError(f"tracker_store type '{section.get('type')}' is not supported: use SQL "
                                "(dialect postgresql or sqlite) or memory", path, section["_line"])
    dialect = str(section.get("dialect") or "sqlite").lower().split("+")[0]
    if dialect == "sqlite":
        return f"sqlite:///{section.get('db') or 'rasa.db'}"
    if dialect not in ("postgresql", "postgres"):
        raise TrainingDataError(f"tracker_store dialect '{dialect}' is not supported: use postgresql or sqlite",
                                path, section["_line"])
    user = section.get("username")
    auth = ""
    if user:
        password = section.get("password")
        auth = quote(str(user), safe="") + (f":{quote(str(password), safe='')}" if password else "") + "@"
    host = section.get("url") or "localhost"
    port = f":{section['port']}" if section.get("port") else ""
    query = section.get("query") or {}
    suffix = f"?{urlencode(query)}" if isinstance(query, dict) and query else ""
    return f"postgresql://{auth}{host}{port}/{quote(str(section.get('db') or 'rasa'), safe='')}{suffix}"


def _lock_store_url(section: dict, path: Path) -> tuple[str | None, str]:
    kind = str(section.get("type") or "").lower()
    if kind in ("", "in_memory", "memory", "inmemory"):
        return None, ""
    if kind not in ("redis", "concurrent_redis"):
        raise TrainingDataError(f"lock_store type '{section.get('type')}' is not supported: use redis or in_memory",
                                path, section["_line"])
    prefix = str(section.get("key_prefix") or "")
    if not _PREFIX.match(prefix):
        raise TrainingDataError(f"lock_store key_prefix '{prefix}' must be alphanumeric", path, section["_line"])
    host = str(section.get("url") or "localhost")
    if host.startswith(("redis://", "rediss://")):
        return host, prefix
    password = section.get("password")
    auth = f":{quote(str(password), safe='')}@" if password else ""
    scheme = "rediss" if section.get("use_ssl") else "redis"
    return f"{scheme}://{auth}{host}:{section.get('port') or 6379}/{section.get('db', 1)}", prefix
