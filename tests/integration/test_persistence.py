"""Durable state through the real server: restart on the same data dir, keys, reset,
snapshot, export/import, a torn journal tail, and the `localspot replay` command."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localspot.app import PERSISTENCE
from localspot.clock import FakeClock
from localspot.config import Config
from localspot.storage.snapshot import state_digest
from localspot.storage.sqlite import DB_NAME
from support import Server, sign_rest_hmac

SYMBOL = "BTCUSDT"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_040_000)


@pytest.fixture
def restartable(start_server, tmp_path, clock):
    """Start a server on tmp_path; calling again stops the previous one and starts anew."""
    running: list[Server] = []

    async def start(**overrides: Any) -> Server:
        if running:
            await running.pop().close()
        config = Config(data_dir=tmp_path, **overrides)
        server = await start_server(config, clock)
        running.append(server)
        return server

    return start


async def rest(server: Server, account: dict[str, Any], method: str, path: str, **params: Any):
    params["timestamp"] = server.services.clock.now_ms()
    url = f"{server.base}{path}?{sign_rest_hmac(params, account['secretKey'])}"
    headers = {"X-MBX-APIKEY": account["apiKey"]}
    async with server.session.request(method, url, headers=headers) as response:
        return response.status, await response.json()


async def place(server: Server, account: dict[str, Any], side: str, price: str, qty: str):
    status, body = await rest(
        server, account, "POST", "/api/v3/order", symbol=SYMBOL, side=side, type="LIMIT",
        timeInForce="GTC", price=price, quantity=qty, newOrderRespType="FULL",
    )  # fmt: skip
    assert status == 200, body
    return body


def digest(server: Server) -> str:
    return state_digest(server.services.engine, server.services.keys)


async def test_restart_keeps_accounts_keys_orders_and_next_ids(restartable, clock):
    server = await restartable()
    alice = await server.create_account()
    bob = await server.create_account()
    for price in ("30000", "30001", "30000"):
        await place(server, alice, "SELL", price, "0.1")
    await place(server, bob, "BUY", "30001", "0.15")  # fills #1, part of #3? no: price-time
    before = digest(server)
    book = list(server.services.engine.market(SYMBOL).book.orders())
    assert [o.order_id for o in book] == [3, 2]

    server = await restartable()
    assert digest(server) == before
    assert [o.order_id for o in server.services.engine.market(SYMBOL).book.orders()] == [3, 2]
    # The same key still signs, and ids continue where they were.
    body = await place(server, alice, "SELL", "30002", "0.1")
    assert body["orderId"] == 5
    assert body["clientOrderId"] not in {o.client_order_id for o in book}
    status, body = await rest(server, bob, "GET", "/api/v3/myTrades", symbol=SYMBOL)
    assert (status, [t["id"] for t in body]) == (200, [1, 2])


async def test_a_revoked_key_stays_revoked_and_a_new_key_survives(restartable):
    server = await restartable()
    alice = await server.create_account()
    status, extra = await server.admin(
        "POST", f"/admin/v1/accounts/{alice['accountId']}/keys", {"permissions": ["USER_DATA"]}
    )
    assert status == 200
    status, _ = await server.admin("DELETE", f"/admin/v1/keys/{alice['apiKey']}")
    assert status == 200

    server = await restartable()
    assert server.services.keys.get(alice["apiKey"]) is None
    kept = server.services.keys.get(extra["apiKey"])
    assert kept is not None
    assert kept.secret_key == extra["secretKey"]
    assert sorted(p.value for p in kept.permissions) == ["USER_DATA"]


async def test_restart_from_a_snapshot_plus_journal_tail(restartable):
    server = await restartable(snapshot_every_commands=3)
    alice = await server.create_account()
    for i in range(7):
        await place(server, alice, "SELL", str(30000 + i), "0.01")
    status, taken = await server.admin("POST", "/admin/v1/snapshot")
    assert (status, taken["durable"]) == (200, True)
    await place(server, alice, "SELL", "31000", "0.01")
    before = digest(server)
    server = await restartable()
    assert digest(server) == before


async def test_reset_everything(restartable):
    server = await restartable()
    alice = await server.create_account()
    await place(server, alice, "SELL", "30000", "0.1")
    status, body = await server.admin("POST", "/admin/v1/reset", {})
    assert (status, body) == (200, {"accounts": 0, "keepAccounts": False})
    assert server.services.keys.get(alice["apiKey"]) is None
    server = await restartable()
    assert len(server.services.engine.accounts) == 0
    assert (await server.create_account())["accountId"] == 1


async def test_reset_keeping_accounts_restores_initial_funding(restartable):
    server = await restartable()
    alice = await server.create_account(balances={"BTC": "2", "USDT": "1000"})
    bob = await server.create_account(balances={"USDT": "50000"})
    await place(server, alice, "SELL", "30000", "1")
    await place(server, bob, "BUY", "30000", "0.5")
    await server.admin("POST", f"/admin/v1/accounts/{bob['accountId']}/balances",
                       {"balances": {"ETH": "3"}})  # fmt: skip
    status, body = await server.admin("POST", "/admin/v1/reset", {"keepAccounts": True})
    assert (status, body) == (200, {"accounts": 2, "keepAccounts": True})

    async def check(server: Server, next_order_id: int) -> None:
        engine = server.services.engine
        assert len(engine.all_orders(1, SYMBOL)) == next_order_id - 1
        assert engine.trades(SYMBOL) == []
        balances = {
            a.account_id: {k: str(b.total.normalize()) for k, b in a.balances.items() if b.total}
            for a in engine.accounts
        }
        assert balances == {1: {"BTC": "2", "USDT": "1E+3"}, 2: {"USDT": "5E+4"}}
        body = await place(server, alice, "SELL", "30000", "0.1")  # keys kept
        assert body["orderId"] == next_order_id

    await check(server, 1)
    await check(await restartable(), 2)


async def test_reset_refuses_unknown_fields(restartable):
    server = await restartable()
    status, body = await server.admin("POST", "/admin/v1/reset", {"keep": True})
    assert (status, body) == (400, {"error": "unknown field(s): keep"})


async def test_export_then_import_rebuilds_the_same_state(restartable, start_server, clock):
    server = await restartable()
    alice = await server.create_account()
    bob = await server.create_account()
    await place(server, alice, "SELL", "30000", "0.2")
    await place(server, bob, "BUY", "30000", "0.1")
    status, exported = await server.admin("GET", "/admin/v1/export")
    assert status == 200
    assert exported["format"] == "localspot-export"
    assert [r["kind"] for r in exported["journal"]] == [
        "CreateAccount", "KeyCreated", "CreateAccount", "KeyCreated", "PlaceOrder", "PlaceOrder"
    ]  # fmt: skip
    assert exported["state"]["accounts"]["1"]["balances"]["BTC"] == ["9.8", "0.1"]
    before = digest(server)

    other = await start_server(Config(in_memory=True), clock)
    status, body = await other.admin("POST", "/admin/v1/import", exported)
    assert (status, body) == (200, {"records": 6, "accounts": 2})
    assert digest(other) == before
    await place(other, alice, "SELL", "30001", "0.1")  # the imported key signs


async def test_import_refuses_what_it_cannot_read(server):
    status, body = await server.admin("POST", "/admin/v1/import", {"format": "x"})
    message = 'not a localspot export (format must be "localspot-export")'
    assert (status, body) == (400, {"error": message})
    doc = {"format": "localspot-export", "version": 1, "journal": [{"kind": "Nope", "nowMs": 1}]}
    status, body = await server.admin("POST", "/admin/v1/import", doc)
    assert status == 400
    assert "journal[0]: unknown journal entry kind 'Nope'" in body["error"]


async def test_in_memory_server_supports_the_same_admin_calls(server):
    account = await server.create_account()
    status, _ = await server.admin("POST", "/admin/v1/snapshot")
    assert status == 200
    status, exported = await server.admin("GET", "/admin/v1/export")
    assert (status, len(exported["journal"])) == (200, 2)
    status, _ = await server.admin("POST", "/admin/v1/reset", {"keepAccounts": True})
    assert status == 200
    assert server.services.keys.get(account["apiKey"]) is not None


async def test_torn_journal_tail_restarts_with_the_prefix(restartable, tmp_path):
    server = await restartable(snapshot_every_s=0)
    alice = await server.create_account()
    await place(server, alice, "SELL", "30000", "0.1")
    prefix = digest(server)
    await place(server, alice, "SELL", "30001", "0.1")
    persistence = server.server.app[PERSISTENCE]
    persistence._since_snapshot = 0  # no final snapshot: the journal alone holds the tail
    await server.close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("DELETE FROM snapshots")
        (seq,) = db.execute("SELECT MAX(seq) FROM journal").fetchone()
        db.execute("UPDATE journal SET payload = substr(payload, 1, 20) WHERE seq = ?", (seq,))
    server = await restartable()
    assert digest(server) == prefix
    assert [o.order_id for o in server.services.engine.open_orders(1)] == [1]


def test_replay_command_verifies_a_data_dir(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "localspot", "replay", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "holds no localspot data" in result.stderr


async def test_replay_command_on_a_written_dir(restartable, tmp_path):
    server = await restartable()
    alice = await server.create_account()
    await place(server, alice, "SELL", "30000", "0.1")
    await server.admin("POST", "/admin/v1/snapshot")
    await place(server, alice, "SELL", "30001", "0.1")
    await server.close()
    result = subprocess.run(  # noqa: ASYNC221 - the server is stopped; nothing else runs
        [sys.executable, "-m", "localspot", "replay", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journal records replayed: 4" in result.stdout
    assert "compared with the snapshot at seq 4" in result.stdout  # the final one at shutdown
    assert result.stdout.endswith("OK\n")


def test_data_dir_path_is_a_path():
    assert isinstance(Config(data_dir=Path("x")).data_dir, Path)
