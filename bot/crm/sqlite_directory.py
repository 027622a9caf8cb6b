"""The default CRM: a local SQLite file, created and seeded with demo customers on first use.

It lets the demo line and the tests run with no external system. Every query
runs in a worker thread (``asyncio.to_thread``) on its own short-lived
connection, so the event loop never blocks and no connection crosses threads.

PINs are stored only as salted PBKDF2-SHA256 hashes. A four-digit PIN has just
10,000 values, so hashing cannot make a stolen database safe; what it does is
keep PINs out of dumps, backups and logs in clear, and make offline guessing
cost real time. The iteration count is stored with each hash, so it can be
raised later without invalidating existing PINs.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, TypeVar

from bot.crm.directory import Account, Customer, CustomerDirectory, Order, OrderStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 1
DEFAULT_PIN_ITERATIONS = 200_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id   TEXT PRIMARY KEY,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    phone         TEXT NOT NULL UNIQUE,
    date_of_birth TEXT NOT NULL,
    pin_hash      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    account_id    TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL REFERENCES customers(customer_id),
    kind          TEXT NOT NULL,
    balance_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_number  TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL REFERENCES customers(customer_id),
    status        TEXT NOT NULL,
    carrier       TEXT,
    shipped_on    TEXT,
    delivery_date TEXT
);
CREATE INDEX IF NOT EXISTS accounts_by_customer ON accounts(customer_id);
"""

# Demo data. Phone numbers use the fictional 555-0100..0199 style range; PINs
# and birthdays are listed here on purpose so people can try the demo line.
SEED_CUSTOMERS = [
    # customer_id, first_name, last_name, phone, date_of_birth, pin
    ("C001", "Maria", "Gonzalez", "+15551230001", "1985-03-14", "2468"),
    ("C002", "James", "Okafor", "+15551230002", "1979-11-02", "1357"),
    ("C003", "Priya", "Raman", "+15551230003", "1992-07-21", "8024"),
    ("C004", "Tom", "Becker", "+15551230004", "1968-01-30", "5150"),
    ("C005", "Aiko", "Tanaka", "+15551230005", "1990-09-09", "7391"),
    ("C006", "Samuel", "Reyes", "+15551230006", "1983-05-27", "6802"),
    ("C007", "Grace", "Liu", "+15551230007", "1975-12-12", "4410"),
    ("C008", "Daniel", "Novak", "+15551230008", "2000-02-29", "9153"),
    ("C009", "Fatima", "Haddad", "+15551230009", "1988-08-18", "3276"),
    ("C010", "Oliver", "Brennan", "+15551230010", "1995-04-05", "1908"),
]
SEED_ACCOUNTS = [
    # account_id, customer_id, kind, balance_cents
    ("A1001", "C001", "trade account", 12450),
    ("A1002", "C001", "store credit", 2000),
    ("A1003", "C002", "trade account", 0),
    ("A1004", "C003", "trade account", 98765),
    ("A1005", "C003", "store credit", 1550),
    ("A1006", "C004", "trade account", 310000),
    ("A1007", "C005", "trade account", 4599),
    ("A1008", "C006", "trade account", 72025),
    ("A1009", "C006", "store credit", 500),
    ("A1010", "C007", "trade account", 18000),
    ("A1011", "C008", "trade account", 101),
    ("A1012", "C009", "trade account", 250075),
    ("A1013", "C010", "trade account", 6300),
    ("A1014", "C010", "store credit", 12500),
]
# Dates are day offsets from the seeding day, so the demo always has orders in
# flight however long after installation it is first started.
SEED_ORDERS = [
    # order_number, customer_id, status, carrier, shipped offset, delivery offset
    ("472918", "C001", OrderStatus.SHIPPED, "UPS", -2, 2),
    ("118204", "C001", OrderStatus.DELIVERED, "FedEx", -6, -3),
    ("305571", "C002", OrderStatus.PROCESSING, None, None, 5),
    ("550193", "C002", OrderStatus.OUT_FOR_DELIVERY, "USPS", -1, 0),
    ("621847", "C003", OrderStatus.SHIPPED, "FedEx", -1, 3),
    ("739260", "C003", OrderStatus.DELIVERED, "UPS", -12, -8),
    ("204816", "C004", OrderStatus.PROCESSING, None, None, 7),
    ("418832", "C004", OrderStatus.SHIPPED, "DHL", -3, 1),
    ("867305", "C005", OrderStatus.OUT_FOR_DELIVERY, "UPS", -2, 0),
    ("990412", "C005", OrderStatus.DELIVERED, "USPS", -4, -1),
    ("152637", "C006", OrderStatus.SHIPPED, "UPS", 0, 4),
    ("283940", "C006", OrderStatus.PROCESSING, None, None, 6),
    ("347721", "C007", OrderStatus.DELIVERED, "FedEx", -20, -15),
    ("461058", "C007", OrderStatus.SHIPPED, "USPS", -2, 5),
    ("508362", "C008", OrderStatus.OUT_FOR_DELIVERY, "FedEx", -3, 0),
    ("615274", "C008", OrderStatus.PROCESSING, None, None, 4),
    ("724189", "C009", OrderStatus.SHIPPED, "UPS", -1, 2),
    ("836540", "C009", OrderStatus.DELIVERED, "DHL", -9, -5),
    ("941375", "C010", OrderStatus.SHIPPED, "FedEx", -4, 1),
    ("057293", "C010", OrderStatus.PROCESSING, None, None, 8),
]


def hash_pin(pin: str, iterations: int = DEFAULT_PIN_ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Constant-time check of a PIN against a stored ``hash_pin`` value."""
    scheme, iterations, salt, expected = stored.split("$")
    if scheme != "pbkdf2_sha256":
        raise ValueError(f"unknown PIN hash scheme {scheme!r}")
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


class SqliteDirectory(CustomerDirectory):
    """Customer directory in one SQLite file; creates and seeds it on first use.

    ``seed_date`` anchors the demo orders' dates (default: the day of first use);
    tests pin it to get fully deterministic data. ``pin_iterations`` applies to
    PINs hashed while seeding.
    """

    def __init__(self, path: str | Path, *, seed_date: date | None = None,
                 pin_iterations: int = DEFAULT_PIN_ITERATIONS) -> None:
        self._path = Path(path)
        self._seed_date = seed_date
        self._pin_iterations = pin_iterations
        self._ready = False
        self._init_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    async def prepare(self) -> None:
        """Create and seed the file at start-up, not in the first caller's turn (seeding hashes every demo PIN)."""
        await asyncio.to_thread(self._initialise_once)

    async def find_customer_by_phone(self, phone: str) -> Customer | None:
        row = await self._run(lambda db: db.execute(
            "SELECT customer_id, first_name, last_name, phone FROM customers WHERE phone = ?",
            (phone,)).fetchone())
        return Customer(*row) if row else None

    async def verify_pin(self, customer_id: str, pin: str) -> bool:
        row = await self._run(lambda db: db.execute(
            "SELECT pin_hash FROM customers WHERE customer_id = ?", (customer_id,)).fetchone())
        matched = bool(row) and await asyncio.to_thread(pin_matches, pin, row[0])
        logger.info("PIN check", extra={"customer_id": customer_id, "matched": matched})
        return matched

    async def verify_date_of_birth(self, customer_id: str, date_of_birth: date) -> bool:
        row = await self._run(lambda db: db.execute(
            "SELECT date_of_birth FROM customers WHERE customer_id = ?", (customer_id,)).fetchone())
        matched = bool(row) and hmac.compare_digest(row[0], date_of_birth.isoformat())
        logger.info("date of birth check", extra={"customer_id": customer_id, "matched": matched})
        return matched

    async def get_order(self, order_number: str) -> Order | None:
        row = await self._run(lambda db: db.execute(
            "SELECT order_number, customer_id, status, carrier, shipped_on, delivery_date "
            "FROM orders WHERE order_number = ?", (order_number,)).fetchone())
        if row is None:
            return None
        return Order.from_dict(dict(row))

    async def list_accounts(self, customer_id: str) -> list[Account]:
        rows = await self._run(lambda db: db.execute(
            "SELECT account_id, customer_id, kind, balance_cents FROM accounts "
            "WHERE customer_id = ? ORDER BY account_id", (customer_id,)).fetchall())
        return [Account(*row) for row in rows]

    async def _run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._execute, query)

    def _execute(self, query: Callable[[sqlite3.Connection], T]) -> T:
        self._initialise_once()
        with closing(self._connect()) as db:
            return query(db)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path)
        db.row_factory = sqlite3.Row
        return db

    def _initialise_once(self) -> None:
        if self._ready:
            return
        with self._init_lock:
            if not self._ready:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with closing(self._connect()) as db:
                    db.isolation_level = None  # explicit transaction control below
                    self._create_and_seed(db)
                self._ready = True

    def _create_and_seed(self, db: sqlite3.Connection) -> None:
        # BEGIN IMMEDIATE serialises first start across processes (bot + API server).
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                self._seed(db, self._seed_date or date.today())
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _seed(self, db: sqlite3.Connection, seed_date: date) -> None:
        def day(offset: int | None) -> str | None:
            return None if offset is None else (seed_date + timedelta(days=offset)).isoformat()

        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
            [(cid, first, last, phone, dob, hash_pin(pin, self._pin_iterations))
             for cid, first, last, phone, dob, pin in SEED_CUSTOMERS])
        db.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?)", SEED_ACCOUNTS)
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            [(number, cid, status.value, carrier, day(shipped), day(delivery))
             for number, cid, status, carrier, shipped, delivery in SEED_ORDERS])
        logger.info("seeded demo CRM", extra={"path": str(self._path), "customers": len(SEED_CUSTOMERS),
                                              "orders": len(SEED_ORDERS)})
