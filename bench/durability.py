"""Benchmark what durability costs: signed `order.place` over the WS API, journal on vs off.

Starts `localspot serve` twice (a temporary `--data-dir` with default storage settings, then
`--in-memory`), rate limits off, and drives each with C WebSocket connections, each sending
signed LIMIT orders back to back (half BUY, half SELL at one price, so most fill and the book
stays small). Prints orders/s for both, the server's CPU time per order (Linux: from /proc;
steadier than orders/s on a shared machine) and the ratio. With `--rounds N`, N rounds each
start both servers and measure them in turn (A B, then B A), and the ratio is the median of the
rounds': a change in the machine's load then hits both alike. A script, not a test; never
asserts.

    .venv/bin/python bench/durability.py [--seconds 5] [--connections 16] [--synchronous FULL]
                                         [--commit-window-ms 0.5] [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

URL_LINE = re.compile(r"ws://127\.0\.0\.1:(\d+)/ws-api/v3")
FUNDING = {"BTC": "1000000", "USDT": "100000000000"}
Server = tuple[subprocess.Popen[str], int, list[dict[str, Any]]]  # process, port, accounts


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


def cpu_seconds(pid: int) -> float | None:
    """Return the user + system CPU time a process has used so far (None if unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def make_accounts(port: int) -> list[dict[str, Any]]:
    """Create the two trading accounts and warm the server up."""
    async with aiohttp.ClientSession() as session:
        accounts = []
        for _ in range(2):
            async with session.post(
                f"http://127.0.0.1:{port}/admin/v1/accounts", json={"balances": FUNDING}
            ) as response:
                accounts.append(await response.json())
    await asyncio.gather(*(connection(port, accounts[i % 2], "BUY", 0) for i in range(2)))
    return accounts


async def measure(server: Server, connections: int, seconds: float) -> tuple[float, float]:
    """Drive `server` for `seconds`; return orders/s and its CPU seconds per order."""
    process, port, accounts = server
    cpu_before = cpu_seconds(process.pid)
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(
            connection(port, accounts[i % 2], ("BUY", "SELL")[i % 2], started + seconds)
            for i in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(process.pid)
    cpu = math.nan if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return sum(counts) / elapsed, cpu / max(sum(counts), 1)


def report(label: str, rate: float, cpu: float) -> None:
    print(f"{label:<40} {rate:9.0f} orders/s {cpu * 1e6:6.0f} us server CPU/order")


async def one_after_the_other(
    runs: list[tuple[str, list[str]]], config: Path, ns: argparse.Namespace
) -> float:
    """Run the journal server, then the in-memory one; return the ratio of their rates."""
    rates = []
    for label, args in runs:
        process, port = start([a.format(round=0) for a in args], config)
        try:
            server = (process, port, await make_accounts(port))
            rate, cpu = await measure(server, ns.connections, ns.seconds)
        finally:
            process.terminate()
            process.wait(timeout=30)
        report(label, rate, cpu)
        rates.append(rate)
    return rates[0] / rates[1]


async def interleaved(
    runs: list[tuple[str, list[str]]], config: Path, ns: argparse.Namespace
) -> float:
    """Measure both servers in each round, in turn; return the median ratio per round."""
    # Each round starts both servers afresh (a fresh data dir: what one run measures) and
    # measures them one after the other, A B then B A, so a change in the machine's load
    # hits both alike.
    results: list[list[tuple[float, float]]] = [[] for _ in runs]
    for round_ in range(ns.rounds):
        servers: list[Server] = []
        try:
            for _, args in runs:
                servers.append((*start([a.format(round=round_) for a in args], config), []))
            for i, (process, port, _) in enumerate(servers):
                servers[i] = (process, port, await make_accounts(port))
            order = range(len(runs)) if round_ % 2 == 0 else reversed(range(len(runs)))
            for i in order:
                results[i].append(await measure(servers[i], ns.connections, ns.seconds))
        finally:
            for process, _, _ in servers:
                process.terminate()
                process.wait(timeout=30)
    for (label, _), measured in zip(runs, results, strict=True):
        report(
            label,
            statistics.median(r for r, _ in measured),
            statistics.median(c for _, c in measured),
        )
    ratios = [j[0] / m[0] for j, m in zip(results[0], results[1], strict=True)]
    print("journal / in-memory per round: " + " ".join(f"{r:.2f}" for r in ratios))
    return statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--synchronous", help="also pass --synchronous to the journal run")
    parser.add_argument("--commit-window-ms", help="also pass --commit-window-ms")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="above 1: this many rounds, each starting both servers and measuring them in "
        "turn (steadier on a shared machine); the ratio is the median per round",
    )
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
        runs = [
            (label, ["--data-dir", str(Path(tmp) / "data-{round}"), *extra]),
            ("--in-memory", ["--in-memory"]),
        ]
        drive = interleaved if ns.rounds > 1 else one_after_the_other
        ratio = asyncio.run(drive(runs, config, ns))
    rounds = f", {ns.rounds} rounds" if ns.rounds > 1 else ""
    print(f"{ns.connections} connections, {ns.seconds:g} s each{rounds}")
    print(f"journal / in-memory = {ratio:.2f} (journal costs {1 - ratio:.0%})")


if __name__ == "__main__":
    main()
