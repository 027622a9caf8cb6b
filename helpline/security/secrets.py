"""The server's secrets: from the environment, else generated once into a private file outside git.

    HELPLINE_SECRET_KEY         signs voice tokens (and anything else the server signs)
    HELPLINE_TWILIO_AUTH_TOKEN  the Twilio account's auth token: Media Streams signatures are checked with it
    HELPLINE_AUTH_TOKEN         a static bearer token with the admin role (Rasa's ``--auth-token``)
    HELPLINE_JWT_SECRET         accept JWT bearer tokens signed with it (Rasa's ``--jwt-secret``),
    HELPLINE_JWT_METHOD         ... and this algorithm (HS256 by default)

A key that is not in the environment is generated on first start into ``<data_dir>/secrets.json``
(mode 0600; ``.helpline/`` is ignored by git), so a demo works out of the box and a local
``helpline call`` can sign its calls with the same file. API tokens are never generated: without
them only signed-in people reach the protected API.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SECRETS_FILE = "secrets.json"
_GENERATED = {"secret_key": "HELPLINE_SECRET_KEY", "twilio_auth_token": "HELPLINE_TWILIO_AUTH_TOKEN"}


@dataclass(frozen=True)
class Secrets:
    secret_key: str
    twilio_auth_token: str
    api_token: str | None = None
    jwt_secret: str | None = None
    jwt_method: str = "HS256"


def load_secrets(data_dir: Path) -> Secrets:
    """Environment first, then the private file (created with fresh random values when missing)."""
    stored = _stored(data_dir)
    values = {}
    for key, variable in _GENERATED.items():
        values[key] = os.environ.get(variable) or stored.get(key)
    if any(v is None for v in values.values()):
        for key, value in values.items():
            stored.setdefault(key, value or secrets.token_urlsafe(32))
        values = {key: os.environ.get(_GENERATED[key]) or stored[key] for key in _GENERATED}
        _write_private(data_dir / SECRETS_FILE, json.dumps(stored, indent=2))
    return Secrets(**values, api_token=os.environ.get("HELPLINE_AUTH_TOKEN") or None,
                   jwt_secret=os.environ.get("HELPLINE_JWT_SECRET") or None,
                   jwt_method=os.environ.get("HELPLINE_JWT_METHOD", "HS256"))


def _stored(data_dir: Path) -> dict:
    path = data_dir / SECRETS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"error: {path} cannot be read ({error}); delete it to generate new secrets") from None
    return {k: v for k, v in data.items() if k in _GENERATED and isinstance(v, str) and v}


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
