"""Stop orders, trailing stops (trailing-stop-faq.md) and icebergs."""

from test_domain_support import D, Harness, S, every, first, placed

from localspot.domain.commands import CancelOrder
from localspot.domain.enums import OrderStatus, OrderType
from localspot.domain.events import (
    CommandRejected,
    OrderCanceled,
    OrderTriggered,
    TradeExecuted,
)


def _trade_at(h: Harness, price: str, qty: str = "0.01") -> list[object]:
    a, b = h.account(), h.account()
    h.place(a, "SELL", qty, price)
    return list(h.place(b, "BUY", qty, price))


def test_stop_loss_limit_sell_waits_then_triggers_on_last_price() -> None:
    h = Harness()
    _trade_at(h, "100")
    me = h.account()
    order = placed(h.place(me, "SELL", "1", "94", OrderType.STOP_LOSS_LIMIT, stop_price=S(95)))
    assert (order.status, order.is_working, order.working_time_ms) == (OrderStatus.NEW, False, -1)
    assert h.balance(me, "BTC") == (D(99), D(1))
    assert h.engine.depth("BTCUSDT") == ([], [])
    events = _trade_at(h, "96")
    assert not every(events, OrderTriggered)
    buyer = h.account()
    h.place(buyer, "BUY", "5", "94")
    events = _trade_at(h, "95")
    triggered = first(events, OrderTriggered)
    assert triggered.order is order
    assert order.is_working
    trade = [t for t in every(events, TradeExecuted) if t.taker is order]
    assert trade
    assert trade[0].trade.price == D(94)


def test_stop_that_would_trigger_immediately_is_rejected() -> None:
    h = Harness()
    _trade_at(h, "100")
    me = h.account()
    assert h.place(me, "SELL", "1", None, OrderType.STOP_LOSS, stop_price=S(100)) == [
        CommandRejected(-2010, "Order would trigger immediately.")
    ]
    assert h.place(me, "BUY", "1", None, OrderType.TAKE_PROFIT, stop_price=S(101)) == [
        CommandRejected(-2010, "Order would trigger immediately.")
    ]


def test_take_profit_market_buy_triggers_on_fall_and_buys() -> None:
    h = Harness()
    _trade_at(h, "100")
    me = h.account()
    order = placed(h.place(me, "BUY", "1", None, OrderType.TAKE_PROFIT, stop_price=S(90)))
    seller = h.account()
    h.place(seller, "SELL", "2", "91")
    events = _trade_at(h, "90")
    assert first(events, OrderTriggered).order is order
    assert order.status is OrderStatus.FILLED
    assert order.cumulative_quote_qty == D(91)
    assert h.balance(me, "USDT") == (D(1_000_000 - 91), D(0))


def test_cancel_waiting_stop_releases_its_lock() -> None:
    h = Harness()
    me = h.account()
    order = placed(h.place(me, "BUY", "1", "110", OrderType.STOP_LOSS_LIMIT, stop_price=S(105)))
    assert h.balance(me, "USDT") == (D(999_890), D(110))
    events = h.apply(CancelOrder(me, "BTCUSDT", order_id=order.order_id))
    assert first(events, OrderCanceled).order is order
    assert h.balance(me, "USDT") == (D(1_000_000), D(0))


def test_trailing_stop_sell_without_stop_price_scenario_e() -> None:
    # trailing-stop-faq.md Scenario E: last 40000, delta 700, tracks the high, triggers 7% below.
    h = Harness()
    _trade_at(h, "40000")
    me = h.account()
    order = placed(h.place(me, "SELL", "1", "39000", OrderType.STOP_LOSS_LIMIT, trailing_delta=700))
    assert order.trailing_time_ms >= 0
    for price in ("42000", "39500", "45500"):
        assert not every(_trade_at(h, price), OrderTriggered)
    assert not every(_trade_at(h, "42316"), OrderTriggered)
    assert first(_trade_at(h, "42315"), OrderTriggered).order is order


def test_trailing_stop_buy_with_stop_price_scenario_a() -> None:
    # Scenario A: stop 44000 activates tracking; triggers on +5% from the lowest price after.
    h = Harness()
    _trade_at(h, "40000")
    me = h.account()
    order = placed(
        h.place(
            me,
            "BUY",
            "0.01",
            "45000",
            OrderType.STOP_LOSS_LIMIT,
            stop_price=S(44000),
            trailing_delta=500,
        )
    )
    for price in ("37000", "44000", "46000", "42000"):
        assert not every(_trade_at(h, price), OrderTriggered)
    assert order.trailing_time_ms >= 0
    assert first(_trade_at(h, "44100"), OrderTriggered).order is order


def test_iceberg_shows_only_its_visible_part_and_refills_at_the_back() -> None:
    h = Harness()
    ice, plain, taker = h.account(), h.account(), h.account()
    iceberg = placed(h.place(ice, "SELL", "5", "100", iceberg_qty=S(2)))
    h.place(plain, "SELL", "1", "100")
    assert h.engine.depth("BTCUSDT")[1] == [(D(100), D(3))]
    trades = every(h.place(taker, "BUY", "4", "100"), TradeExecuted)
    # 2 from the iceberg tip, then the plain order (the refill went to the back), then 1 more.
    assert [(t.maker.order_id, t.trade.qty) for t in trades] == [
        (iceberg.order_id, D(2)),
        (2, D(1)),
        (iceberg.order_id, D(1)),
    ]
    assert h.engine.depth("BTCUSDT")[1] == [(D(100), D(1))]
    assert iceberg.remaining_qty == D(2)
