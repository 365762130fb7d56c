"""Benchmark the matching engine against the naive reference book (a script, not a test).

Workload (generated up front, seeded, then timed): 70% passive LIMIT GTC places near the mid,
20% cancels of open orders, 10% crossing orders (half aggressive LIMIT IOC, half MARKET) that
also move the mid. Fifty accounts with ample balances (1,000,000 BTC and 1,000,000,000 USDT
each; balances are integers of 1E-8, which fit a machine word up to about 46 billion units)
trade the testnet BTCUSDT symbol (its real filters and default STP mode, EXPIRE_MAKER). A
shadow engine runs during generation so cancels target orders that are still open. The same
steps are replayed through `NaiveBook` (tests/property/naive_book.py) as a baseline. Prints
commands/s and µs/command; never asserts.

    .venv/bin/python bench/engine.py [--commands 50000] [--naive-commands N] [--profile]
                                     [--gc-freeze]

The engine runs as installed: interpreted, or compiled by mypyc when the package was installed
with `LOCALSPOT_COMPILE=1` (setup.py); the first lines say which.

Garbage collection is on, as in the server, and its share of the engine's time is printed.
`--gc-freeze` moves the pre-generated workload (tens of thousands of command objects that a
server would never hold at once) out of the collector's view first, so full collections scan
only what the engine itself keeps; the default leaves it in, like the first version of this
bench, so figures stay comparable.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "property"))

from naive_book import NaiveBook  # noqa: E402

from localspot.domain import is_compiled  # noqa: E402
from localspot.domain.commands import CancelOrder, CreateAccount, PlaceOrder  # noqa: E402
from localspot.domain.engine import Engine  # noqa: E402
from localspot.domain.enums import OrderType, Side, TimeInForce  # noqa: E402
from localspot.domain.events import CommandRejected, OrderAccepted  # noqa: E402
from localspot.domain.numbers import Scaled  # noqa: E402
from localspot.domain.symbols import SymbolSpec, load_symbols  # noqa: E402

FIXTURES = [
    ROOT / "tests" / "fixtures" / "exchangeInfo-testnet.json",
    ROOT.parent / "shared" / "fixtures" / "exchangeInfo-testnet.json",  # beside the repository
    ROOT / "src" / "localspot" / "data" / "symbols.json",  # the packaged defaults
]
ACCOUNTS = 50
NOW = 1_700_000_000_000


def btcusdt() -> SymbolSpec:
    path = next(p for p in FIXTURES if p.exists())
    return next(s for s in load_symbols(json.loads(path.read_text())) if s.symbol == "BTCUSDT")


def fresh_engine() -> Engine:
    engine = Engine([btcusdt()])
    for _ in range(ACCOUNTS):
        engine.apply(CreateAccount((("BTC", Decimal(10**6)), ("USDT", Decimal(10**9)))), 0)
    return engine


def workload(count: int, seed: int) -> tuple[list[Any], list[tuple[str, Any]]]:
    """Return (engine commands, the same steps for the naive book)."""
    rng = random.Random(seed)
    shadow = fresh_engine()
    market = shadow.markets["BTCUSDT"]
    mid = 50_000_00  # in ticks
    commands: list[Any] = []
    naive: list[tuple[str, Any]] = []
    for step in range(count):
        roll = rng.random()
        command: Any
        naive_step: tuple[str, Any]
        if roll < 0.2 and market.open_by_account:
            owner = rng.choice(list(market.open_by_account))
            order_id = rng.choice(list(market.open_by_account[owner]))
            command = CancelOrder(owner, "BTCUSDT", order_id=order_id)
            naive_step = ("cancel", order_id)
        else:
            is_buy = rng.random() < 0.5
            price: Scaled | None
            tif: TimeInForce | None = TimeInForce.GTC
            if roll < 0.9:
                offset = rng.randint(1, 50)
                price = Scaled((mid - offset) if is_buy else (mid + offset), -2)  # in ticks
                qty = Scaled(rng.randint(100, 1_000), -5)
            else:
                mid += rng.choice((-1, 1))  # the market drifts when someone takes liquidity
                qty = Scaled(rng.randint(800, 3_200), -5)
                if rng.random() < 0.5:
                    price = Scaled((mid + 100) if is_buy else (mid - 100), -2)
                    tif = TimeInForce.IOC
                else:
                    price, tif = None, None
            command = PlaceOrder(
                rng.randint(1, ACCOUNTS),
                "BTCUSDT",
                Side.BUY if is_buy else Side.SELL,
                OrderType.LIMIT if price is not None else OrderType.MARKET,
                tif,
                qty,
                price=price,
            )
            limit = None if price is None else price.decimal
            naive_step = ("place", [None, is_buy, limit, qty.decimal, tif.value if tif else "IOC"])
        events = shadow.apply(command, NOW + step)
        if naive_step[0] == "place" and isinstance(events[0], OrderAccepted):
            naive_step[1][0] = events[0].order.order_id
        commands.append(command)
        naive.append(naive_step)
    return commands, naive


class GcTimer:
    """Time spent in garbage collection while installed (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1


def run_engine(
    commands: list[Any], profile: bool, gc_timer: GcTimer
) -> tuple[float, Engine, dict[str, int]]:
    engine = fresh_engine()
    apply = engine.apply
    outcome = {"accepted": 0, "rejected": 0}
    profiler = cProfile.Profile() if profile else None
    gc.collect()
    gc.callbacks.append(gc_timer)
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    for i, command in enumerate(commands):
        first = apply(command, NOW + i)[0]
        if type(first) is OrderAccepted:
            outcome["accepted"] += 1
        elif type(first) is CommandRejected:
            outcome["rejected"] += 1
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    gc.callbacks.remove(gc_timer)
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return elapsed, engine, outcome


def run_naive(steps: list[tuple[str, Any]]) -> float:
    book = NaiveBook()
    gc.collect()
    start = time.perf_counter()
    for kind, args in steps:
        if kind == "cancel":
            book.cancel(args)
        elif args[0] is not None:
            book.place(*args)
    return time.perf_counter() - start


def report(name: str, count: int, seconds: float) -> float:
    rate = count / seconds
    print(
        f"{name:<7} {count:>9,} commands {seconds:8.3f} s {rate:>11,.0f} commands/s "
        f"{seconds / count * 1e6:8.2f} µs/command"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--commands", type=int, default=50_000)
    parser.add_argument("--naive-commands", type=int, default=None, help="default: all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--gc-freeze", action="store_true", help="see the module docstring")
    args = parser.parse_args()
    commands, naive_steps = workload(args.commands, args.seed)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    gc_timer = GcTimer()
    elapsed, engine, outcome = run_engine(commands, args.profile, gc_timer)
    market = engine.markets["BTCUSDT"]
    open_orders = sum(len(orders) for orders in market.open_by_account.values())
    print(f"workload: 70% limit place / 20% cancel / 10% crossing, seed {args.seed}")
    build = "compiled (mypyc)" if is_compiled() else "interpreted"
    print(f"engine build: {build}; Python {sys.version.split()[0]}")
    print(
        f"engine: {outcome['accepted']:,} orders accepted, {outcome['rejected']:,} rejected, "
        f"{len(market.trades):,} trades, {len(market.prevented):,} prevented matches, "
        f"{open_orders:,} open orders on {len(market.book.bids) + len(market.book.asks)} levels"
    )
    engine_rate = report("engine", len(commands), elapsed)
    print(
        f"        gc: {gc_timer.collections} collections, {gc_timer.seconds:.3f} s "
        f"({gc_timer.seconds / elapsed:.0%} of the engine's time)"
        + (", workload frozen" if args.gc_freeze else "")
    )
    naive_count = args.naive_commands or len(naive_steps)
    naive_rate = report("naive", naive_count, run_naive(naive_steps[:naive_count]))
    print(f"engine / naive: {engine_rate / naive_rate:.1f}x")


if __name__ == "__main__":
    main()
