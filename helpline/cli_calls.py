"""``helpline call`` and ``helpline load``: calling a running voice gateway from the shell.

One scripted test call, or many at once with a latency report; both sign their
requests with the project's secrets, as the gateway requires of any call.
"""
from __future__ import annotations

import sys
from pathlib import Path

from helpline.cli_bot import _project


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


def add_call_command(commands) -> None:
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


def add_load_command(commands) -> None:
    from voice_gateway.load.command import add_load_arguments

    load = commands.add_parser("load", help="N concurrent scripted calls against a running server: turn latency "
                                            "p50/p95/p99, errors, the server's CPU and memory")
    add_load_arguments(load)
    load.set_defaults(func=cmd_load)
