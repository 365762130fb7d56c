"""Benchmark market data fan-out (a script, not a test).

One symbol trades at a steady pace (a maker's LIMIT sell, then a taker's MARKET buy that fills
it: one trade per pair) through the engine door, `Services.execute`, exactly as the order
methods do. Run twice: without subscribers, then with `--subscribers` WebSocket clients on
`/stream?streams=btcusdt@trade/btcusdt@depth@100ms&timeUnit=MICROSECOND`. Prints the order
path's commands/s both ways and their ratio, events delivered/s, and publish-to-receive
latency of trade events (receive time minus the event's `E`, in microseconds). Never asserts.

The subscribers run in a child process (their own event loop), so the server process pays
only for fan-out: building each payload once, queueing it per connection and writing it.

    .venv/bin/python bench/fanout.py [--subscribers 100] [--pairs 2000] [--flush-ms 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from localspot.app import SERVICES, build_app  # noqa: E402
from localspot.config import Config  # noqa: E402
from localspot.domain.commands import CreateAccount, PlaceOrder  # noqa: E402
from localspot.domain.enums import OrderType, Side, TimeInForce  # noqa: E402
from localspot.domain.events import AccountCreated  # noqa: E402
from localspot.domain.numbers import Scaled  # noqa: E402
from localspot.transport.ws_streams import STREAM_SERVER  # noqa: E402

STREAMS = "btcusdt@trade/btcusdt@depth@100ms"


async def trade_pairs(services, maker: int, taker: int, pairs: int) -> tuple[float, float]:
    """Run `pairs` sell+buy pairs; return commands per second (wall clock) and per second of
    this process's CPU time (what the box's other processes, the subscribers included, do
    not change)."""
    sell = PlaceOrder(
        maker, "BTCUSDT", Side.SELL, OrderType.LIMIT, TimeInForce.GTC, Scaled.parse("0.001"),
        price=Scaled.parse("30000"),
    )  # fmt: skip
    buy = PlaceOrder(taker, "BTCUSDT", Side.BUY, OrderType.MARKET, quantity=Scaled.parse("0.001"))
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(pairs):
        await services.execute(sell)
        await services.execute(buy)
        await asyncio.sleep(0)  # let writers and readers run, as a server under load would
    return 2 * pairs / (time.perf_counter() - started), 2 * pairs / (time.process_time() - cpu)


async def subscriber(session, url, latencies: list[int], counts: list[int], connected) -> None:
    async with session.ws_connect(url) as ws:
        counts[1] += 1
        connected.release()
        async for msg in ws:
            now_us = time.time_ns() // 1_000
            counts[0] += 1
            data = json.loads(msg.data)["data"]
            if data.get("e") == "trade":
                latencies.append(now_us - data["E"])


def clients(url: str, subscribers: int, pipe) -> None:
    """Child process: hold `subscribers` connections; report counts and latencies on request."""

    async def run() -> None:
        latencies: list[int] = []
        counts = [0, 0]
        connected = asyncio.Semaphore(0)
        async with aiohttp.ClientSession() as session:
            tasks = [
                asyncio.create_task(subscriber(session, url, latencies, counts, connected))
                for _ in range(subscribers)
            ]
            for _ in range(subscribers):
                await connected.acquire()
            pipe.send("ready")
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "start"
            counts[0] = 0
            del latencies[:]
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
            pipe.send((counts[0], latencies))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())


async def main(subscribers: int, pairs: int, flush_ms: float | None) -> None:
    config = Config(rate_limits_enabled=False)
    app = build_app(config)
    if flush_ms is not None:
        app[STREAM_SERVER].flush_interval = flush_ms / 1000
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    services = app[SERVICES]
    balances = (("BTC", Decimal(10**6)), ("USDT", Decimal(10**12)))
    ids = []
    for _ in range(2):
        events = await services.execute(CreateAccount(balances))
        ids.extend(e.account_id for e in events if isinstance(e, AccountCreated))
    maker, taker = ids
    await trade_pairs(services, maker, taker, 200)  # warm up
    bare, bare_cpu = await trade_pairs(services, maker, taker, pairs)

    url = f"ws://127.0.0.1:{server.port}/stream?streams={STREAMS}&timeUnit=MICROSECOND"
    here, there = multiprocessing.Pipe()
    child = multiprocessing.Process(target=clients, args=(url, subscribers, there))
    child.start()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, here.recv)  # "ready"
    here.send("start")
    started = time.perf_counter()
    loaded, loaded_cpu = await trade_pairs(services, maker, taker, pairs)
    await asyncio.sleep(0.5)  # let the last events and depth ticks arrive
    elapsed = time.perf_counter() - started
    here.send("stop")
    delivered, latencies = await loop.run_in_executor(None, here.recv)
    child.join()
    await server.close()

    latencies.sort()
    p50 = latencies[len(latencies) // 2] if latencies else 0
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0
    print(f"order path, no subscribers:     {bare:10.0f} commands/s")
    print(f"order path, {subscribers} subscribers:   {loaded:10.0f} commands/s")
    print(f"ratio:                          {loaded / bare:10.2f}  (target >= 0.8)")
    cpu_ratio = loaded_cpu / bare_cpu
    print(f"per CPU second: {bare_cpu:.0f} -> {loaded_cpu:.0f} commands, ratio {cpu_ratio:.2f}")
    print(f"events delivered:               {delivered / elapsed:10.0f} /s ({delivered} total)")
    print(f"trade publish-to-receive:       p50 {p50} us, p99 {p99} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--flush-ms", type=float, default=None, help="stream flush interval")
    args = parser.parse_args()
    asyncio.run(main(args.subscribers, args.pairs, args.flush_ms))
