"""``helpline backup`` and ``helpline restore``: a consistent copy of a deployment, restorable into a fresh folder.

A backup holds:

- the SQLite stores in ``data_dir`` (conversations, queues and call records, sessions, the demo CRM),
  each copied with SQLite's online backup API, so the copy is consistent while a server writes;
- the server's ``secrets.json`` (restored servers verify the same signatures and voice tokens) and
  the audit log;
- every model version of the registry, with the registry (each archive checked against its recorded
  sha256 as it is copied), and the knowledge index;
- the project's content (config, endpoints, domain, training data, test stories, knowledge articles),
  so that the restored folder is a project ``helpline --project FOLDER run`` serves as it was.

It does not hold a PostgreSQL tracker store (use ``pg_dump``), Redis, call recordings or voicemail
(``not_included`` in the manifest lists what was left). Every
file's sha256 is in ``backup.json`` and checked before a restore writes anything. A backup folder
holds secrets and callers' conversations: it is created readable by its owner only.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

from bot.config import load_config
from bot.knowledge.base import INDEX_FOLDER
from bot.model_registry import REGISTRY_FILE, ModelRegistry, sha256_of
from bot.training_data.project import BotProject, load_project
from helpline.config_schema import load_helpline_config
from helpline.settings import Settings, load_settings

MANIFEST = "backup.json"
PRIVATE_FILES = ("secrets.json", "audit.log")
Say = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore cannot go on; nothing was left half-written in the target."""


def _fresh_folder(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} exists and is not an empty folder: choose a new one")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent snapshot of a live database (SQLite's backup API), as one self-contained file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source, timeout=30), sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def content_files(project: BotProject, settings: Settings) -> tuple[list[Path], list[str]]:
    """The project's content files (inside its folder), and what lies outside and is left out."""
    root = project.root.resolve()
    wanted = [project.config.path, root / "endpoints.yml", *project.domain_files, *project.data_files,
              *project.test_story_files()]
    knowledge = root / settings.config.knowledge.folder
    if knowledge.is_dir():
        wanted += sorted(p for p in knowledge.rglob("*") if p.is_file())
    inside, outside = [], []
    for path in dict.fromkeys(Path(p).resolve() for p in wanted):
        if not path.exists():
            continue
        (inside if path.is_relative_to(root) else outside).append(path)
    return inside, [str(p) for p in outside]


def backup(project_root: Path, dest: Path, say: Say = lambda _: None) -> dict:
    project = load_project(project_root)
    settings = load_settings(project_root, project.config)
    _fresh_folder(dest)
    files: dict[str, str] = {}

    def record(relative: str) -> None:
        files[relative] = _file_sha256(dest / relative)

    root = project.root.resolve()
    content, outside = content_files(project, settings)
    say(f"content: {len(content)} files")
    for path in content:
        relative = f"project/{path.relative_to(root).as_posix()}"
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / relative)
        record(relative)
    stores = sorted(settings.data_dir.glob("*.sqlite3")) if settings.data_dir.is_dir() else []
    for store in stores:
        say(f"store: {store.name}")
        copy_sqlite(store, dest / "data" / store.name)
        record(f"data/{store.name}")
    for name in PRIVATE_FILES:
        if (settings.data_dir / name).is_file():
            _copy_private(settings.data_dir / name, dest / "data" / name)
            record(f"data/{name}")
    active, skipped = _copy_models(settings, dest, record, say)
    manifest = {"format": 1, "created_at": time.time(), "helpline": _version(), "project": str(root),
                "active_model": active, "files": files,
                "not_included": [*outside, *skipped, *_not_included(settings)]}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def _copy_models(settings: Settings, dest: Path, record, say: Say) -> tuple[str | None, list[str]]:
    """Every registered archive whose bytes still match the registry, the registry, the knowledge index."""
    registry = ModelRegistry(settings.models_dir)
    snapshot = registry.read()
    skipped = []
    (dest / "models").mkdir(parents=True, exist_ok=True)
    for version, entry in list(snapshot["versions"].items()):
        source = settings.models_dir / entry["file"]
        data = source.read_bytes() if source.is_file() else None
        if data is None or sha256_of(data) != entry["sha256"]:
            skipped.append(f"model version {version} (its archive is missing or changed since it was trained)")
            del snapshot["versions"][version]
            continue
        say(f"model: {version}")
        (dest / "models" / entry["file"]).write_bytes(data)
        record(f"models/{entry['file']}")
    if snapshot.get("active") not in snapshot["versions"]:
        snapshot["active"] = None
    (dest / "models" / REGISTRY_FILE).write_text(json.dumps(snapshot, indent=1, sort_keys=True))
    record(f"models/{REGISTRY_FILE}")
    index = settings.models_dir / INDEX_FOLDER
    if index.is_dir():
        for path in sorted(p for p in index.rglob("*") if p.is_file() and not p.name.endswith(".partial")):
            relative = f"models/{path.relative_to(settings.models_dir).as_posix()}"
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / relative)
            record(relative)
    return snapshot["active"], skipped


def _not_included(settings: Settings) -> list[str]:
    notes = []
    store = settings.tracker_store or "sqlite"
    if store.startswith(("postgresql://", "postgres://")):
        notes.append("the PostgreSQL tracker store (back it up with pg_dump)")
    elif store.startswith("sqlite:///") and Path(store[len("sqlite:///"):]).resolve().parent != \
            settings.data_dir.resolve():
        notes.append(f"the tracker store outside data_dir ({store[len('sqlite:///'):]})")
    if settings.data_dir.is_dir():
        for entry in sorted(settings.data_dir.iterdir()):
            copied = entry.suffix == ".sqlite3" or entry.name in PRIVATE_FILES
            sqlite_side_file = entry.name.endswith((".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal"))
            if not copied and not sqlite_side_file:
                notes.append(f"{entry} (recordings and voicemail are not backed up)" if entry.is_dir() else str(entry))
    return notes


def _copy_private(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(source.read_bytes())


def _version() -> str:
    try:
        return metadata.version("helpline")
    except metadata.PackageNotFoundError:
        return "unknown"


def restore(source: Path, to: Path, say: Say = lambda _: None) -> dict:
    """Check every file of the backup, then lay it out in ``to`` as a project with its stores and models."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{source}: not a Helpline backup ({MANIFEST} unreadable: {error})") from None
    for relative, digest in files.items():
        path = source / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts or relative.split("/")[0] not in (
                "project", "data", "models"):
            raise BackupError(f"{source / MANIFEST}: refuses the path {relative!r}")
        if not path.is_file() or _file_sha256(path) != digest:
            raise BackupError(f"{path}: missing or changed since the backup (sha256 differs); nothing was restored")
    _fresh_folder(to)
    for relative in files:
        if relative.startswith("project/"):
            _place(source / relative, to / relative.removeprefix("project/"))
    config = load_helpline_config(load_config(to / "config.yml"))  # as written: HELPLINE_* do not move a restore
    data_dir = _inside(to, config.data_dir, ".helpline")
    models_dir = _inside(to, config.models_dir, "models")
    for relative in files:
        top, _, rest = relative.partition("/")
        if top == "data":
            target = data_dir / rest
            if rest in PRIVATE_FILES:
                _copy_private(source / relative, target)
            else:
                _place(source / relative, target)
        elif top == "models":
            _place(source / relative, models_dir / rest)
        say(f"restored {relative}")
    return {"data_dir": str(data_dir), "models_dir": str(models_dir), "active_model": manifest.get("active_model"),
            "not_included": manifest.get("not_included", [])}


def _inside(root: Path, configured: str, default: str) -> Path:
    """The configured folder under the restored project; an absolute one is replaced by the default name."""
    path = Path(str(configured))
    return root / (default if path.is_absolute() or ".." in path.parts else path)


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
