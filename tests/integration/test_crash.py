"""Crash safety: a real server process is SIGKILLed while orders stream in, then restarted on
the same data dir, at several kill points. Everything acknowledged must still be there.

Checked after each restart: every order that got a 200 exists with its id and client id, its
acknowledged fills are trades with the same ids, prices and quantities (more fills may have
come later), no rejected order exists, every account's balance equals its funding plus the
trades it made, and `localspot replay` finds the journal and the snapshot in agreement.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

URL_LINE = re.compile(r"REST (http://127\.0\.0\.1:(\d+))/api/v3")
FUNDING = {"BTC": "100", "USDT": "10000000"}
KILL_AFTER_S = (0.4, 0.9, 0.2)


class Process:
    def __init__(self, data_dir: Path, config: Path) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "localspot", "serve", "--port", "0", "--data-dir",
             str(data_dir), "--config", str(config), "--log-level", "WARNING"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        line = self.popen.stdout.readline()
        match = URL_LINE.search(line)
        assert match, f"no startup line: {line!r} {self.popen.stderr.read()}"
        self.base = match.group(1)

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()
        self.popen.stdout.close()
        self.popen.stderr.close()

    def stop(self) -> None:
        self.popen.send_signal(signal.SIGTERM)
        self.popen.wait(timeout=20)
        self.popen.stdout.close()
        self.popen.stderr.close()


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, account: dict[str, Any]):
        self.session, self.base, self.account = session, base, account

    async def call(self, method: str, path: str, **params: Any) -> tuple[int, Any]:
        params["timestamp"] = int(time.time() * 1000)
        query = urlencode(params)
        signature = hmac.new(
            self.account["secretKey"].encode(), query.encode(), hashlib.sha256
        ).hexdigest()
        url = f"{self.base}{path}?{query}&signature={signature}"
        headers = {"X-MBX-APIKEY": self.account["apiKey"]}
        async with self.session.request(method, url, headers=headers) as response:
            return response.status, await response.json()


async def trade(client: Client, side: str, run: int, worker: int, acked: dict, rejected: set):
    """Place orders back to back until cancelled; record what was acknowledged or refused."""
    n = 0
    while True:
        n += 1
        client_id = f"r{run}w{worker}n{n}"
        too_big = n % 7 == 0  # insufficient balance: must never exist
        price = "30000" if n % 3 else "29990" if side == "BUY" else "30010"
        status, body = await client.call(
            "POST", "/api/v3/order", symbol="BTCUSDT", side=side, type="LIMIT",
            timeInForce="GTC", price=price, quantity="1000000" if too_big else "0.01",
            newClientOrderId=client_id, newOrderRespType="FULL",
        )  # fmt: skip
        if status == 200:
            acked[client_id] = body
        elif status == 400:
            rejected.add((client.account["accountId"], client_id))
        else:  # pragma: no cover - would be a bug
            raise AssertionError((status, body))


async def pages(client: Client, method: str) -> list[Any]:
    """Every allOrders / myTrades row, 1000 at a time."""
    rows: list[Any] = []
    key, start = ("orderId", "orderId") if method == "allOrders" else ("id", "fromId")
    while True:
        params = {start: rows[-1][key] + 1} if rows else {}
        status, body = await client.call(
            "GET", f"/api/v3/{method}", symbol="BTCUSDT", limit=1000, **params
        )
        assert status == 200, body
        rows += body
        if len(body) < 1000:
            return rows


async def check(base: str, accounts: list[dict], acked: dict, rejected: set) -> None:
    async with aiohttp.ClientSession() as session:
        orders: dict[str, Any] = {}
        trades: dict[int, dict[int, Any]] = {}
        for account in accounts:
            client = Client(session, base, account)
            orders.update({o["clientOrderId"]: o for o in await pages(client, "allOrders")})
            trades[account["accountId"]] = {t["id"]: t for t in await pages(client, "myTrades")}
            status, body = await client.call("GET", "/api/v3/account")
            assert status == 200, body
            totals = {
                b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in body["balances"]
            }
            expected = {asset: Decimal(v) for asset, v in FUNDING.items()}
            for t in trades[account["accountId"]].values():
                sign = 1 if t["isBuyer"] else -1
                expected["BTC"] += sign * Decimal(t["qty"])
                expected["USDT"] -= sign * Decimal(t["quoteQty"])
            assert {a: totals.get(a, Decimal(0)) for a in expected} == expected
    for client_id, ack in acked.items():
        order = orders.get(client_id)
        assert order is not None, f"acknowledged order {client_id} is gone"
        assert order["orderId"] == ack["orderId"]
        # Only the reply's own fills are facts of its command: executedQty/status in a reply
        # are read from the live order after the commit wait, so they may include fills by
        # later commands that were not durable yet (see docs/persistence.md, known limits).
        own = sum((Decimal(f["qty"]) for f in ack["fills"]), Decimal(0))
        assert Decimal(order["executedQty"]) >= own, (order, ack)
        for fill in ack["fills"]:
            account_trades = {
                tid: t for per in trades.values() for tid, t in per.items()
                if t["orderId"] == ack["orderId"]
            }  # fmt: skip
            trade = account_trades[fill["tradeId"]]
            assert (trade["price"], trade["qty"]) == (fill["price"], fill["qty"])
    for _, client_id in rejected:
        assert client_id not in orders, f"rejected order {client_id} exists"


async def test_sigkill_mid_stream_loses_nothing_acknowledged(tmp_path):
    data_dir = tmp_path / "data"
    config = tmp_path / "localspot.toml"
    config.write_text("[rate_limits]\nenabled = false\n")
    acked: dict[str, Any] = {}
    rejected: set[tuple[int, str]] = set()
    process = Process(data_dir, config)
    async with aiohttp.ClientSession() as session:
        accounts = []
        for _ in range(2):
            async with session.post(process.base + "/admin/v1/accounts",
                                    json={"balances": FUNDING}) as response:  # fmt: skip
                accounts.append(await response.json())
    for run, kill_after in enumerate(KILL_AFTER_S):
        async with aiohttp.ClientSession() as session:
            buyer, seller = (Client(session, process.base, a) for a in accounts)
            workers = [
                asyncio.create_task(trade(c, side, run, w, acked, rejected))
                for w, (c, side) in enumerate([(buyer, "BUY"), (seller, "SELL")] * 3)
            ]
            await asyncio.sleep(kill_after)
            process.kill()  # mid-stream: requests are in flight
            results = await asyncio.gather(*workers, return_exceptions=True)
            for result in results:
                assert isinstance(result, aiohttp.ClientError | asyncio.CancelledError), result
        process = Process(data_dir, config)
        await check(process.base, accounts, acked, rejected)
    assert len(acked) > 50
    assert rejected
    process.stop()
    replay = subprocess.run(  # noqa: ASYNC221 - the server is stopped; nothing else runs
        [sys.executable, "-m", "localspot", "replay", str(data_dir), "--config", str(config)],
        capture_output=True, text=True, env={**os.environ},
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr
