"""``helpline``: train, validate, run, chat and test a bot project.

Each command works on the project in the current directory (``--project``
to point elsewhere); Rasa projects work as they are.
"""
from __future__ import annotations

import argparse
import os
import sys

from helpline.cli_bot import add_bot_commands
from helpline.cli_calls import add_call_command, add_load_command
from helpline.cli_content import add_content_commands
from helpline.cli_ops import add_commands
from helpline.cli_reports import add_report_commands
from bot.training_data.yaml_reader import TrainingDataError


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("helpline")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed; run scripts/setup.sh)"


def main(argv: list[str] | None = None) -> None:
    from helpline.logs import configure_logging

    parser = argparse.ArgumentParser(prog="helpline", description=__doc__)
    parser.add_argument("--project", default=".", help="bot project folder (default: current folder)")
    parser.add_argument("--log-level", default=os.environ.get("HELPLINE_LOG_LEVEL"),
                        help="default: INFO for `run` (a server's log), WARNING for the other commands")
    parser.add_argument("--version", action="version", version=f"helpline {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_bot_commands(commands)
    add_content_commands(commands)
    add_call_command(commands)
    add_commands(commands)
    add_report_commands(commands)
    add_load_command(commands)
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
