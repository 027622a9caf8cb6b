"""The model versions of a models folder: each archive's sha256, its results, and which one serves.

``registry.json`` lies beside the archives. Training records an archive's sha256 the moment it is
written, and :func:`bot.model_archive.load` refuses an archive whose bytes do not hash to what its
folder's registry recorded (or that carries no valid signature): a file dropped into the folder, or
an archive changed after training, is never unpacked. Each version keeps its validation, training
and test-story results, so editors and operators can compare versions and roll back.

Several processes share one folder (servers, ``helpline models``): writers hold an exclusive
``fcntl`` lock on ``registry.lock`` and replace the file atomically, so readers never see half a file.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import stat
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

REGISTRY_FILE = "registry.json"
LOCK_FILE = "registry.lock"
ARCHIVE_SUFFIX = ".tar.gz"
SIGNATURE_SUFFIX = ".sig"
MAX_ARCHIVE_BYTES = 2 * 1024 ** 3
MAX_SIGNATURE_BYTES = 1024
HISTORY_KEPT = 50
_SIGNED_CONTEXT = b"helpline model archive\x00"


class RegistryError(Exception):
    """The registry file cannot be read or names a version that is not there."""


@dataclass
class ModelVersion:
    """One archive: what it is, what it was trained from, and how it did."""

    version: str
    file: str
    sha256: str
    fingerprint: str
    trained_at: float
    source: str = "train"
    results: dict = field(default_factory=dict)  # validation, training, tests, change
    refused: str | None = None                   # why it was not swapped in (e.g. a test story it breaks)

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature(data: bytes, key: str) -> str:
    """HMAC-SHA256 of the archive's digest under the server's secret key (``helpline models sign``)."""
    return hmac.new(key.encode(), _SIGNED_CONTEXT + hashlib.sha256(data).digest(), hashlib.sha256).hexdigest()


def signature_file(archive: Path) -> Path:
    return archive.with_name(archive.name + SIGNATURE_SUFFIX)


def read_regular_file(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file no larger than ``limit``; None for anything else (missing, device, too big)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the reader
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return handle.read(limit + 1)[:limit]


def has_valid_signature(archive: Path, data: bytes, key: str | None) -> bool:
    if not key:
        return False
    sent = read_regular_file(signature_file(archive), MAX_SIGNATURE_BYTES)
    if sent is None:
        return False
    return hmac.compare_digest(sent.decode("ascii", "replace").strip(), signature(data, key))


class ModelRegistry:
    def __init__(self, models_dir: Path):
        self.models_dir = Path(models_dir)
        self.path = self.models_dir / REGISTRY_FILE

    # --- reading ------------------------------------------------------------------------------

    def read(self) -> dict:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return _empty()
        except OSError as error:
            raise RegistryError(f"{self.path}: cannot be read ({error})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RegistryError(f"{self.path}:{error.lineno}: not valid JSON ({error.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("versions"), dict):
            raise RegistryError(f"{self.path}: not a Helpline model registry")
        return data

    def versions(self) -> list[ModelVersion]:
        """Newest first."""
        data = self.read()
        entries = [_version(name, raw) for name, raw in data["versions"].items()]
        return sorted(entries, key=lambda v: (v.trained_at, v.version), reverse=True)

    def get(self, version: str) -> ModelVersion | None:
        raw = self.read()["versions"].get(version)
        return _version(version, raw) if isinstance(raw, dict) else None

    def by_file(self, name: str) -> ModelVersion | None:
        return next((v for v in self.versions() if v.file == name), None)

    @property
    def active(self) -> str | None:
        return self.read().get("active")

    @property
    def pinned(self) -> bool:
        """True when an operator or editor chose the active version (a rollback), rather than training."""
        return bool(self.read().get("pinned"))

    def history(self) -> list[dict]:
        return list(self.read().get("history") or [])

    def archive_path(self, entry: ModelVersion) -> Path:
        return self.models_dir / entry.file

    def previous(self) -> str | None:
        """The version that served before the active one (what a rollback without a version returns to)."""
        data = self.read()
        active = data.get("active")
        for item in reversed(data.get("history") or []):
            if item.get("version") not in (None, active) and item["version"] in data["versions"]:
                return item["version"]
        older = [v for v in self.versions() if v.version != active and not v.refused]
        current = data["versions"].get(active) or {}
        older = [v for v in older if v.trained_at <= current.get("trained_at", float("inf"))]
        return older[0].version if older else None

    def verify(self, archive: Path, data: bytes) -> ModelVersion | None:
        """The entry of ``archive`` (by file name) if ``data`` hashes to what training recorded."""
        entry = self.by_file(archive.name)
        if entry is None or not hmac.compare_digest(entry.sha256, sha256_of(data)):
            return None
        return entry

    def locate(self, requested: str) -> ModelVersion | None:
        """A registered version named by a request: its version, its file name, or a path to it.

        The path is resolved (symlinks followed, ``..`` removed) and must be a file directly in the
        models folder. Anything else is None, whether missing, outside or unknown: a caller cannot
        tell which.
        """
        if not requested or "\x00" in requested:
            return None
        entry = self.get(requested)
        if entry is not None:
            return entry
        candidate = Path(requested)
        if not candidate.is_absolute():
            candidate = self.models_dir / candidate
        try:
            resolved = candidate.resolve(strict=True)
            folder = self.models_dir.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if resolved.parent != folder:
            return None
        return self.by_file(resolved.name)

    # --- writing ------------------------------------------------------------------------------

    @contextmanager
    def _update(self) -> Iterator[dict]:
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with open(self.models_dir / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.read()
            yield data
            partial = self.path.with_name(f".{REGISTRY_FILE}.{os.getpid()}.partial")
            partial.write_text(json.dumps(data, indent=1, sort_keys=True))
            os.replace(partial, self.path)

    def add(self, archive: Path, fingerprint: str, trained_at: float, source: str = "train",
            results: dict | None = None) -> ModelVersion:
        """Record an archive lying in the models folder: its sha256 from its bytes now."""
        archive = Path(archive)
        if archive.parent.resolve() != self.models_dir.resolve():
            raise RegistryError(f"{archive}: only archives in {self.models_dir} can be registered")
        entry = ModelVersion(version=archive.name.removesuffix(ARCHIVE_SUFFIX), file=archive.name,
                             sha256=sha256_of(archive.read_bytes()), fingerprint=fingerprint,
                             trained_at=trained_at, source=source, results=dict(results or {}))
        with self._update() as data:
            data["versions"][entry.version] = _stored(entry)
        return entry

    def update(self, version: str, refused: str | None = None, **results) -> ModelVersion:
        """Add results (``tests=...``, ``validation=...``) or a refusal to a version."""
        with self._update() as data:
            raw = data["versions"].get(version)
            if raw is None:
                raise RegistryError(f"no model version {version} in {self.path}")
            raw.setdefault("results", {}).update(results)
            if refused is not None:
                raw["refused"] = refused
        return _version(version, raw)

    def set_active(self, version: str, who: str, pinned: bool = False) -> None:
        with self._update() as data:
            if version not in data["versions"]:
                raise RegistryError(f"no model version {version} in {self.path}")
            if data.get("active") != version:
                data["history"] = [*(data.get("history") or []),
                                   {"version": version, "at": round(time.time(), 3), "by": who}][-HISTORY_KEPT:]
            data["active"] = version
            data["pinned"] = pinned

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest versions beyond ``keep`` (never the active one); returns the versions removed."""
        removed: list[str] = []
        with self._update() as data:
            entries = sorted(data["versions"].items(), key=lambda kv: (kv[1]["trained_at"], kv[0]), reverse=True)
            for name, raw in entries[max(keep, 1):]:
                if name == data.get("active"):
                    continue
                (self.models_dir / raw["file"]).unlink(missing_ok=True)
                signature_file(self.models_dir / raw["file"]).unlink(missing_ok=True)
                del data["versions"][name]
                removed.append(name)
        return removed


def _empty() -> dict:
    return {"format": 1, "active": None, "pinned": False, "history": [], "versions": {}}


def _stored(entry: ModelVersion) -> dict:
    raw = entry.as_dict()
    del raw["version"]
    return raw


def _version(name: str, raw: dict) -> ModelVersion:
    try:
        return ModelVersion(version=name, **raw)
    except TypeError as error:
        raise RegistryError(f"model version {name} in the registry is malformed ({error})") from None
