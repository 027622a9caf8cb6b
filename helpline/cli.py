"""``helpline``: train, validate, run, chat and test a bot project.

Each command works on the project in the current directory (``--project``
to point elsewhere); Rasa projects work as they are.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from bot.progress import StageProgress
from helpline.cli_ops import add_commands
from helpline.cli_reports import add_report_commands
from bot.training_data.yaml_reader import TrainingDataError


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


def cmd_kb(args) -> None:
    """``helpline kb validate|build|search``: the knowledge articles in ``knowledge/``."""
    from bot.knowledge.decision import decide

    knowledge = _knowledge_base(_project(args), args)
    if knowledge is None:
        sys.exit("error: this project has no knowledge folder (helpline: knowledge: folder: in config.yml)")
    if args.action == "validate":
        result = knowledge.validate()
        for issue in [*result.errors, *result.warnings]:
            print(issue)
        print(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)")
        sys.exit(0 if result.ok else 1)
    progress = StageProgress()
    started = time.time()
    result = knowledge.reload(progress)
    progress.close()
    for issue in [*result.errors, *result.warnings]:
        print(issue, file=sys.stderr)
    if not result.ok:
        sys.exit(f"knowledge validation failed with {len(result.errors)} error(s); nothing was built")
    build = result.build
    if args.action == "build":
        print(f"indexed {build.articles} articles in {time.time() - started:.1f} s: {build.embedded_articles} "
              f"embedded, {build.reused_articles} unchanged ({build.path})")
        return
    if not args.query:
        sys.exit("error: kb search needs a query, e.g. helpline kb search \"do you ship to canada\"")
    hits = knowledge.search(args.query, args.top)
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank}. {hit.article.id} ({hit.article.title}): score {hit.score:.2f}, fused {hit.fused:.3f}")
        print(f"   dense {hit.dense:.3f}, best {hit.passage_kind}: \"{hit.passage}\"")
        print(f"   bm25 {hit.lexical:.3f}, matched terms: {', '.join(hit.terms) or '-'}")
    decision = decide(hits, knowledge.config)
    print(f"decision: {decision.outcome}" + (f" ({', '.join(h.article.id for h in decision.hits)})"
                                             if decision.hits else ""))


def cmd_desk(args) -> None:
    """``helpline desk hash-password``: the value of an agent's ``password_hash`` in config.yml.

    The password is read from the terminal (twice) or from standard input, never from the command
    line, where shell history and process lists would keep it.
    """
    import getpass

    from bot.security.passwords import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            sys.exit("error: the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        sys.exit("error: empty password")
    print(hash_password(password))


def cmd_data(args) -> None:
    """``helpline data migrate``: a Rasa 2.x domain in 3.x form, as ``rasa data migrate`` writes it."""
    from bot.training_data.rasa2 import migrate_domain

    project = Path(args.project)
    domain = Path(args.domain) if args.domain else next(
        (p for p in (project / "domain.yml", project / "domain") if p.exists()), None)
    if domain is None or not domain.exists():
        sys.exit(f"error: no domain found in {project} (expected domain.yml or a domain/ folder; or use --domain)")
    written = migrate_domain(domain, Path(args.out) if args.out else None)
    for path in written:
        print(f"wrote {path}")
    if not args.out or Path(args.out).resolve() != domain.resolve():
        print(f"review it, then replace {domain} with it")


def cmd_config(args) -> None:
    """``helpline config check``: config.yml against the schema; ``helpline config schema``: that schema as JSON."""
    from helpline.config_schema import json_schema, load_helpline_config

    if args.action == "schema":
        sys.stdout.write(json_schema())
        return
    from bot.config import load_config
    from bot.config_model import ConfigError

    path = Path(args.project) / "config.yml"
    try:
        config = load_config(path)
        load_helpline_config(config)
    except ConfigError as error:
        print(error)
        sys.exit(f"{len(error.problems)} error(s) in {path}")
    print(f"{path}: ok")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("helpline")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed; run scripts/setup.sh)"


def cmd_call(args) -> None:
    """A test call signed with this project's secrets (the environment's, else ``<data_dir>/secrets.json``)."""
    from helpline.security.secrets import load_secrets
    from helpline.settings import load_settings
    from voice_gateway.call_command import run
    from voice_gateway.client import LineCredentials

    secrets = load_secrets(load_settings(Path(args.project), _project(args).config).data_dir)
    args.credentials = LineCredentials(secrets.twilio_auth_token, secrets.secret_key)
    run(args)


def cmd_load(args) -> None:
    """Many concurrent calls against a running gateway, signed like ``helpline call``; prints the report."""
    import json

    from helpline.security.secrets import load_secrets
    from helpline.settings import load_settings
    from voice_gateway.client import LineCredentials
    from voice_gateway.load.command import run_load_command

    secrets = load_secrets(load_settings(Path(args.project), _project(args).config).data_dir)
    summary = run_load_command(args, LineCredentials(secrets.twilio_auth_token, secrets.secret_key))
    print(json.dumps(summary, indent=2))
    sys.exit(0 if summary["errors"] == 0 else 1)


def main(argv: list[str] | None = None) -> None:
    from helpline.logs import configure_logging

    parser = argparse.ArgumentParser(prog="helpline", description=__doc__)
    parser.add_argument("--project", default=".", help="bot project folder (default: current folder)")
    parser.add_argument("--log-level", default=os.environ.get("HELPLINE_LOG_LEVEL"),
                        help="default: INFO for `run` (a server's log), WARNING for the other commands")
    parser.add_argument("--version", action="version", version=f"helpline {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
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
    kb = commands.add_parser("kb", help="knowledge articles: validate, build the index, or search it")
    kb.add_argument("action", choices=["validate", "build", "search"])
    kb.add_argument("query", nargs="?", help="what a caller might ask (for search)")
    kb.add_argument("--top", type=int, default=5, help="how many articles search shows")
    kb.set_defaults(func=cmd_kb)
    desk = commands.add_parser("desk", help="agent desk: hash-password prints a password_hash for config.yml")
    desk.add_argument("action", choices=["hash-password"])
    desk.set_defaults(func=cmd_desk)
    config = commands.add_parser("config", help="check config.yml against the schema, or print the schema")
    config.add_argument("action", choices=["check", "schema"],
                        help="check: every problem with file, line and key; schema: JSON Schema for editors")
    config.set_defaults(func=cmd_config)
    data = commands.add_parser("data", help="`data migrate`: convert a Rasa 2.x domain to 3.x (slot mappings)")
    data.add_argument("action", choices=["migrate"])
    data.add_argument("--domain", help="domain file or folder (default: the project's domain.yml or domain/)")
    data.add_argument("--out", help="where to write (default: new_domain.yml or new_domain/ beside the domain; "
                                    "the domain itself keeps the original as original_domain.yml)")
    data.set_defaults(func=cmd_data)
    call = commands.add_parser("call", help="call the voice gateway: each WAV or say:TEXT is one caller turn, dtmf:123# keys")
    call.add_argument("turns", nargs="+", metavar="FILE.wav|say:TEXT|dtmf:KEYS")
    call.add_argument("--url", default="http://127.0.0.1:5005", help="the running server")
    call.add_argument("--protocol", choices=["twilio", "helpline", "audiosocket"], default="twilio")
    call.add_argument("--audiosocket", default="127.0.0.1:9092", help="host:port of the AudioSocket listener")
    call.add_argument("--sample-rate", type=int, choices=[8000, 16000], default=8000, help="helpline protocol only")
    call.add_argument("--caller", default="+15551230001", help="caller ID sent with the call")
    call.add_argument("--record", help="write what the bot said to this WAV")
    call.add_argument("--no-transcribe", dest="transcribe", action="store_false",
                      help="do not recognise the bot's audio (Twilio/AudioSocket carry no text)")
    call.set_defaults(func=cmd_call)
    add_commands(commands)
    add_report_commands(commands)
    from voice_gateway.load.command import add_load_arguments

    load = commands.add_parser("load", help="N concurrent scripted calls against a running server: turn latency "
                                            "p50/p95/p99, errors, the server's CPU and memory")
    add_load_arguments(load)
    load.set_defaults(func=cmd_load)
    args = parser.parse_args(argv)
    args.log_level = args.log_level or ("INFO" if args.command == "run" else "WARNING")
    configure_logging(args.log_level)
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        validation = sys.modules.get("bot.validation")
        if validation is not None and isinstance(error, validation.ValidationFailed):
            report = error.report
            for issue in [*report.errors, *report.warnings, *report.notes]:
                print(issue, file=sys.stderr)
        if isinstance(error, _user_errors()):
            sys.exit(f"error: {error}")
        raise


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors shown as one ``error: ...`` line instead of a traceback.

    A model archive's error counts once its module is loaded; importing it here would pull in torch
    and make commands that never touch a model (``config check``) take seconds.
    """
    errors = [TrainingDataError]
    for module, name in (("bot.model_archive", "ModelLoadError"), ("bot.validation", "ValidationFailed"),
                         ("bot.model_registry", "RegistryError")):
        if module in sys.modules:
            errors.append(getattr(sys.modules[module], name))
    return tuple(errors)


if __name__ == "__main__":
    main()
