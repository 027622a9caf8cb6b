"""``helpline kb``, ``desk``, ``config`` and ``data``: looking after a project's files from the shell.

The knowledge articles (check them, build their index, try a search), config.yml
(check it against its schema, print that schema, hash an agent's password for it)
and a Rasa 2.x domain to bring to the 3.x form.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.progress import StageProgress
from helpline.cli_bot import _knowledge_base, _project


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


def add_content_commands(commands) -> None:
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
