"""Customer directory backed by a remote CRM speaking the reference API (``bot.crm.http_api``).

Every call has a hard timeout: on a phone line a silent caller is worse than an
apology, so a slow CRM becomes ``DirectoryUnavailable`` quickly and the bot can
hand the caller to a person. Error messages name the endpoint but never carry
request bodies, which hold PINs and dates of birth.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.crm.directory import (
    Account,
    Customer,
    CustomerDirectory,
    DirectoryError,
    DirectoryUnavailable,
    Order,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 3.0


def _segment(value: str) -> str:
    return quote(value, safe="")


class HttpDirectory(CustomerDirectory):
    """Client for a CRM at ``base_url`` (e.g. ``http://crm.internal:8081``).

    The HTTP session is opened lazily inside the running event loop (aiohttp
    sessions are loop-bound) and reopened if the loop changes; ``close()`` ends it.
    """

    def __init__(self, base_url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 api_token: str | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    async def find_customer_by_phone(self, phone: str) -> Customer | None:
        data = await self._request("GET", "/v1/customers", params={"phone": phone})
        return Customer.from_dict(data) if data else None

    async def verify_pin(self, customer_id: str, pin: str) -> bool:
        data = await self._request("POST", f"/v1/customers/{_segment(customer_id)}/verify-pin",
                                   json={"pin": pin})
        return bool(data and data.get("verified") is True)

    async def verify_date_of_birth(self, customer_id: str, date_of_birth: date) -> bool:
        data = await self._request("POST", f"/v1/customers/{_segment(customer_id)}/verify-date-of-birth",
                                   json={"date_of_birth": date_of_birth.isoformat()})
        return bool(data and data.get("verified") is True)

    async def get_order(self, order_number: str) -> Order | None:
        data = await self._request("GET", f"/v1/orders/{_segment(order_number)}")
        return Order.from_dict(data) if data else None

    async def list_accounts(self, customer_id: str) -> list[Account]:
        data = await self._request("GET", f"/v1/customers/{_segment(customer_id)}/accounts")
        return [Account.from_dict(item) for item in (data or {}).get("accounts", [])]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
            self._session_loop = loop
        return self._session

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        """The JSON body of a 2xx answer, None for 404; raises DirectoryError otherwise."""
        endpoint = f"{method} {path}"
        try:
            async with self._client().request(method, self._base_url + path, **kwargs) as response:
                if response.status == 404:
                    return None
                if response.status >= 500:
                    raise DirectoryUnavailable(f"CRM answered {endpoint} with HTTP {response.status}")
                if response.status in (401, 403):
                    raise DirectoryError(f"CRM refused our credentials for {endpoint} (HTTP {response.status})")
                if response.status >= 400:
                    raise DirectoryError(f"CRM rejected {endpoint} with HTTP {response.status}")
                return await response.json()
        except asyncio.TimeoutError as error:
            raise DirectoryUnavailable(
                f"CRM did not answer {endpoint} within {self._timeout.total} seconds") from error
        except (aiohttp.ContentTypeError, ValueError) as error:
            raise DirectoryError(f"CRM answered {endpoint} with something other than JSON") from error
        except aiohttp.ClientError as error:
            raise DirectoryUnavailable(f"cannot reach CRM at {self._base_url} for {endpoint}: {error}") from error
