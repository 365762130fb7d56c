"""Pegged orders (pegged_orders.md): pegged price at placement and at trigger, rejections."""

from typing import Any

import pytest
from test_domain_support import D, Harness, S, every, first, placed, simple_spec

from localspot.domain.enums import (
    ExpiryReason,
    OrderStatus,
    OrderType,
    PegPriceType,
    TimeInForce,
)
from localspot.domain.events import CommandRejected, OrderExpired, OrderTriggered, TradeExecuted
from localspot.domain.symbols import MinNotional

PRIMARY, MARKET = PegPriceType.PRIMARY_PEG, PegPriceType.MARKET_PEG
NO_LIQUIDITY = CommandRejected(-2010, "Order book liquidity is too low for this pegged order.")
WRONG_PEG = CommandRejected(-2010, "This price peg cannot be used with this order type.")
WRONG_TYPE = CommandRejected(-2010, "This order type may not use pegged price.")


def _book(h: Harness, qty: str = "1") -> None:
    """Bids 99, 98, 97 and asks 101, 102, 103, `qty` each, from a market maker."""
    maker = h.account()
    for bid, ask in (("99", "101"), ("98", "102"), ("97", "103")):
        h.place(maker, "BUY", qty, bid)
        h.place(maker, "SELL", qty, ask)


def _peg(h: Harness, me: int, side: str, peg: PegPriceType, **kw: Any) -> list[Any]:
    price = kw.pop("price", None)
    order_type = kw.pop("order_type", OrderType.LIMIT)
    return h.place(me, side, kw.pop("qty", "1"), price, order_type, peg_price_type=peg, **kw)


@pytest.mark.parametrize(
    ("side", "peg", "offset", "expected"),
    [
        ("BUY", PRIMARY, None, "99"),
        ("BUY", PRIMARY, 2, "97"),
        ("SELL", PRIMARY, None, "101"),
        ("SELL", PRIMARY, 1, "102"),
        ("SELL", MARKET, None, "99"),
        ("SELL", MARKET, 1, "98"),
        ("BUY", MARKET, 2, "103"),
    ],
)
def test_limit_takes_the_pegged_price_at_placement(
    side: str, peg: PegPriceType, offset: int | None, expected: str
) -> None:
    h = Harness()
    _book(h)
    kw: dict[str, Any] = {}
    if offset is not None:
        kw = {"peg_offset_value": offset, "peg_offset_type": "PRICE_LEVEL"}
    order = placed(
        _peg(h, h.account(), side, peg, tif=TimeInForce.IOC if peg is MARKET else None, **kw)
    )
    assert order.pegged_price == D(expected)
    assert order.price == 0
    assert order.peg_price_type is peg
    assert order.peg_offset_value == offset


def test_primary_peg_rests_on_the_book_and_locks_at_the_pegged_price() -> None:
    h = Harness()
    _book(h)
    me = h.account()
    order = placed(_peg(h, me, "BUY", PRIMARY, qty="2"))
    assert order.status is OrderStatus.NEW
    assert order.in_book
    assert h.engine.depth("BTCUSDT")[0][0] == (D(99), D(3))
    assert h.balance(me, "USDT") == (D(1_000_000 - 198), D(198))


def test_market_peg_takes_the_best_opposite_level_only() -> None:
    h = Harness()
    _book(h)
    me = h.account()
    events = _peg(h, me, "BUY", MARKET, qty="2", tif=TimeInForce.IOC)
    order = placed(events)
    assert [t.trade.price for t in every(events, TradeExecuted)] == [D(101)]
    assert order.status is OrderStatus.EXPIRED
    assert order.executed_qty == D(1)
    assert h.balance(me, "USDT") == (D(1_000_000 - 101), D(0))


def test_price_kept_as_sent_and_book_uses_pegged_price() -> None:
    h = Harness()
    _book(h)
    order = placed(_peg(h, h.account(), "SELL", PRIMARY, price="100"))
    assert (order.price, order.pegged_price) == (D(100), D(101))
    assert h.engine.depth("BTCUSDT")[1][0] == (D(101), D(2))


def test_no_level_to_peg_to_is_rejected() -> None:
    h = Harness()
    me = h.account()
    assert _peg(h, me, "BUY", PRIMARY) == [NO_LIQUIDITY]
    _book(h)
    deep = {"peg_offset_value": 3, "peg_offset_type": "PRICE_LEVEL"}
    assert _peg(h, me, "BUY", PRIMARY, **deep) == [NO_LIQUIDITY]


def test_limit_maker_takes_primary_peg_only() -> None:
    h = Harness()
    _book(h)
    me = h.account()
    maker = _peg(h, me, "SELL", PRIMARY, order_type=OrderType.LIMIT_MAKER)
    assert placed(maker).pegged_price == D(101)
    assert _peg(h, me, "SELL", MARKET, order_type=OrderType.LIMIT_MAKER) == [WRONG_PEG]


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_limit_primary_peg_takes_gtc_only(tif: TimeInForce) -> None:
    h = Harness()
    _book(h)
    assert _peg(h, h.account(), "BUY", PRIMARY, tif=tif) == [WRONG_PEG]


@pytest.mark.parametrize(
    "order_type", [OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT]
)
def test_market_like_types_may_not_be_pegged(order_type: OrderType) -> None:
    h = Harness()
    _book(h)
    stop = {} if order_type is OrderType.MARKET else {"stop_price": S(105)}
    assert _peg(h, h.account(), "BUY", PRIMARY, order_type=order_type, **stop) == [WRONG_TYPE]


def test_symbol_without_peg_instructions_refuses_pegs() -> None:
    h = Harness(simple_spec(peg_instructions_allowed=False))
    _book(h)
    assert _peg(h, h.account(), "BUY", PRIMARY) == [
        CommandRejected(-2010, "Pegged orders are not supported for this symbol.")
    ]


def test_filters_are_checked_at_the_pegged_price() -> None:
    h = Harness(simple_spec(min_notional=MinNotional(D(150), True, 5)))
    _book(h, qty="2")
    me = h.account()
    # 1.5 x 99 < 150: fails at the pegged price although `price` 200 would pass.
    assert _peg(h, me, "BUY", PRIMARY, price="200", qty="1.5") == [
        CommandRejected(-1013, "Filter failure: MIN_NOTIONAL")
    ]
    assert placed(_peg(h, me, "SELL", PRIMARY, qty="1.5")).pegged_price == D(101)


def test_filters_are_checked_at_the_sent_price_too() -> None:
    h = Harness(simple_spec(min_notional=MinNotional(D(150), True, 5)))
    _book(h, qty="2")
    # Passes at the pegged 101, fails at the sent 50.
    assert _peg(h, h.account(), "SELL", PRIMARY, price="50", qty="1.5") == [
        CommandRejected(-1013, "Filter failure: MIN_NOTIONAL")
    ]


def _trade_at(h: Harness, price: str) -> list[Any]:
    a, b = h.account(), h.account()
    h.place(a, "SELL", "0.01", price)
    return list(h.place(b, "BUY", "0.01", price))


def test_pegged_stop_limit_takes_the_best_price_when_triggered() -> None:
    h = Harness()
    _trade_at(h, "100")
    _book(h)
    me = h.account()
    order = placed(
        _peg(h, me, "BUY", PRIMARY, order_type=OrderType.STOP_LOSS_LIMIT, stop_price=S(101))
    )
    assert (order.status, order.pegged_price, order.price) == (OrderStatus.NEW, None, D(0))
    assert h.balance(me, "USDT") == (D(1_000_000), D(0))
    h.place(h.account(), "BUY", "1", "100")  # a new best bid before the trigger
    events = h.place(h.account(), "BUY", "0.01")  # trades at the best ask, 101
    assert first(events, OrderTriggered).order is order
    assert order.pegged_price == D(100)
    assert order.in_book
    assert h.balance(me, "USDT") == (D(1_000_000 - 100), D(100))


def test_pegged_stop_limit_relocks_from_the_sent_price() -> None:
    h = Harness()
    _trade_at(h, "100")
    _book(h)
    me = h.account()
    order = placed(
        _peg(
            h,
            me,
            "BUY",
            PRIMARY,
            price="120",
            order_type=OrderType.STOP_LOSS_LIMIT,
            stop_price=S(101),
        )
    )
    assert h.balance(me, "USDT") == (D(1_000_000 - 120), D(120))
    h.place(h.account(), "BUY", "0.01")
    assert (order.price, order.pegged_price) == (D(120), D(99))
    assert h.balance(me, "USDT") == (D(1_000_000 - 99), D(99))


def test_pegged_stop_limit_without_liquidity_at_trigger_expires() -> None:
    h = Harness()
    _trade_at(h, "100")
    me = h.account()
    order = placed(
        _peg(h, me, "SELL", MARKET, order_type=OrderType.STOP_LOSS_LIMIT, stop_price=S(95))
    )
    assert h.balance(me, "BTC") == (D(99), D(1))
    events = _trade_at(h, "95")
    expired = first(events, OrderExpired)
    assert expired.order is order
    assert order.status is OrderStatus.EXPIRED
    assert order.expiry_reason is ExpiryReason.INSUFFICIENT_LIQUIDITY
    assert h.balance(me, "BTC") == (D(100), D(0))


def test_pegs_keep_totals_conserved() -> None:
    h = Harness()
    _book(h)
    me = h.account()
    before = h.totals()
    _peg(h, me, "BUY", MARKET, qty="3", tif=TimeInForce.IOC)
    _peg(h, me, "SELL", PRIMARY, qty="2")
    assert h.totals() == before
