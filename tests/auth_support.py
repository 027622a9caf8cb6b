"""Signing in from tests: the demo users (password "northwind") through the real /auth/login."""
from __future__ import annotations

DEMO_PASSWORD = "northwind"


async def sign_in(client, user: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Sign ``client`` in (its cookie jar keeps the session); returns the headers a change needs."""
    response = await client.post("/auth/login", json={"username": user, "password": password})
    assert response.status == 200, await response.text()
    return {"X-CSRF-Token": (await response.json())["csrf_token"]}

API_TOKEN = "test-api-token"  # HELPLINE_AUTH_TOKEN in the tests that use Rasa's protected API
API_HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}


def use_api_token(monkeypatch) -> dict[str, str]:
    """Give the server under test a Rasa-style API token (admin role); returns the headers that send it."""
    monkeypatch.setenv("HELPLINE_AUTH_TOKEN", API_TOKEN)
    return API_HEADERS
