"""``helpline models``, ``helpline backup`` and ``helpline restore``: operating a deployment from the shell."""
from __future__ import annotations

import asyncio
import getpass
import sys
import time
from pathlib import Path


def _settings(args):
    from bot.training_data.project import load_project
    from helpline.settings import load_settings

    project = load_project(Path(args.project))
    return project, load_settings(Path(args.project), project.config)


def _cell_tests(results: dict) -> str:
    tests = results.get("tests")
    return f"{tests['passed']}/{tests['total']}" if tests else "-"


def _cell_validation(results: dict) -> str:
    validation = results.get("validation")
    return f"{validation['errors']}e {validation['warnings']}w" if validation else "-"


def _cell_change(version) -> str:
    change = version.results.get("change")
    if change and change.get("kind") == "example":
        return f"{change['by']}: \"{change['text']}\" -> {change['intent']}"
    return version.source


def models_list(args) -> None:
    from bot.model_registry import ModelRegistry

    _, settings = _settings(args)
    registry = ModelRegistry(settings.models_dir)
    versions = registry.versions()
    if not versions:
        sys.exit(f"no model versions in {settings.models_dir} (helpline train makes one)")
    active = registry.active
    print(f"{'':2}{'VERSION':34}{'TRAINED':18}{'VALID':9}{'TRAIN':9}{'TESTS':8}CHANGE / STATUS")
    for v in versions:
        training = v.results.get("training") or {}
        status = "  active" + (" (rolled back)" if registry.pinned else "") if v.version == active else ""
        status += f"  refused: {v.refused}" if v.refused else ""
        print(f"{'*' if v.version == active else ' ':2}{v.version:34}"
              f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(v.trained_at)):18}{_cell_validation(v.results):9}"
              f"{str(training.get('seconds', '-')) + ' s':9}{_cell_tests(v.results):8}{_cell_change(v)}{status}")
    print(f"{len(versions)} version(s) in {settings.models_dir}; the newest {settings.models_keep} are kept")


def models_rollback(args) -> None:
    """Check the chosen version loads, make it the active one; running servers switch to it."""
    from bot.model_archive import load
    from bot.model_registry import ModelRegistry
    from helpline.model_sync import RedisChannel, shared_store_url
    from helpline.security.audit import AuditLog
    from helpline.security.secrets import load_secrets

    _, settings = _settings(args)
    registry = ModelRegistry(settings.models_dir)
    target = args.version or registry.previous()
    if target is None:
        sys.exit("error: there is no earlier version to roll back to (helpline models list)")
    entry = registry.get(target)
    if entry is None:
        sys.exit(f"error: no model version {target} in {settings.models_dir} (helpline models list)")
    load(registry.archive_path(entry), load_secrets(settings.data_dir).secret_key)  # refuses a damaged one
    who = f"cli:{getpass.getuser()}"
    registry.set_active(target, who, pinned=True)
    store = shared_store_url(settings)
    if store and store.startswith("redis://"):
        asyncio.run(_publish(RedisChannel(store, settings.redis_prefix), target))
    AuditLog(settings.data_dir / "audit.log").record("model_activated", who, "cli", version=target, route="rollback")
    print(f"active: {target}; running servers switch to it within seconds")


async def _publish(channel, version: str) -> None:
    try:
        await channel.publish(version)
    finally:
        await channel.close()


def models_sign(args) -> None:
    """Write ARCHIVE.sig: PUT /model then accepts the archive from outside the models folder."""
    from bot.model_registry import MAX_ARCHIVE_BYTES, read_regular_file, signature, signature_file
    from helpline.security.secrets import load_secrets

    _, settings = _settings(args)
    archive = Path(args.archive)
    data = read_regular_file(archive, MAX_ARCHIVE_BYTES)
    if data is None:
        sys.exit(f"error: {archive} is not a readable archive")
    signature_file(archive).write_text(signature(data, load_secrets(settings.data_dir).secret_key) + "\n")
    print(f"signed: {signature_file(archive)}")


def cmd_models(args) -> None:
    {"list": models_list, "rollback": models_rollback, "sign": models_sign}[args.action](args)


def cmd_backup(args) -> None:
    from helpline.backup import BackupError, backup

    try:
        manifest = backup(Path(args.project), Path(args.dest), lambda line: print(f"  {line}", file=sys.stderr))
    except BackupError as error:
        sys.exit(f"error: {error}")
    print(f"backed up {len(manifest['files'])} files to {args.dest} (active model {manifest['active_model']})")
    for note in manifest["not_included"]:
        print(f"not included: {note}")


def cmd_restore(args) -> None:
    from helpline.backup import BackupError, restore

    try:
        result = restore(Path(args.source), Path(args.to))
    except BackupError as error:
        sys.exit(f"error: {error}")
    print(f"restored into {args.to}: stores in {result['data_dir']}, models in {result['models_dir']} "
          f"(active {result['active_model']})")
    for note in result["not_included"]:
        print(f"was not in the backup: {note}")
    print(f"serve it with: helpline --project {args.to} run")


def add_commands(commands) -> None:
    models = commands.add_parser("models", help="model versions: list, rollback [VERSION], sign ARCHIVE")
    actions = models.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the versions kept, with validation, training and test-story results")
    rollback = actions.add_parser("rollback", help="serve an earlier version (default: the one before)")
    rollback.add_argument("version", nargs="?")
    sign = actions.add_parser("sign", help="sign an archive with this server's key, for PUT /model")
    sign.add_argument("archive")
    models.set_defaults(func=cmd_models)
    backup = commands.add_parser("backup", help="copy the stores, model versions and content into a new folder")
    backup.add_argument("dest")
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser("restore", help="restore a backup into a fresh project folder")
    restore.add_argument("source")
    restore.add_argument("--to", required=True, help="a new or empty folder")
    restore.set_defaults(func=cmd_restore)
