"""``helpline validate``, ``train``, ``run``, ``shell`` and ``test``: from a project's content to a served bot.

These commands check the content, train it into a model, serve that model, chat
with it in the terminal and run the test stories against it; each one that needs
a model trains the current content first when no model matches it.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from bot.progress import StageProgress


def _project(args):
    """The bot project named by ``--project`` (loaded lazily: importing torch takes seconds)."""
    from bot.training_data.project import load_project

    return load_project(Path(args.project))


def _show_findings(report) -> None:
    """Warnings and notes of content that is good enough to train (on stderr, like compilers)."""
    for issue in [*report.warnings, *report.notes]:
        print(issue, file=sys.stderr)


def cmd_validate(args) -> None:
    from bot.config_model import ConfigError
    from bot.validation import ERROR, Issue, validate_project

    project = _project(args)
    report = validate_project(project)
    try:
        _add_knowledge_issues(project, args, report)
    except ConfigError as error:  # config.yml's helpline: section
        for problem in error.problems:
            report.add(Issue(ERROR, problem.message, problem.path or "config.yml", problem.line))
    for issue in [*report.errors, *report.warnings, *report.notes]:
        print(issue)
    print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    sys.exit(0 if report.ok else 1)


def cmd_train(args) -> None:
    from bot.model_registry import ModelRegistry
    from bot.model_training import train_version
    from bot.validation import require_valid
    from helpline.settings import load_settings

    project = _project(args)
    report = require_valid(project)
    _show_findings(report)
    settings = load_settings(Path(args.project), project.config)
    started = time.time()
    progress = StageProgress()
    models_dir = Path(args.out) if args.out else settings.models_dir
    entry, _ = train_version(project, models_dir, progress, report=report)
    progress.close()
    registry = ModelRegistry(models_dir)
    tests = entry.results["tests"]
    print(f"trained {registry.archive_path(entry)} in {time.time() - started:.1f} s; "
          f"test stories {tests['passed']}/{tests['total']} passed")
    removed = registry.prune(settings.models_keep)
    if removed:
        print(f"removed {len(removed)} old version(s) (models_keep: {settings.models_keep})")


def _model_for(project, settings, model: str | None) -> Path:
    """``--model`` as given, else the model of the current content: validated (refused when invalid) and
    trained if needed, the same for ``test``, ``run`` and ``shell`` as for ``train``."""
    from helpline.app import ensure_model

    if model:
        return Path(model)
    progress = StageProgress()
    archive = ensure_model(project, settings, progress, report_to=_show_findings)
    progress.close()
    return archive


def cmd_run(args) -> None:
    from aiohttp import web

    from helpline.app import build_app
    from helpline.metrics import prepare_multiprocess
    from helpline.security.secrets import load_secrets
    from helpline.settings import load_settings
    from helpline.workers import (
        SingleProcessLock, StoresInUse, Supervisor, apply_worker_slot, check_shared_stores, worker_argv, worker_slot,
    )

    project = _project(args)
    settings = load_settings(Path(args.project), project.config)
    host, port = args.host or settings.host, args.port or settings.port
    _refuse_demo_users_off_loopback(settings.config, host)
    slot = worker_slot()
    if args.workers > 1:
        refusal = check_shared_stores(settings)
        if refusal:
            sys.exit(f"error: {refusal}")
        model = _model_for(project, settings, args.model)  # trained once, here, not by every worker
        load_secrets(settings.data_dir)  # made once, here: every worker must sign and check with the same ones
        prepare_multiprocess(settings.data_dir / "metrics")  # /metrics adds up every worker's values
        print(f"Helpline is answering on http://{host}:{port} with {args.workers} workers", flush=True)
        sys.exit(Supervisor(worker_argv(args, model), args.workers).run())
    if slot is not None:
        apply_worker_slot(settings, *slot)
    elif settings.sqlite_stores():
        try:
            lock = SingleProcessLock(settings.data_dir, settings.sqlite_stores())
        except StoresInUse as error:
            sys.exit(f"error: {error}")
    model = _model_for(project, settings, args.model)
    app = build_app(Path(args.project), model, watch=args.watch, preload_voice=True, settings=settings,
                    reuse_port=slot is not None)
    if slot is None:
        print(f"Helpline is answering on http://{host}:{port} (health: http://{host}:{port}/health, "
              f"chat: POST http://{host}:{port}/webhooks/rest/webhook)", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None, reuse_port=slot is not None)
    if slot is None and settings.sqlite_stores():
        lock.release()


def _refuse_demo_users_off_loopback(config, host: str) -> None:
    """The demo's users share a published password: serve them on loopback only."""
    from helpline.security.users import UserDirectory, demo_users, is_loopback

    if is_loopback(host):
        return
    demo = demo_users(UserDirectory.from_config(config))
    if demo:
        sys.exit(f"error: refusing to serve on {host}: users {', '.join(demo)} still have the demo password. "
                 "Give them their own (helpline desk hash-password) or remove them; see README, Security.")


def cmd_shell(args) -> None:
    from bot.core.processor import UserMessage
    from bot.model_archive import load
    from helpline.app import build_processor, configure_crm, configure_lockout, open_knowledge
    from helpline.security.secrets import load_secrets
    from helpline.settings import load_settings

    project = _project(args)
    settings = load_settings(Path(args.project), project.config)
    settings.tracker_store = "memory"
    configure_crm(settings)
    configure_lockout(settings, os.environ.get("HELPLINE_HANDOFF_STORE", settings.config.handoff.store))
    model = load(_model_for(project, settings, None), load_secrets(settings.data_dir).secret_key)
    processor = build_processor(model, settings)
    open_knowledge(Path(args.project), project, settings)
    sender = f"shell-{os.getpid()}"
    print("Type a message (Ctrl-D to quit). Keypad input: /inform{\"digits\": \"1234\"}")

    async def chat() -> None:
        while True:
            try:
                text = input("you> ").strip()
            except EOFError:
                return
            if text:
                for reply in await processor.handle_message(UserMessage(text, sender, "shell")):
                    print(f"bot> {reply.get('text', reply)}")

    asyncio.run(chat())


def cmd_test(args) -> None:
    if args.target == "nlu":
        return _test_nlu(args)
    from bot.model_archive import load
    from bot.testing.action_check import ActionChecker
    from bot.testing.results import write_results
    from bot.testing.story_test import StoryTester, load_test_stories
    from helpline.app import build_action_runner
    from helpline.security.secrets import load_secrets
    from helpline.settings import load_settings

    project = _project(args)
    settings = load_settings(Path(args.project), project.config)
    model = load(_model_for(project, settings, args.model), load_secrets(settings.data_dir).secret_key)
    files = [Path(args.stories)] if args.stories else project.test_story_files()
    stories = load_test_stories(files)
    if not stories:
        sys.exit(f"no test stories found in {[str(f) for f in files] or 'tests/'}")
    actions = ActionChecker(model.domain, build_action_runner(settings)) if args.run_actions else None
    tester = StoryTester(model.domain, model.ensemble, model.interpreter, project.data.nlu.entity_names, actions)
    bar = tqdm(total=len(stories), desc="test stories", file=sys.stderr, leave=False)
    try:
        report = tester.run(stories, lambda done, total: bar.update(1))
    finally:
        bar.close()
        if actions is not None:
            actions.close()
    for result in report.results:
        print(result.describe())
    print(f"{report.passed}/{len(report.results)} test stories passed ({report.pass_rate:.1%})")
    try:
        written = write_results(report, Path(args.results))
        print(f"results: {', '.join(str(p) for p in written)}")
    except OSError as error:
        print(f"warning: could not write the result files into {args.results}: {error}", file=sys.stderr)
    sys.exit(0 if report.passed == len(report.results) else 1)


def _test_nlu(args) -> None:
    from bot.nlu.evaluation import evaluate_nlu, format_report

    project = _project(args)
    report = evaluate_nlu(project, Path(args.nlu) if args.nlu else None, args.split, StageProgress())
    print(format_report(report))


def _knowledge_base(project, args):
    from bot.knowledge.base import KnowledgeBase
    from helpline.settings import load_settings

    settings = load_settings(Path(args.project), project.config)
    return KnowledgeBase.for_project(Path(args.project), settings.config.knowledge, settings.models_dir)


def _add_knowledge_issues(project, args, report) -> None:
    """``helpline validate`` checks the knowledge articles too."""
    knowledge = _knowledge_base(project, args)
    if knowledge is not None:
        result = knowledge.validate()
        for issue in [*result.errors, *result.warnings]:
            report.add(issue)


def add_bot_commands(commands) -> None:
    commands.add_parser("validate", help="check the training data like `rasa data validate`").set_defaults(
        func=cmd_validate)
    train = commands.add_parser("train", help="train NLU and dialogue into a model archive")
    train.add_argument("--out", help="folder for the archive (default: models/)")
    train.set_defaults(func=cmd_train)
    run = commands.add_parser("run", help="serve the bot over HTTP (trains first if needed)")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--model", help="model archive to serve (default: newest matching the content)")
    run.add_argument("--watch", action="store_true", help="retrain and swap in content changes as they are saved")
    run.add_argument("--workers", type=int, default=1,
                     help="worker processes sharing the port (needs PostgreSQL trackers and Redis; docs/scaling.md)")
    run.set_defaults(func=cmd_run)
    commands.add_parser("shell", help="chat with the bot in the terminal").set_defaults(func=cmd_shell)
    test = commands.add_parser("test", help="run test stories end to end, or `test nlu` for intent metrics")
    test.add_argument("target", nargs="?", choices=["core", "nlu"], default="core")
    test.add_argument("--stories", help="test stories file (default: the project's tests/)")
    test.add_argument("--model", help="model archive to test")
    test.add_argument("--nlu", help="NLU test data file (default: a held-out split of the training data)")
    test.add_argument("--split", type=float, default=0.2, help="held-out fraction when --nlu is not given")
    test.add_argument("--results", default="results",
                      help="folder for Rasa's result files (default: results/ in the current folder, as rasa test)")
    test.add_argument("--run-actions", action="store_true",
                      help="run each expected action for real (in-process packages, the action server in "
                           "endpoints.yml): a bot that would stay silent fails its test")
    test.set_defaults(func=cmd_test)
