"""Random command sequences through the engine, checked against invariants and a naive book.

After every command: the book is not crossed, live orders of a level are in FIFO priority and the
level's counters agree with them, free+locked+commission is conserved per asset, every locked
balance equals what the account's open orders hold, and (without STP) the fills and the resting
orders agree with `NaiveBook`. After each example the command log is replayed on a fresh engine
and must give identical state.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from naive_book import NaiveBook

from localspot.domain.accounts import CommissionRates
from localspot.domain.commands import (
    AmendOrder,
    CancelOrder,
    CreateAccount,
    PlaceOrder,
)
from localspot.domain.engine import Engine
from localspot.domain.enums import OrderType, PegPriceType, Side, StpMode, TimeInForce
from localspot.domain.events import CommandRejected, OrderAccepted, OrderAmended, TradeExecuted
from localspot.domain.numbers import Scaled, from_raw
from localspot.domain.symbols import LotSize, PriceFilter, SymbolSpec

SYMBOL = "BTCUSDT"
ACCOUNTS = 3
RATES = CommissionRates(maker=Decimal("0.001"), taker=Decimal("0.002"), buyer=Decimal("0.0005"))


def make_spec() -> SymbolSpec:
    return SymbolSpec(
        symbol=SYMBOL,
        base_asset="BTC",
        quote_asset="USDT",
        price_filter=PriceFilter(Decimal("0.01"), Decimal(1000), Decimal("0.01")),
        lot_size=LotSize(Decimal("0.001"), Decimal(1000), Decimal("0.001")),
        default_stp_mode=StpMode.NONE,
    )


@dataclass(frozen=True)
class Place:
    account: int
    is_buy: bool
    price_ticks: int | None  # None: MARKET
    lots: int
    tif: TimeInForce
    stp: StpMode


@dataclass(frozen=True)
class PegPlace:
    """A pegged LIMIT order (pegged_orders.md)."""

    account: int
    is_buy: bool
    peg: PegPriceType
    offset: int | None
    lots: int
    tif: TimeInForce
    stp: StpMode


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Amend:
    pick: int
    lots_less: int


def places(stp_modes: list[StpMode]) -> st.SearchStrategy[Place]:
    return st.builds(
        Place,
        account=st.integers(1, ACCOUNTS),
        is_buy=st.booleans(),
        price_ticks=st.one_of(st.none(), st.integers(9_990, 10_010)),
        lots=st.integers(1, 3_000),
        tif=st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        stp=st.sampled_from(stp_modes),
    )


def peg_places(stp_modes: list[StpMode]) -> st.SearchStrategy[PegPlace]:
    return st.builds(
        PegPlace,
        account=st.integers(1, ACCOUNTS),
        is_buy=st.booleans(),
        peg=st.sampled_from(list(PegPriceType)),
        offset=st.one_of(st.none(), st.integers(0, 3)),
        lots=st.integers(1, 3_000),
        tif=st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        stp=st.sampled_from(stp_modes),
    )


def actions(stp_modes: list[StpMode]) -> st.SearchStrategy[list[Any]]:
    one = st.one_of(
        places(stp_modes),
        peg_places(stp_modes),
        places(stp_modes),
        places(stp_modes),
        st.builds(Cancel, st.integers(0, 10**6)),
        st.builds(Amend, st.integers(0, 10**6), st.integers(1, 2_000)),
    )
    return st.lists(one, min_size=1, max_size=50)


class Run:
    """The engine, the naive book, and the command log."""

    def __init__(self) -> None:
        self.engine = Engine([make_spec()])
        self.naive = NaiveBook()
        self.log: list[tuple[Any, int]] = []
        self.now = 0
        self.placed: list[int] = []
        for _ in range(ACCOUNTS):
            self.apply(CreateAccount((("BTC", Decimal(10**6)), ("USDT", Decimal(10**9))), RATES))
        self.initial = totals(self.engine)

    def apply(self, command: Any) -> list[Any]:
        self.now += 7
        self.log.append((command, self.now))
        return self.engine.apply(command, self.now)

    def command_for(self, action: Any) -> Any:
        if isinstance(action, Place):
            price = None if action.price_ticks is None else Scaled(action.price_ticks, -2)
            return PlaceOrder(
                action.account,
                SYMBOL,
                Side.BUY if action.is_buy else Side.SELL,
                OrderType.LIMIT if price is not None else OrderType.MARKET,
                action.tif if price is not None else None,
                quantity=Scaled(action.lots, -3),
                price=price,
                stp_mode=action.stp,
            )
        if isinstance(action, PegPlace):
            return PlaceOrder(
                action.account,
                SYMBOL,
                Side.BUY if action.is_buy else Side.SELL,
                OrderType.LIMIT,
                action.tif,
                quantity=Scaled(action.lots, -3),
                stp_mode=action.stp,
                peg_price_type=action.peg,
                peg_offset_value=action.offset,
                peg_offset_type=None if action.offset is None else "PRICE_LEVEL",
            )
        if not self.placed:
            return None
        order_id = self.placed[action.pick % len(self.placed)]
        order = self.engine.markets[SYMBOL].order_by_id(order_id)
        assert order is not None
        if isinstance(action, Cancel):
            return CancelOrder(order.account_id, SYMBOL, order_id=order_id)
        new_qty = Scaled.of(order.orig_qty - Decimal(action.lots_less) / 1000)
        return AmendOrder(order.account_id, SYMBOL, new_qty, order_id=order_id)


def totals(engine: Engine) -> dict[str, Decimal]:
    out = dict(engine.commission_collected)
    for account in engine.accounts:
        for asset, balance in account.balances.items():
            out[asset] = out.get(asset, Decimal(0)) + balance.free + balance.locked
    return out


def engine_levels(engine: Engine) -> tuple[list[Any], list[Any]]:
    market = engine.markets[SYMBOL]
    sides = []
    for side in (market.book.bids, market.book.asks):
        rows = []
        for level in side.levels_best_first():
            for order in level.live():
                price = order.pegged_price or order.price  # the book holds the pegged price
                rows.append((order.order_id, price, order.remaining_qty))
        sides.append(rows)
    return sides[0], sides[1]


def check_invariants(run: Run) -> None:
    engine = run.engine
    market = engine.markets[SYMBOL]
    book = market.book
    assert not book.is_crossed()
    for side in (book.bids, book.asks):
        assert side.keys == sorted(side.keys)
        assert len(side.keys) == len(side.levels)
        for level in side.levels.values():
            live = list(level.live())
            priorities = [o.priority for o in live]
            assert priorities == sorted(priorities)
            assert level.count == len(live) > 0
            assert level.total_raw == sum(o.visible_raw for o in live)
            assert all(o.price_raw == level.price_raw and o.status.is_open for o in live)
    assert totals(engine) == run.initial
    spec = market.spec
    for account in engine.accounts:
        open_orders = market.open_orders(account.account_id)
        base_locked = sum(o.locked_raw for o in open_orders if not o.is_buy)
        quote_locked = sum(o.locked_raw for o in open_orders if o.is_buy)
        assert account.balance("BTC").locked == from_raw(base_locked, spec.qty_decimals)
        assert account.balance("USDT").locked == from_raw(quote_locked, spec.quote_decimals)
        for asset in ("BTC", "USDT"):
            assert account.balance(asset).free >= 0
        for order in open_orders:
            assert order.in_book
            required = (
                market.quote_of(order.price_raw, order.remaining_raw)
                if order.is_buy
                else order.remaining_raw
            )
            assert order.locked_raw == required


def snapshot(engine: Engine) -> Any:
    market = engine.markets[SYMBOL]
    accounts = [
        (a.account_id, sorted((k, v.free, v.locked) for k, v in a.balances.items()))
        for a in engine.accounts
    ]
    orders = [
        (
            o.order_id,
            o.client_order_id,
            o.status,
            o.qty_raw,
            o.executed_raw,
            o.cum_quote_raw,
            o.prevented_raw,
            o.locked_raw,
            o.priority,
            o.update_time_ms,
        )
        for o in market.orders
    ]
    return accounts, orders, market.trades, market.prevented, engine_levels(engine)


def step(run: Run, action: Any, compare_naive: bool) -> None:
    command = run.command_for(action)
    if command is None:
        return
    expected_peg = _naive_peg_price(run, action) if isinstance(action, PegPlace) else None
    events = run.apply(command)
    fills = [
        (e.maker.order_id, e.taker.order_id, e.trade.price, e.trade.qty)
        for e in events
        if isinstance(e, TradeExecuted)
    ]
    accepted = [e.order.order_id for e in events if isinstance(e, OrderAccepted)]
    run.placed.extend(accepted)
    if isinstance(action, PegPlace) and compare_naive:
        if action.peg is PegPriceType.PRIMARY_PEG and action.tif is not TimeInForce.GTC:
            assert isinstance(events[0], CommandRejected)
            assert not accepted
        elif expected_peg is None:
            assert events[0] == CommandRejected(
                -2010, "Order book liquidity is too low for this pegged order."
            )
        else:
            assert accepted
            pegged = run.engine.markets[SYMBOL].order_by_id(accepted[0])
            assert pegged is not None
            assert pegged.pegged_price == expected_peg
    if compare_naive:
        naive_fills: list[Any] = []
        if isinstance(action, PegPlace) and accepted:
            naive_fills = run.naive.place(
                accepted[0], action.is_buy, expected_peg, command.quantity.decimal, action.tif.value
            )
        elif isinstance(action, Place) and accepted:
            naive_fills = run.naive.place(
                accepted[0],
                action.is_buy,
                None if command.price is None else command.price.decimal,
                command.quantity.decimal,
                action.tif.value if command.price is not None else "IOC",
            )
        elif isinstance(command, CancelOrder):
            run.naive.cancel(command.order_id)
        elif isinstance(command, AmendOrder) and any(isinstance(e, OrderAmended) for e in events):
            order = run.engine.markets[SYMBOL].order_by_id(command.order_id)
            assert order is not None
            run.naive.reduce(command.order_id, order.remaining_qty if order.is_open else Decimal(0))
        assert fills == naive_fills
        assert engine_levels(run.engine) == run.naive.levels()
    check_invariants(run)


def _naive_peg_price(run: Run, action: PegPlace) -> Decimal | None:
    bids, asks = run.naive.levels()
    own, other = (bids, asks) if action.is_buy else (asks, bids)
    side = own if action.peg is PegPriceType.PRIMARY_PEG else other
    prices = list(dict.fromkeys(price for _, price, _ in side))
    depth = action.offset or 0
    return prices[depth] if depth < len(prices) else None


def replay_matches(run: Run) -> None:
    fresh = Engine([make_spec()])
    for command, now in run.log:
        fresh.apply(command, now)
    assert snapshot(fresh) == snapshot(run.engine)


_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(actions([StpMode.NONE]))
def test_engine_agrees_with_naive_book_and_keeps_invariants(script: list[Any]) -> None:
    run = Run()
    for action in script:
        step(run, action, compare_naive=True)
    replay_matches(run)


@_SETTINGS
@given(actions(list(StpMode)))
def test_engine_keeps_invariants_under_every_stp_mode(script: list[Any]) -> None:
    run = Run()
    for action in script:
        step(run, action, compare_naive=False)
    replay_matches(run)
