"""Reference HTTP API for a customer directory: the protocol ``HttpDirectory`` speaks.

A CRM team can implement these few endpoints in front of their real system; this
aiohttp app serves them from any ``CustomerDirectory`` (by default the demo
SQLite one), so the connector is tested against a real server and the demo can
run the CRM as a separate process::

    HELPLINE_DATA_DIR=.helpline python -m bot.crm.http_api --port 8081 [--token SECRET]

Endpoints (JSON; records use the ``to_dict`` shapes from ``bot.crm.directory``):

    GET  /health
    GET  /v1/customers?phone=%2B15551230001          -> Customer | 404
    POST /v1/customers/{id}/verify-pin               {"pin": "2468"} -> {"verified": bool}
    POST /v1/customers/{id}/verify-date-of-birth     {"date_of_birth": "1985-03-14"} -> {"verified": bool}
    GET  /v1/customers/{id}/accounts                 -> {"accounts": [Account, ...]}
    GET  /v1/orders/{order_number}                   -> Order | 404

Secrets go in POST bodies, never in URLs, so they stay out of access logs. With a
token configured every endpoint but /health needs ``Authorization: Bearer <token>``.
"""
from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
from datetime import date
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.crm import default_directory
from bot.crm.directory import CustomerDirectory, DirectoryError

logger = logging.getLogger(__name__)

DIRECTORY_KEY = web.AppKey("directory", CustomerDirectory)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 404: web.HTTPNotFound, 503: web.HTTPServiceUnavailable,
}


def _error(status: int, code: str) -> web.HTTPException:
    return _ERRORS[status](text=json.dumps({"error": code}), content_type="application/json")


def _auth_middleware(token: str) -> Any:
    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        supplied = request.headers.get("Authorization", "").encode()
        if request.path != "/health" and not hmac.compare_digest(supplied, f"Bearer {token}".encode()):
            raise _error(401, "unauthorized")
        return await handler(request)
    return require_token


@web.middleware
async def _directory_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DirectoryError:
        logger.exception("directory failed", extra={"path": request.path})
        raise _error(503, "directory_unavailable")


async def _json_field(request: web.Request, name: str) -> str:
    try:
        body = await request.json()
    except ValueError:
        raise _error(400, "invalid_json")
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise _error(400, f"missing_{name}")
    return value


def _directory(request: web.Request) -> CustomerDirectory:
    return request.app[DIRECTORY_KEY]


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def find_customer(request: web.Request) -> web.Response:
    phone = request.query.get("phone")
    if not phone:
        raise _error(400, "missing_phone")
    customer = await _directory(request).find_customer_by_phone(phone)
    if customer is None:
        raise _error(404, "not_found")
    return web.json_response(customer.to_dict())


async def verify_pin(request: web.Request) -> web.Response:
    pin = await _json_field(request, "pin")
    verified = await _directory(request).verify_pin(request.match_info["customer_id"], pin)
    return web.json_response({"verified": verified})


async def verify_date_of_birth(request: web.Request) -> web.Response:
    raw = await _json_field(request, "date_of_birth")
    try:
        born = date.fromisoformat(raw)
    except ValueError:
        raise _error(400, "invalid_date_of_birth")
    verified = await _directory(request).verify_date_of_birth(request.match_info["customer_id"], born)
    return web.json_response({"verified": verified})


async def list_accounts(request: web.Request) -> web.Response:
    accounts = await _directory(request).list_accounts(request.match_info["customer_id"])
    return web.json_response({"accounts": [account.to_dict() for account in accounts]})


async def get_order(request: web.Request) -> web.Response:
    order = await _directory(request).get_order(request.match_info["order_number"])
    if order is None:
        raise _error(404, "not_found")
    return web.json_response(order.to_dict())


def create_app(directory: CustomerDirectory, *, api_token: str | None = None) -> web.Application:
    """The API over ``directory``; it is closed with the app."""
    middlewares = [_auth_middleware(api_token)] if api_token else []
    app = web.Application(middlewares=[*middlewares, _directory_errors])
    app[DIRECTORY_KEY] = directory
    app.router.add_get("/health", health)
    app.router.add_get("/v1/customers", find_customer)
    app.router.add_post("/v1/customers/{customer_id}/verify-pin", verify_pin)
    app.router.add_post("/v1/customers/{customer_id}/verify-date-of-birth", verify_date_of_birth)
    app.router.add_get("/v1/customers/{customer_id}/accounts", list_accounts)
    app.router.add_get("/v1/orders/{order_number}", get_order)

    async def close_directory(app: web.Application) -> None:
        await app[DIRECTORY_KEY].close()

    app.on_cleanup.append(close_directory)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the demo CRM over the reference HTTP API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=os.environ.get("HELPLINE_CRM_TOKEN"),
                        help="require this bearer token (default: $HELPLINE_CRM_TOKEN)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    web.run_app(create_app(default_directory(), api_token=args.token), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
