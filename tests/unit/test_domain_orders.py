"""Cancel, cancel-all, amend keep priority and the queries the account methods need."""

from test_domain_support import D, Harness, S, every, first, placed, simple_spec

from localspot.domain import rejections as rj
from localspot.domain.commands import AmendOrder, CancelOpenOrders, CancelOrder, PlaceOrder
from localspot.domain.enums import CancelRestrictions, OrderStatus, OrderType, Side, TimeInForce
from localspot.domain.events import (
    BalancesUpdated,
    CommandRejected,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    TradeExecuted,
)
from localspot.domain.orders import generated_client_id, generated_seq


def test_cancel_by_order_id_unlocks_and_renames() -> None:
    h = Harness()
    a = h.account()
    order = placed(h.place(a, "BUY", "2", "100", client_order_id="first"))
    events = h.apply(CancelOrder(a, "BTCUSDT", order_id=order.order_id, new_client_order_id="gone"))
    canceled = first(events, OrderCanceled)
    assert canceled.orig_client_order_id == "first"
    assert order.client_order_id == "gone"
    assert order.status is OrderStatus.CANCELED
    assert h.balance(a, "USDT") == (D(1_000_000), D(0))
    assert isinstance(events[-1], BalancesUpdated)
    assert h.engine.depth("BTCUSDT") == ([], [])
    # The old client id is free again.
    assert placed(h.place(a, "BUY", "1", "100", client_order_id="first")).order_id == 2


def test_cancel_by_client_order_id() -> None:
    h = Harness()
    a = h.account()
    h.place(a, "SELL", "1", "100", client_order_id="x1")
    events = h.apply(CancelOrder(a, "BTCUSDT", orig_client_order_id="x1"))
    assert first(events, OrderCanceled).order.order_id == 1
    assert h.balance(a, "BTC") == (D(100), D(0))


def test_cancel_partially_filled_buy_releases_only_the_rest() -> None:
    h = Harness()
    buyer, seller = h.account(), h.account()
    order = placed(h.place(buyer, "BUY", "3", "100"))
    h.place(seller, "SELL", "1", "100")
    h.apply(CancelOrder(buyer, "BTCUSDT", order_id=order.order_id))
    assert h.balance(buyer, "USDT") == (D(999_900), D(0))
    assert order.executed_qty == D(1)


def test_cancel_rejections() -> None:
    h = Harness()
    a, other = h.account(), h.account()
    order = placed(h.place(a, "BUY", "1", "100", client_order_id="c"))
    unknown = [CommandRejected(-2011, "Unknown order sent.")]
    assert h.apply(CancelOrder(a, "BTCUSDT", order_id=99)) == unknown
    assert h.apply(CancelOrder(other, "BTCUSDT", order_id=order.order_id)) == unknown
    assert (
        h.apply(CancelOrder(a, "BTCUSDT", order_id=order.order_id, orig_client_order_id="z"))
        == unknown
    )
    assert h.apply(CancelOrder(a, "BTCUSDT")) == [
        CommandRejected(-2011, "Cancel order is invalid. Check origClOrdId and orderId.")
    ]
    h.apply(CancelOrder(a, "BTCUSDT", order_id=order.order_id))
    assert h.apply(CancelOrder(a, "BTCUSDT", order_id=order.order_id)) == unknown


def test_cancel_restrictions() -> None:
    h = Harness()
    a, b = h.account(), h.account()
    order = placed(h.place(a, "BUY", "2", "100"))
    restricted = [CommandRejected(-2011, "Order was not canceled due to cancel restrictions.")]
    only_partial = CancelRestrictions.ONLY_PARTIALLY_FILLED
    assert (
        h.apply(CancelOrder(a, "BTCUSDT", order.order_id, cancel_restrictions=only_partial))
        == restricted
    )
    h.place(b, "SELL", "1", "100")
    only_new = CancelRestrictions.ONLY_NEW
    assert (
        h.apply(CancelOrder(a, "BTCUSDT", order.order_id, cancel_restrictions=only_new))
        == restricted
    )
    events = h.apply(CancelOrder(a, "BTCUSDT", order.order_id, cancel_restrictions=only_partial))
    assert first(events, OrderCanceled).order is order


def test_cancel_open_orders_cancels_all_of_the_account_only() -> None:
    h = Harness()
    a, b = h.account(), h.account()
    h.place(a, "BUY", "1", "99")
    h.place(b, "BUY", "1", "99")
    h.place(a, "SELL", "1", "101")
    events = h.apply(CancelOpenOrders(a, "BTCUSDT"))
    assert [e.order.order_id for e in every(events, OrderCanceled)] == [1, 3]
    assert [o.account_id for o in h.engine.open_orders(b, "BTCUSDT")] == [b]
    assert h.engine.open_orders(a) == []
    assert h.apply(CancelOpenOrders(a, "BTCUSDT")) == [
        CommandRejected(-2011, "Unknown order sent.")
    ]


def test_amend_keep_priority_keeps_queue_position() -> None:
    # order_amend_keep_priority.md: orders 10, 15 (you), 20 at one price; amend 15 down.
    h = Harness()
    user_a, you, user_b, taker = h.account(), h.account(), h.account(), h.account()
    h.place(user_a, "BUY", "1", "87000")
    mine = placed(h.place(you, "BUY", "5.5", "87000", client_order_id="my_order"))
    h.place(user_b, "BUY", "4", "87000")
    events = h.apply(AmendOrder(you, "BTCUSDT", S(5), order_id=mine.order_id))
    amended = first(events, OrderAmended)
    assert (amended.amendment.orig_qty, amended.amendment.new_qty) == (D("5.5"), D(5))
    assert amended.amendment.orig_client_order_id == "my_order"
    assert mine.orig_qty == D(5)
    assert h.balance(you, "USDT") == (D(1_000_000 - 435_000), D(435_000))
    trades = every(h.place(taker, "SELL", "7", "87000"), TradeExecuted)
    assert [(t.trade.buyer_account_id, t.trade.qty) for t in trades] == [
        (user_a, D(1)),
        (you, D(5)),
        (user_b, D(1)),
    ]
    assert [a.new_qty for a in h.engine.amendments("BTCUSDT", mine.order_id)] == [D(5)]


def test_amend_may_reuse_the_client_order_id() -> None:
    h = Harness()
    a = h.account()
    h.place(a, "BUY", "2", "1", client_order_id="keep")
    h.apply(AmendOrder(a, "BTCUSDT", S(1), orig_client_order_id="keep", new_client_order_id="keep"))
    order = h.engine.order(a, "BTCUSDT", client_order_id="keep")
    assert order is not None
    assert order.orig_qty == D(1)


def test_amend_rejections() -> None:
    h = Harness(simple_spec(max_num_order_amends=1))
    a = h.account()
    order = placed(h.place(a, "BUY", "2", "1"))
    amend = AmendOrder(a, "BTCUSDT", S(3), order_id=order.order_id)
    assert h.apply(amend) == [
        CommandRejected(-2038, "Order amend (quantity increase) is not supported.")
    ]
    assert h.apply(AmendOrder(a, "BTCUSDT", S(2), order_id=1)) == [
        CommandRejected(-2038, "The requested action would change no state; rejecting")
    ]
    assert h.apply(AmendOrder(a, "BTCUSDT", S("1.0005"), order_id=1)) == [
        CommandRejected(-1013, "Filter failure: LOT_SIZE")
    ]
    assert h.apply(AmendOrder(a, "BTCUSDT", S(1), order_id=9)) == [
        CommandRejected(-2038, "Unknown order sent.")
    ]
    assert isinstance(h.apply(AmendOrder(a, "BTCUSDT", S("1.5"), order_id=1))[0], OrderAmended)
    assert h.apply(AmendOrder(a, "BTCUSDT", S(1), order_id=1)) == [
        CommandRejected(-1013, "Filter failure: MAX_NUM_ORDER_AMENDS")
    ]


def test_amend_not_allowed_on_symbol() -> None:
    h = Harness(simple_spec(amend_allowed=False))
    a = h.account()
    h.place(a, "BUY", "2", "1")
    assert h.apply(AmendOrder(a, "BTCUSDT", S(1), order_id=1)) == [
        CommandRejected(-2038, "Order amend is not supported for this symbol.")
    ]


def test_amend_iceberg_shrinks_visible_only_below_it() -> None:
    h = Harness()
    a = h.account()
    order = placed(h.place(a, "BUY", "10", "1", iceberg_qty=S(2)))
    h.apply(AmendOrder(a, "BTCUSDT", S(5), order_id=order.order_id))
    assert h.engine.depth("BTCUSDT")[0] == [(D(1), D(2))]
    h.apply(AmendOrder(a, "BTCUSDT", S(1), order_id=order.order_id))
    assert h.engine.depth("BTCUSDT")[0] == [(D(1), D(1))]


def test_queries_find_open_and_closed_orders_and_trades() -> None:
    h = Harness()
    a, b = h.account(), h.account()
    h.place(a, "SELL", "1", "100", client_order_id="s1")
    h.place(a, "SELL", "1", "101")
    h.place(b, "BUY", "1", "100")
    filled = h.engine.order(a, "BTCUSDT", order_id=1)
    assert filled is not None
    assert filled.status is OrderStatus.FILLED
    assert h.engine.order(a, "BTCUSDT", client_order_id="s1") is filled
    assert h.engine.order(b, "BTCUSDT", order_id=1) is None
    assert [o.order_id for o in h.engine.open_orders(a, "BTCUSDT")] == [2]
    assert [o.order_id for o in h.engine.all_orders(a, "BTCUSDT")] == [1, 2]
    mine = h.engine.my_trades(a, "BTCUSDT")
    assert [(t.trade.trade_id, t.is_buyer, t.is_maker, t.order_id) for t in mine] == [
        (1, False, True, 1)
    ]
    assert h.engine.last_price("BTCUSDT") == D(100)
    assert h.engine.average_price("BTCUSDT", h.now) == D(100)
    assert h.engine.open_order_count(a) == 1
    assert len(h.engine.trades("BTCUSDT")) == 1


# --- Engine.check: the dry run behind order.test ---------------------------------------------


def test_check_passes_a_valid_order_and_changes_nothing() -> None:
    h = Harness()
    a = h.account()
    h.place(a, "SELL", "1", "100")
    before = (h.engine.depth("BTCUSDT"), h.balance(a, "USDT"), h.balance(a, "BTC"))
    command = PlaceOrder(
        a, "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, S(1), price=S(100)
    )
    assert h.engine.check(command, h.now) is None
    assert (h.engine.depth("BTCUSDT"), h.balance(a, "USDT"), h.balance(a, "BTC")) == before
    # No generated client order id was used up: the next order gets the id it would have.
    fresh = Harness()
    b = fresh.account()
    fresh.place(b, "SELL", "1", "100")
    assert (
        placed(h.place(a, "BUY", "1", "99")).client_order_id
        == placed(fresh.place(b, "BUY", "1", "99")).client_order_id
    )


def test_check_reports_what_place_would_reject() -> None:
    h = Harness()
    a = h.account()
    off_tick = PlaceOrder(
        a, "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, S(1), price=S("100.001")
    )
    no_price = PlaceOrder(a, "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, S(1))
    for command in (off_tick, no_price):
        [expected] = h.engine.apply(command, h.now)
        assert isinstance(expected, CommandRejected)
        assert h.engine.check(command, h.now) == expected
    lot = PlaceOrder(
        a, "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, S("0.000000001"), price=S(1)
    )
    assert h.engine.check(lot, h.now) == CommandRejected(
        -1111, "Parameter 'quantity' has too much precision."
    )
    assert h.engine.check(
        PlaceOrder(
            a, "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, S("10000"), price=S(1)
        ),
        h.now,
    ) == CommandRejected(-1013, "Filter failure: LOT_SIZE")
    assert (
        h.engine.check(PlaceOrder(a, "NOPE", Side.BUY, OrderType.MARKET, None, S(1)), h.now)
        == rj.BAD_SYMBOL
    )


def test_generated_client_ids_are_the_counter_bijection() -> None:
    # Journals replay to the same ids only if the generator never changes: pin its first ids.
    h = Harness()
    a = h.account()
    ids = [placed(h.place(a, "BUY", "1", "100")).client_order_id for _ in range(3)]
    assert ids == ["4a7c15f39cc0605cedc835", "94f82be73980c0b9db906a", "df7441dad6412116c9589f"]
    # A cancel without a new id takes the next one.
    events = h.apply(CancelOrder(a, "BTCUSDT", order_id=1))
    assert first(events, OrderCanceled).order.client_order_id == generated_client_id(4)


def test_an_order_is_found_and_guarded_by_its_generated_client_id() -> None:
    h = Harness()
    a, b = h.account(), h.account()
    order = placed(h.place(a, "BUY", "1", "100"))
    generated = order.client_order_id
    assert h.engine.order(a, "BTCUSDT", client_order_id=generated) is order
    assert h.engine.order(b, "BTCUSDT", client_order_id=generated) is None  # another account
    assert h.engine.order(a, "BTCUSDT", client_order_id=generated.upper()) is None
    # The same id chosen by the user is a duplicate while the order is open...
    assert h.place(a, "BUY", "1", "100", client_order_id=generated) == [rj.DUPLICATE_ORDER]
    assert isinstance(h.place(b, "BUY", "1", "100", client_order_id=generated)[0], OrderAccepted)
    events = h.apply(CancelOrder(a, "BTCUSDT", orig_client_order_id=generated))
    assert first(events, OrderCanceled).orig_client_order_id == generated
    # ...and free once the cancel gave the order a new one.
    assert h.engine.order(a, "BTCUSDT", client_order_id=generated) is None
    assert placed(h.place(a, "BUY", "1", "100", client_order_id=generated)).order_id == 3


def test_generated_seq_reads_only_what_the_generator_writes() -> None:
    assert [generated_seq(generated_client_id(n)) for n in (1, 2, 10**20)] == [1, 2, 10**20]
    for text in ("4A7C15F39CC0605CEDC835", "4a7c15f39cc0605cedc83", "-a7c15f39cc0605cedc835"):
        assert generated_seq(text) is None
    assert generated_seq("4a7c_5f39cc0605cedc835") is None
