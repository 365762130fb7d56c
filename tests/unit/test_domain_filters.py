"""Filters (filters.md): each pass/fail edge and the order failures are reported in."""

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_domain_support import D, Harness, S, fixture_specs, placed, simple_spec

from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import OrderType, Side, TimeInForce
from localspot.domain.events import CommandRejected, OrderAccepted
from localspot.domain.filters import AveragePrice, PriceBand
from localspot.domain.symbols import (
    LotSize,
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    TrailingDelta,
)


def failure(name: str) -> list[CommandRejected]:
    return [CommandRejected(-1013, f"Filter failure: {name}")]


@pytest.fixture
def testnet() -> Harness:
    return Harness(*fixture_specs())


def _with_trade(h: Harness, price: str) -> None:
    a, b = h.account(), h.account()
    h.place(a, "SELL", "0.01", price)
    h.place(b, "BUY", "0.01", price)


@pytest.mark.parametrize(
    ("price", "ok"),
    [("0.01", True), ("0.00", False), ("1000000", True), ("1000000.01", False), ("100.015", False)],
)
def test_price_filter_bounds_and_tick(price: str, ok: bool) -> None:
    h = Harness()
    a = h.account(usdt=10**8)
    events = h.place(a, "BUY", "0.001", price)
    assert isinstance(events[0], OrderAccepted) if ok else events == failure("PRICE_FILTER")


def test_price_filter_applies_to_stop_price() -> None:
    h = Harness()
    a = h.account()
    events = h.place(a, "SELL", "1", "100", OrderType.STOP_LOSS_LIMIT, stop_price=S("1.000000001"))
    assert events == [CommandRejected(-1111, "Parameter 'stopPrice' has too much precision.")]
    events = h.place(a, "SELL", "1", "100", OrderType.STOP_LOSS_LIMIT, stop_price=S("100.005"))
    assert events == failure("PRICE_FILTER")


@pytest.mark.parametrize(
    ("qty", "ok"),
    [("0.001", True), ("0.0009", False), ("9000", True), ("9000.001", False), ("1.0005", False)],
)
def test_lot_size_bounds_and_step(qty: str, ok: bool) -> None:
    h = Harness()
    a = h.account(usdt=10**8)
    events = h.place(a, "BUY", qty, "1")
    assert isinstance(events[0], OrderAccepted) if ok else events == failure("LOT_SIZE")


def test_lot_size_applies_to_iceberg_qty() -> None:
    h = Harness()
    a = h.account()
    assert h.place(a, "BUY", "1", "1", iceberg_qty=S("0.0005")) == failure("LOT_SIZE")


def test_market_lot_size_applies_to_market_orders_only() -> None:
    h = Harness(simple_spec(market_lot_size=LotSize(D(0), D("2"), D(0))))
    a = h.account()
    assert h.place(a, "SELL", "2.001", None) == failure("MARKET_LOT_SIZE")
    assert isinstance(h.place(a, "SELL", "2.001", "1")[0], OrderAccepted)


def test_iceberg_parts_limit() -> None:
    h = Harness(simple_spec(iceberg_parts=10))
    a = h.account()
    assert isinstance(h.place(a, "BUY", "1", "1", iceberg_qty=S("0.1"))[0], OrderAccepted)
    assert h.place(a, "BUY", "1", "1", iceberg_qty=S("0.099")) == failure("ICEBERG_PARTS")


def test_notional_min_and_max_for_limit_orders(testnet: Harness) -> None:
    a = testnet.account(usdt=10**8)
    assert testnet.place(a, "BUY", "0.0001", "49999.99") == failure("NOTIONAL")
    assert isinstance(testnet.place(a, "BUY", "0.0001", "50000")[0], OrderAccepted)
    assert testnet.place(a, "BUY", "9000", "1000.01") == failure("NOTIONAL")


def test_notional_for_market_orders_uses_the_average_price(testnet: Harness) -> None:
    _with_trade(testnet, "50000")
    a = testnet.account()
    # 0.00009 BTC at avg 50000 = 4.5 < 5 (applyMinToMarket) -> fails.
    assert testnet.place(a, "SELL", "0.00009", None) == failure("NOTIONAL")


def test_market_notional_passes_without_any_trade(testnet: Harness) -> None:
    a = testnet.account()
    assert isinstance(testnet.place(a, "SELL", "0.00001", None)[0], OrderAccepted)


def test_min_notional_filter() -> None:
    h = Harness(simple_spec(min_notional=MinNotional(D(10), True, 5)))
    a = h.account()
    assert h.place(a, "BUY", "1", "9.99") == failure("MIN_NOTIONAL")
    assert isinstance(h.place(a, "BUY", "1", "10")[0], OrderAccepted)


def test_percent_price_by_side_uses_average_of_trades(testnet: Harness) -> None:
    _with_trade(testnet, "50000")
    a = testnet.account(usdt=10**8)
    assert isinstance(testnet.place(a, "BUY", "0.001", "25000")[0], OrderAccepted)
    assert testnet.place(a, "BUY", "0.001", "24999.99") == failure("PERCENT_PRICE_BY_SIDE")
    assert isinstance(testnet.place(a, "BUY", "0.001", "100000")[0], OrderAccepted)
    assert testnet.place(a, "BUY", "0.001", "100000.01") == failure("PERCENT_PRICE_BY_SIDE")


def test_percent_price_by_side_is_reported_before_notional(testnet: Harness) -> None:
    # binance-observed.md: a LIMIT BUY at 0.1 failed PERCENT_PRICE_BY_SIDE, not NOTIONAL.
    _with_trade(testnet, "50000")
    a = testnet.account()
    assert testnet.place(a, "BUY", "0.001", "0.1") == failure("PERCENT_PRICE_BY_SIDE")


def test_percent_price_window_expires_old_trades() -> None:
    h = Harness(simple_spec(percent_price=PercentPrice(D(2), D("0.5"), 1)))
    _with_trade(h, "100")
    h.now += 120_000  # two minutes later the 1-minute window is empty: last price is used
    _with_trade(h, "150")
    a = h.account()
    assert isinstance(h.place(a, "BUY", "1", "299")[0], OrderAccepted)
    assert h.place(a, "BUY", "1", "74.99") == failure("PERCENT_PRICE")


def test_percent_price_by_side_sell_range() -> None:
    spec = simple_spec(
        percent_price_by_side=PercentPriceBySide(D(5), D("0.2"), D("1.2"), D("0.8"), 1)
    )
    h = Harness(spec)
    _with_trade(h, "100")
    a = h.account()
    assert h.place(a, "SELL", "1", "120.01") == failure("PERCENT_PRICE_BY_SIDE")
    assert isinstance(h.place(a, "BUY", "1", "120.01")[0], OrderAccepted)


def test_max_num_orders_counts_open_orders(testnet: Harness) -> None:
    spec = simple_spec(max_num_orders=2)
    h = Harness(spec)
    a = h.account()
    h.place(a, "BUY", "1", "1")
    h.place(a, "BUY", "1", "1")
    assert h.place(a, "BUY", "1", "1") == failure("MAX_NUM_ORDERS")
    assert h.engine.open_order_count(a, "BTCUSDT") == 2


def test_max_num_algo_orders() -> None:
    h = Harness(simple_spec(max_num_algo_orders=1))
    a = h.account()
    h.place(a, "SELL", "1", "90", OrderType.STOP_LOSS_LIMIT, stop_price=S("95"))
    events = h.place(a, "SELL", "1", "90", OrderType.STOP_LOSS_LIMIT, stop_price=S("95"))
    assert events == failure("MAX_NUM_ALGO_ORDERS")


def test_max_num_iceberg_orders() -> None:
    h = Harness(simple_spec(max_num_iceberg_orders=1))
    a = h.account()
    h.place(a, "BUY", "1", "1", iceberg_qty=S("0.1"))
    assert h.place(a, "BUY", "1", "1", iceberg_qty=S("0.1")) == failure("MAX_NUM_ICEBERG_ORDERS")


def test_max_position_counts_balance_and_open_buys() -> None:
    h = Harness(simple_spec(max_position=D(103)))
    a = h.account(btc=100)
    h.place(a, "BUY", "2", "1")
    assert isinstance(h.place(a, "BUY", "1", "1")[0], OrderAccepted)
    assert h.place(a, "BUY", "0.001", "1") == failure("MAX_POSITION")


@pytest.mark.parametrize(
    ("side", "delta", "ok"),
    [("SELL", 10, True), ("SELL", 9, False), ("SELL", 2000, True), ("BUY", 2001, False)],
)
def test_trailing_delta_filter(side: str, delta: int, ok: bool) -> None:
    h = Harness(simple_spec(trailing_delta=TrailingDelta(10, 2000, 10, 2000)))
    a = h.account()
    events = h.place(a, side, "1", "100", OrderType.STOP_LOSS_LIMIT, trailing_delta=delta)
    assert isinstance(events[0], OrderAccepted) if ok else events == failure("TRAILING_DELTA")


def test_notional_max_not_applied_to_market_when_flag_off() -> None:
    h = Harness(simple_spec(notional=Notional(D(1), True, D(10), False, 5)))
    _with_trade(h, "5")
    a = h.account()
    assert isinstance(h.place(a, "SELL", "100", None)[0], OrderAccepted)
    assert h.place(a, "SELL", "100", "5") == failure("NOTIONAL")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"order_type": OrderType.STOP_LOSS},
            "Stop loss orders are not supported for this symbol.",
        ),
        (
            {"order_type": OrderType.TAKE_PROFIT},
            "Take profit orders are not supported for this symbol.",
        ),
    ],
)
def test_order_types_the_symbol_does_not_list_are_rejected(kwargs: Any, message: str) -> None:
    spec = {s.symbol: s for s in fixture_specs()}["BNBUSDT"]
    h = Harness(spec)
    events = h.apply(
        PlaceOrder(
            h.account(), "BNBUSDT", Side.SELL, kwargs["order_type"], quantity=S(1), stop_price=S(1)
        )
    )
    assert events == [CommandRejected(-2010, message)]


def test_iceberg_needs_gtc_and_must_be_below_quantity() -> None:
    h = Harness()
    a = h.account()
    events = h.place(a, "BUY", "1", "1", tif=TimeInForce.IOC, iceberg_qty=S("0.1"))
    assert events == [CommandRejected(-2010, "Unsupported order combination")]
    assert h.place(a, "BUY", "1", "1", iceberg_qty=S(1)) == [
        CommandRejected(-2010, "IcebergQty exceeds QTY.")
    ]


def test_unknown_symbol_and_closed_market() -> None:
    from localspot.domain.enums import SymbolStatus

    h = Harness(simple_spec(status=SymbolStatus.HALT))
    a = h.account()
    assert h.place(a, "BUY", "1", "1", symbol="NOPE") == [CommandRejected(-1121, "Invalid symbol.")]
    assert h.place(a, "BUY", "1", "1") == [CommandRejected(-2010, "Market is closed.")]


def test_too_much_precision_is_refused() -> None:
    h = Harness()
    a = h.account()
    assert h.place(a, "BUY", "1", "1.000000001") == [
        CommandRejected(-1111, "Parameter 'price' has too much precision.")
    ]


def test_missing_price_for_limit_is_refused() -> None:
    h = Harness()
    a = h.account()
    events = h.place(a, "BUY", "1", None, OrderType.LIMIT)
    assert events == [
        CommandRejected(
            -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
        )
    ]


def test_accepted_limit_order_passes_everything(testnet: Harness) -> None:
    a = testnet.account()
    assert placed(testnet.place(a, "BUY", "0.001", "50000")).orig_qty == D("0.001")


# -- whole-price bounds against the exact fractions they replace -------------------------------

_RATIOS = st.tuples(st.integers(1, 10**6), st.integers(1, 10**6))
_TRADES = st.lists(
    st.tuples(st.integers(0, 200_000), st.integers(1, 10**13), st.integers(1, 10**9)),
    max_size=6,
)


@given(
    trades=_TRADES,
    window_mins=st.integers(0, 3),
    tick=st.sampled_from([1, 7, 10**6]),
    on_grid=st.booleans(),
    up=_RATIOS,
    down=_RATIOS,
    prices=st.lists(st.integers(0, 10**14), min_size=1, max_size=5),
    now_ms=st.integers(0, 400_000),
)
def test_price_band_admits_exactly_what_the_fractions_admit(
    trades: list[tuple[int, int, int]],
    window_mins: int,
    tick: int,
    on_grid: bool,
    up: tuple[int, int],
    down: tuple[int, int],
    prices: list[int],
    now_ms: int,
) -> None:
    # The reference is worked out here from the trades themselves: the volume-weighted price of
    # those in the window, else the last price. The average keeps ticks until a price is off
    # the grid, then raw units; the band keeps whole-price bounds. Both must match it exactly.
    average, band = AveragePrice(window_mins, tick), PriceBand(up, down)
    # On the grid, or (when not `on_grid`) every other price off it, odd prices included.
    trades = [(t, p - p % tick if on_grid or p % 2 else p, q) for t, p, q in sorted(trades)]
    for time_ms, price_raw, qty_raw in trades:
        average.add(time_ms, price_raw, qty_raw)
    window = [(p, q) for t, p, q in trades if t >= now_ms - window_mins * 60_000]
    if window_mins and window:
        reference: Fraction | None = Fraction(
            sum(p * q for p, q in window), sum(q for _, q in window)
        )
    else:
        reference = Fraction(trades[-1][1]) if trades else None
    if reference is not None:  # the edges of the band, and one past each
        high, low = math.floor(reference * Fraction(*up)), math.ceil(reference * Fraction(*down))
        prices += [high, high + 1, low, max(0, low - 1)]
    for price in prices:
        admitted = band.admits(price, average, now_ms)
        if reference is None:
            assert admitted
            continue
        assert admitted == (reference * Fraction(*down) <= price <= reference * Fraction(*up))


def test_price_band_follows_a_moving_reference() -> None:
    average, band = AveragePrice(1), PriceBand((2, 1), (1, 2))
    assert band.admits(1, average, 0)  # no trade yet: no reference, no bounds
    average.add(0, 100, 1)
    assert band.admits(200, average, 0)
    assert not band.admits(201, average, 0)
    average.add(1, 300, 1)  # average 200
    assert band.admits(400, average, 1)
    assert not band.admits(99, average, 1)
    # Both trades leave the one-minute window: the last price, 300, is the reference.
    assert band.admits(600, average, 120_000)
    assert not band.admits(149, average, 120_000)


@given(
    price=st.integers(1, 10**5).map(lambda n: D(n) / 100),
    qty=st.integers(1, 10**5).map(lambda n: D(n) / 1000),
)
def test_limit_notional_bounds_match_price_times_quantity(price: Decimal, qty: Decimal) -> None:
    h = Harness(simple_spec(notional=Notional(D(10), True, D(500), False, 5)))
    events = h.place(h.account(btc=10**6, usdt=10**9), "BUY", str(qty), str(price))
    assert (events == failure("NOTIONAL")) == (not D(10) <= price * qty <= D(500))


def test_average_price_drops_expired_trades_and_leaves_the_tick_grid_exactly() -> None:
    average = AveragePrice(1, 100)
    average.add(0, 1_000, 1)
    average.add(70_000, 3_000, 3)
    assert average.ratio(70_000) == (9_000, 3)  # the first trade left the one-minute window
    average.add(70_001, 1_050, 1)  # off the 100 grid: the window is kept in raw units from now
    assert average.ratio(70_001) == (10_050, 4)
    average.add(70_002, 1_100, 1)
    assert average.ratio(130_001) == (2_150, 2)
