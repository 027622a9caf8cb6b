"""The customer-directory contract between the bot and whatever CRM backs it.

Actions only ever see this interface, so the demo SQLite store, the HTTP
connector and any future vendor adapter are interchangeable. The records are
plain frozen dataclasses with a JSON shape (``to_dict``/``from_dict``) that the
reference HTTP API and its client share, so the wire format lives in one place.

Secrets (PINs, dates of birth) only ever travel *into* a directory to be
checked; no method returns them.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any


class DirectoryError(Exception):
    """The CRM could not give an answer; the bot should escalate rather than guess."""


class DirectoryUnavailable(DirectoryError):
    """The CRM is unreachable, too slow or failing: a transient outage."""


class OrderStatus(str, Enum):
    PROCESSING = "processing"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    first_name: str
    last_name: str
    phone: str  # E.164, e.g. "+15551230001"

    def to_dict(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "first_name": self.first_name,
                "last_name": self.last_name, "phone": self.phone}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Customer:
        return cls(data["customer_id"], data["first_name"], data["last_name"], data["phone"])


@dataclass(frozen=True)
class Order:
    order_number: str
    customer_id: str
    status: OrderStatus
    carrier: str | None  # None until the order ships
    shipped_on: date | None
    delivery_date: date | None  # the estimate until delivered, then the actual day

    def to_dict(self) -> dict[str, Any]:
        return {"order_number": self.order_number, "customer_id": self.customer_id,
                "status": self.status.value, "carrier": self.carrier,
                "shipped_on": _iso(self.shipped_on), "delivery_date": _iso(self.delivery_date)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        return cls(data["order_number"], data["customer_id"], OrderStatus(data["status"]),
                   data.get("carrier"), _date(data.get("shipped_on")), _date(data.get("delivery_date")))


@dataclass(frozen=True)
class Account:
    account_id: str
    customer_id: str
    kind: str  # how a caller would name it: "trade account", "store credit"
    balance_cents: int  # US cents; integers so money never goes through floats

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "customer_id": self.customer_id,
                "kind": self.kind, "balance_cents": self.balance_cents}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        return cls(data["account_id"], data["customer_id"], data["kind"], int(data["balance_cents"]))


def normalize_phone(raw: str) -> str | None:
    """E.164 form of a keyed, spoken-then-transcribed or caller-ID number, or None.

    Ten-digit numbers are taken as North American (the demo company's market);
    anything else must already carry its country code with a leading "+".
    """
    text = str(raw).strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return None


class CustomerDirectory(ABC):
    """What the bot needs from a CRM. All lookups return None for "no such record".

    Implementations raise ``DirectoryError`` (or ``DirectoryUnavailable``) when
    they cannot answer, never return a wrong "not found" for an outage.
    """

    async def prepare(self) -> None:
        """Get ready before the first call (a local directory creates and seeds its file); by default nothing."""

    @abstractmethod
    async def find_customer_by_phone(self, phone: str) -> Customer | None:
        """The customer whose account phone is ``phone`` (E.164)."""

    @abstractmethod
    async def verify_pin(self, customer_id: str, pin: str) -> bool:
        """Whether ``pin`` is the customer's account PIN; False for unknown customers."""

    @abstractmethod
    async def verify_date_of_birth(self, customer_id: str, date_of_birth: date) -> bool:
        """Whether the customer was born on ``date_of_birth``; False for unknown customers."""

    @abstractmethod
    async def get_order(self, order_number: str) -> Order | None:
        """The order with this number (digits only)."""

    @abstractmethod
    async def list_accounts(self, customer_id: str) -> list[Account]:
        """The customer's accounts with their current balances, in a stable order."""

    async def close(self) -> None:
        """Release connections; directories without any keep this no-op."""
