"""Put the security layer on the app: secrets, users, sessions, sign-in routes, the access middleware."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.security.audit import AUDIT_KEY
from helpline.config_schema import HelplineConfig
from helpline.security.audit import AuditLog
from helpline.security.login import SignIn
from helpline.security.middleware import Authenticator, Verifier, add_security_headers, security_middleware
from helpline.security.secrets import Secrets, load_secrets
from helpline.security.sessions import SessionStore, create_session_store
from helpline.security.throttle import LoginThrottle, PasswordPool
from helpline.security.users import UserDirectory



@dataclass
class Security:
    secrets: Secrets
    users: UserDirectory
    sessions: SessionStore
    audit: AuditLog


def install_security(app: web.Application, config: HelplineConfig, data_dir: Path, shared_store: str | None,
                     verifiers: dict[str, Verifier], secrets: Secrets | None = None) -> Security:
    """Must run after every route is added: the access middleware goes in front of all others."""
    auth = config.auth
    secrets = secrets or load_secrets(data_dir)
    users = UserDirectory.from_config(config)
    sessions = create_session_store(shared_store, data_dir, auth.session_hours * 3600)
    audit = AuditLog(data_dir / "audit.log")
    pool = PasswordPool()
    throttle = LoginThrottle(auth.max_failures_per_account, auth.max_failures_per_address)
    SignIn(users, sessions, throttle, pool, audit).add_routes(app)
    app.middlewares.insert(0, security_middleware(Authenticator(secrets, sessions, verifiers)))
    app.on_response_prepare.append(add_security_headers)
    app[AUDIT_KEY] = audit

    async def close(_: web.Application) -> None:
        pool.close()
        await sessions.close()

    app.on_cleanup.append(close)
    return Security(secrets, users, sessions, audit)
