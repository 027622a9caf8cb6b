"""The customer directory contract, run against SQLite and against the HTTP connector
talking to the reference API on a real localhost server."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import date

import pytest
import pytest_asyncio
import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import crm
from bot.crm import (
    Account,
    Customer,
    DirectoryError,
    DirectoryUnavailable,
    OrderStatus,
    SqliteDirectory,
    normalize_phone,
)
from bot.crm.http_api import create_app
from bot.crm.http_directory import HttpDirectory

SEED_DATE = date(2024, 5, 1)  # a Wednesday
MARIA = Customer("C001", "Maria", "Gonzalez", "+15551230001")
MARIA_PIN = "2468"
TOKEN = "test-token"


def make_sqlite(tmp_path) -> SqliteDirectory:
    # Few PBKDF2 iterations keep the tests fast on shared CPUs.
    return SqliteDirectory(tmp_path / "crm.sqlite3", seed_date=SEED_DATE, pin_iterations=1_000)


@pytest_asyncio.fixture
async def api_server(tmp_path):
    server = TestServer(create_app(make_sqlite(tmp_path), api_token=TOKEN))
    await server.start_server()
    yield server
    await server.close()


@pytest_asyncio.fixture(params=["sqlite", "http"])
async def directory(request, tmp_path, api_server):
    if request.param == "sqlite":
        yield make_sqlite(tmp_path)
        return
    client = HttpDirectory(str(api_server.make_url("")), api_token=TOKEN)
    yield client
    await client.close()


# --- The contract, for every implementation --------------------------------------

@pytest.mark.asyncio
async def test_finds_customer_by_phone(directory):
    assert await directory.find_customer_by_phone("+15551230001") == MARIA
    assert await directory.find_customer_by_phone("+15559999999") is None


@pytest.mark.asyncio
async def test_verifies_pin(directory):
    assert await directory.verify_pin("C001", MARIA_PIN) is True
    assert await directory.verify_pin("C001", "1111") is False
    assert await directory.verify_pin("C404", MARIA_PIN) is False


@pytest.mark.asyncio
async def test_verifies_date_of_birth(directory):
    assert await directory.verify_date_of_birth("C001", date(1985, 3, 14)) is True
    assert await directory.verify_date_of_birth("C001", date(1985, 3, 15)) is False
    assert await directory.verify_date_of_birth("C404", date(1985, 3, 14)) is False


@pytest.mark.asyncio
async def test_gets_order_with_dates_relative_to_seed_day(directory):
    order = await directory.get_order("472918")
    assert order.customer_id == "C001"
    assert order.status is OrderStatus.SHIPPED
    assert order.carrier == "UPS"
    assert order.shipped_on == date(2024, 4, 29)
    assert order.delivery_date == date(2024, 5, 3)
    assert await directory.get_order("999999") is None


@pytest.mark.asyncio
async def test_processing_order_has_no_carrier_and_keeps_leading_zero(directory):
    order = await directory.get_order("057293")
    assert (order.status, order.carrier, order.shipped_on) == (OrderStatus.PROCESSING, None, None)


@pytest.mark.asyncio
async def test_lists_accounts_with_balances(directory):
    assert await directory.list_accounts("C001") == [
        Account("A1001", "C001", "trade account", 12450),
        Account("A1002", "C001", "store credit", 2000),
    ]
    assert await directory.list_accounts("C404") == []


# --- SQLite specifics --------------------------------------------------------------

@pytest.mark.asyncio
async def test_seed_has_ten_customers_and_twenty_orders_once(tmp_path):
    await make_sqlite(tmp_path).get_order("472918")
    await make_sqlite(tmp_path).get_order("472918")  # a second start must not reseed
    with sqlite3.connect(tmp_path / "crm.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 10
        assert db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 20
        statuses = {row[0] for row in db.execute("SELECT status FROM orders")}
    assert statuses == {status.value for status in OrderStatus}


@pytest.mark.asyncio
async def test_prepare_creates_and_seeds_the_file_before_any_lookup(tmp_path):
    directory = make_sqlite(tmp_path)
    assert not (tmp_path / "crm.sqlite3").exists()
    await directory.prepare()
    with sqlite3.connect(tmp_path / "crm.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 10


@pytest.mark.asyncio
async def test_pins_are_stored_salted_and_hashed(tmp_path):
    await make_sqlite(tmp_path).verify_pin("C001", MARIA_PIN)
    with sqlite3.connect(tmp_path / "crm.sqlite3") as db:
        dump = "\n".join(db.iterdump())
        hashes = [row[0] for row in db.execute("SELECT pin_hash FROM customers")]
    assert MARIA_PIN not in dump
    assert all(h.startswith("pbkdf2_sha256$1000$") for h in hashes)
    assert len({h.split("$")[2] for h in hashes}) == len(hashes)  # one salt each


@pytest.mark.asyncio
async def test_pin_checks_never_log_the_pin(tmp_path, caplog):
    directory = make_sqlite(tmp_path)
    with caplog.at_level(logging.DEBUG):
        await directory.verify_pin("C001", MARIA_PIN)
        await directory.verify_pin("C001", "9753")
    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    assert MARIA_PIN not in logged and "9753" not in logged


# --- HTTP specifics ----------------------------------------------------------------

@pytest.mark.asyncio
async def test_http_rejects_a_wrong_token(api_server):
    client = HttpDirectory(str(api_server.make_url("")), api_token="wrong")
    with pytest.raises(DirectoryError, match="credentials"):
        await client.get_order("472918")
    await client.close()


@pytest.mark.asyncio
async def test_http_unreachable_crm_is_unavailable(unused_tcp_port):
    client = HttpDirectory(f"http://127.0.0.1:{unused_tcp_port}", timeout_s=1.0)
    with pytest.raises(DirectoryUnavailable, match="cannot reach CRM"):
        await client.find_customer_by_phone("+15551230001")
    await client.close()


@pytest_asyncio.fixture
async def misbehaving_server():
    """A CRM that is slow on /v1/orders and broken on /v1/customers."""
    async def slow(request):
        await asyncio.sleep(2)
        return web.json_response({})

    async def broken(request):
        raise web.HTTPInternalServerError()

    app = web.Application()
    app.router.add_get("/v1/orders/{number}", slow)
    app.router.add_get("/v1/customers", broken)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


@pytest.mark.asyncio
async def test_http_slow_crm_times_out(misbehaving_server):
    client = HttpDirectory(str(misbehaving_server.make_url("")), timeout_s=0.2)
    with pytest.raises(DirectoryUnavailable, match="did not answer GET /v1/orders/472918 within 0.2"):
        await client.get_order("472918")
    await client.close()


@pytest.mark.asyncio
async def test_http_server_error_is_unavailable(misbehaving_server):
    client = HttpDirectory(str(misbehaving_server.make_url("")))
    with pytest.raises(DirectoryUnavailable, match="HTTP 500"):
        await client.find_customer_by_phone("+15551230001")
    await client.close()


@pytest.mark.asyncio
async def test_api_rejects_malformed_secrets(api_server):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        response = await session.post(api_server.make_url("/v1/customers/C001/verify-pin"), json={"pin": ""})
        assert response.status == 400
        response = await session.post(api_server.make_url("/v1/customers/C001/verify-date-of-birth"),
                                      json={"date_of_birth": "14 March"})
        assert response.status == 400
        response = await session.get(api_server.make_url("/v1/customers"))
        assert response.status == 400


# --- Registry and helpers ----------------------------------------------------------

def test_default_directory_lives_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "data"))
    crm.configure(None)
    try:
        assert crm.current().path == tmp_path / "data" / "crm.sqlite3"
        replacement = make_sqlite(tmp_path)
        crm.configure(replacement)
        assert crm.current() is replacement
    finally:
        crm.configure(None)


@pytest.mark.parametrize("raw, expected", [
    ("+15551230001", "+15551230001"),
    ("5551230001", "+15551230001"),
    ("1 (555) 123-0001", "+15551230001"),
    ("+44 7700 900123", "+447700900123"),
    ("12345", None),
    ("anonymous", None),
])
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected
