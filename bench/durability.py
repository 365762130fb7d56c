"""Benchmark what durability costs: signed `order.place` over the WS API, journal on vs off.

Starts `localspot serve` twice (a temporary `--data-dir` with default storage settings, then
`--in-memory`), rate limits off, and drives each with C WebSocket connections, each sending
signed LIMIT orders back to back (half BUY, half SELL at one price, so most fill and the book
stays small). Prints orders/s for both and the ratio. A script, not a test; never asserts.

    .venv/bin/python bench/durability.py [--seconds 5] [--connections 16] [--synchronous FULL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

URL_LINE = re.compile(r"ws://127\.0\.0\.1:(\d+)/ws-api/v3")
FUNDING = {"BTC": "1000000", "USDT": "100000000000"}


def start(args: list[str], config: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "localspot", "serve", "--port", "0", "--config", str(config),
         "--log-level", "WARNING", *args],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    match = URL_LINE.search(process.stdout.readline())
    assert match, "server did not start"
    return process, int(match.group(1))


def sign(params: dict[str, Any], account: dict[str, Any]) -> dict[str, Any]:
    signed = {**params, "apiKey": account["apiKey"]}
    payload = "&".join(f"{k}={v}" for k, v in sorted(signed.items()))
    signed["signature"] = hmac.new(
        account["secretKey"].encode(), payload.encode(), hashlib.sha256
    ).hexdigest()
    return signed


async def connection(port: int, account: dict[str, Any], side: str, stop_at: float) -> int:
    done = 0
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"ws://127.0.0.1:{port}/ws-api/v3") as ws,
    ):
        while time.perf_counter() < stop_at:
            params = sign(
                {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "GTC",
                 "price": "30000", "quantity": "0.01", "newOrderRespType": "ACK",
                 "timestamp": int(time.time() * 1000)},
                account,
            )  # fmt: skip
            await ws.send_str(json.dumps({"id": done, "method": "order.place", "params": params}))
            reply = json.loads((await ws.receive()).data)
            if reply.get("status") != 200:
                raise RuntimeError(reply)
            done += 1
    return done


async def measure(port: int, connections: int, seconds: float) -> float:
    async with aiohttp.ClientSession() as session:
        accounts = []
        for _ in range(2):
            async with session.post(
                f"http://127.0.0.1:{port}/admin/v1/accounts", json={"balances": FUNDING}
            ) as response:
                accounts.append(await response.json())
    await asyncio.gather(*(connection(port, accounts[i % 2], "BUY", 0) for i in range(2)))
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(
            connection(port, accounts[i % 2], ("BUY", "SELL")[i % 2], started + seconds)
            for i in range(connections)
        )
    )
    return sum(counts) / (time.perf_counter() - started)


def run(label: str, args: list[str], config: Path, ns: argparse.Namespace) -> float:
    process, port = start(args, config)
    try:
        rate = asyncio.run(measure(port, ns.connections, ns.seconds))
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"{label:<40} {rate:9.0f} orders/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--synchronous", help="also pass --synchronous to the journal run")
    parser.add_argument("--commit-window-ms", help="also pass --commit-window-ms")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text("[rate_limits]\nenabled = false\n")
        extra = []
        if ns.synchronous:
            extra += ["--synchronous", ns.synchronous]
        if ns.commit_window_ms:
            extra += ["--commit-window-ms", ns.commit_window_ms]
        label = "journal (" + (" ".join(extra) or "default settings") + ")"
        journal = run(label, ["--data-dir", str(Path(tmp) / "data"), *extra], config, ns)
        memory = run("--in-memory", ["--in-memory"], config, ns)
    print(f"{ns.connections} connections, {ns.seconds:g} s each")
    print(
        f"journal / in-memory = {journal / memory:.2f} (journal costs {1 - journal / memory:.0%})"
    )


if __name__ == "__main__":
    main()
