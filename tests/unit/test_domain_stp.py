"""Self-trade prevention, one test per stp_faq.md scenario and mode."""

from test_domain_support import D, Harness, every, first, placed, simple_spec

from localspot.domain.enums import ExecutionType, OrderStatus, StpMode, TimeInForce
from localspot.domain.events import (
    CommandRejected,
    MatchPrevented,
    OrderExpired,
    TradeExecuted,
)


def _book_three_bids(h: Harness, account: int) -> list[int]:
    # Scenario B/C makers: 1.2 @ 1.2, 1.3 @ 1.1, 8.1 @ 1 (all STP NONE).
    return [
        placed(h.place(account, "BUY", q, p, stp_mode=StpMode.NONE)).order_id
        for q, p in (("1.2", "1.2"), ("1.3", "1.1"), ("8.1", "1"))
    ]


def test_stp_none_lets_own_orders_trade() -> None:
    h = Harness()
    me = h.account()
    h.place(me, "BUY", "1", "1", stp_mode=StpMode.NONE)
    events = h.place(me, "SELL", "1", "1", stp_mode=StpMode.NONE)
    assert first(events, TradeExecuted).trade.qty == D(1)
    assert len(h.engine.my_trades(me, "BTCUSDT")) == 2


def test_expire_maker_expires_each_own_maker_and_taker_rests() -> None:
    h = Harness()
    me = h.account()
    makers = _book_three_bids(h, me)
    events = h.place(me, "SELL", "3", "1", stp_mode=StpMode.EXPIRE_MAKER)
    taker = placed(events)
    assert taker.status is OrderStatus.NEW
    assert not every(events, TradeExecuted)
    prevented = every(events, MatchPrevented)
    assert [p.prevented_match.prevented_match_id for p in prevented] == [0, 1, 2]
    assert [p.prevented_match.maker_order_id for p in prevented] == makers
    assert [p.prevented_match.maker_prevented_quantity for p in prevented] == [
        D("1.2"),
        D("1.3"),
        D("8.1"),
    ]
    assert all(p.prevented_match.taker_prevented_quantity is None for p in prevented)
    expired = every(events, OrderExpired)
    assert [e.order.order_id for e in expired] == makers
    assert all(e.status is OrderStatus.EXPIRED_IN_MATCH for e in expired)
    assert all(e.execution_type is ExecutionType.TRADE_PREVENTION for e in expired)
    maker = h.engine.order(me, "BTCUSDT", makers[1])
    assert maker is not None
    assert (maker.prevented_match_id, maker.prevented_qty) == (1, D("1.3"))
    assert not taker.has_prevented_match
    # All the makers' quote locks came back; only the taker's 3 BTC is locked.
    assert h.balance(me, "USDT") == (D(1_000_000), D(0))
    assert h.balance(me, "BTC") == (D(97), D(3))


def test_expire_taker_expires_the_taker_and_keeps_makers() -> None:
    h = Harness()
    me = h.account()
    _book_three_bids(h, me)
    events = h.place(me, "SELL", "3", "1", stp_mode=StpMode.EXPIRE_TAKER)
    taker = placed(events)
    assert taker.status is OrderStatus.EXPIRED_IN_MATCH
    assert taker.prevented_qty == D(3)
    assert taker.prevented_match_id == 0
    record = first(events, MatchPrevented).prevented_match
    assert (record.taker_prevented_quantity, record.maker_prevented_quantity) == (D(3), None)
    assert len(h.engine.open_orders(me, "BTCUSDT")) == 3
    assert h.balance(me, "BTC") == (D(100), D(0))


def test_expire_both_expires_taker_and_maker() -> None:
    h = Harness()
    me = h.account()
    maker_id = placed(h.place(me, "BUY", "1", "1", stp_mode=StpMode.NONE)).order_id
    events = h.place(me, "SELL", "3", "1", stp_mode=StpMode.EXPIRE_BOTH)
    taker = placed(events)
    record = first(events, MatchPrevented).prevented_match
    assert (record.taker_prevented_quantity, record.maker_prevented_quantity) == (D(3), D(1))
    assert taker.status is OrderStatus.EXPIRED_IN_MATCH
    maker = h.engine.order(me, "BTCUSDT", maker_id)
    assert maker is not None
    assert maker.status is OrderStatus.EXPIRED_IN_MATCH
    assert h.engine.open_orders(me) == []


def test_taker_mode_decides_over_maker_mode() -> None:
    h = Harness()
    me = h.account()
    h.place(me, "BUY", "1", "1", stp_mode=StpMode.EXPIRE_MAKER)
    taker = placed(h.place(me, "SELL", "1", "1", stp_mode=StpMode.EXPIRE_TAKER))
    assert taker.status is OrderStatus.EXPIRED_IN_MATCH
    assert len(h.engine.open_orders(me)) == 1


def test_market_taker_with_expire_maker_expires_for_liquidity() -> None:
    h = Harness()
    me = h.account()
    h.place(me, "BUY", "1", "1", stp_mode=StpMode.NONE)
    events = h.place(me, "SELL", "1", None, stp_mode=StpMode.EXPIRE_MAKER)
    taker = placed(events)
    assert taker.status is OrderStatus.EXPIRED
    assert every(events, OrderExpired)[0].status is OrderStatus.EXPIRED_IN_MATCH


def test_decrement_expires_the_smaller_order_and_reduces_the_other() -> None:
    h = Harness()
    me = h.account()
    maker_id = placed(h.place(me, "BUY", "6", "2", stp_mode=StpMode.NONE)).order_id
    events = h.place(me, "SELL", "2", "2", stp_mode=StpMode.DECREMENT)
    taker = placed(events)
    assert taker.status is OrderStatus.EXPIRED_IN_MATCH
    assert taker.prevented_qty == D(2)
    maker = h.engine.order(me, "BTCUSDT", maker_id)
    assert maker is not None
    assert (maker.status, maker.prevented_qty, maker.remaining_qty) == (OrderStatus.NEW, D(2), D(4))
    assert h.engine.depth("BTCUSDT")[0] == [(D(2), D(4))]
    # The maker's lock shrank with it: 4 left at 2.
    assert h.balance(me, "USDT") == (D(999_992), D(8))


def test_decrement_equal_quantities_expire_both() -> None:
    h = Harness()
    me = h.account()
    h.place(me, "BUY", "2", "2", stp_mode=StpMode.NONE)
    events = h.place(me, "SELL", "2", "2", stp_mode=StpMode.DECREMENT)
    assert len(every(events, OrderExpired)) == 2


def test_transfer_across_a_trade_group_moves_quantity_without_a_trade() -> None:
    # stp_faq.md Scenario H, balances included.
    h = Harness()
    maker_account = h.account(btc=20000, usdt=20000, trade_group_id=1)
    taker_account = h.account(btc=20000, usdt=20000, trade_group_id=1)
    h.place(maker_account, "BUY", "0.6", "0.2", stp_mode=StpMode.TRANSFER)
    events = h.place(taker_account, "SELL", "0.2", "0.2", stp_mode=StpMode.TRANSFER)
    taker = placed(events)
    assert not every(events, TradeExecuted)
    assert taker.status is OrderStatus.EXPIRED_IN_MATCH
    record = first(events, MatchPrevented).prevented_match
    assert record.stp_mode is StpMode.TRANSFER
    assert (record.taker_prevented_quantity, record.maker_prevented_quantity) == (
        D("0.2"),
        D("0.2"),
    )
    assert h.balance(maker_account, "BTC") == (D("20000.2"), D(0))
    assert h.balance(maker_account, "USDT") == (D("19999.88"), D("0.08"))
    assert h.balance(taker_account, "BTC") == (D("19999.8"), D(0))
    assert h.balance(taker_account, "USDT") == (D("20000.04"), D(0))


def test_transfer_against_a_non_transfer_maker_acts_as_decrement() -> None:
    h = Harness()
    maker_account = h.account(trade_group_id=7)
    taker_account = h.account(trade_group_id=7)
    h.place(maker_account, "BUY", "1", "1", stp_mode=StpMode.NONE)
    events = h.place(taker_account, "SELL", "1", "1", stp_mode=StpMode.TRANSFER)
    assert first(events, MatchPrevented).prevented_match.stp_mode is StpMode.DECREMENT
    assert h.balance(maker_account, "BTC") == (D(100), D(0))


def test_other_accounts_orders_still_trade_under_stp() -> None:
    h = Harness()
    me, other = h.account(), h.account()
    h.place(me, "BUY", "1", "1.1", stp_mode=StpMode.NONE)
    h.place(other, "BUY", "1", "1", stp_mode=StpMode.NONE)
    events = h.place(me, "SELL", "2", "1", stp_mode=StpMode.EXPIRE_MAKER)
    trade = first(events, TradeExecuted).trade
    assert (trade.buyer_account_id, trade.price) == (other, D(1))


def test_stp_mode_defaults_to_the_symbols_default() -> None:
    h = Harness(simple_spec(default_stp_mode=StpMode.EXPIRE_MAKER))
    me = h.account()
    assert placed(h.place(me, "BUY", "1", "1")).stp_mode is StpMode.EXPIRE_MAKER


def test_stp_mode_not_allowed_by_symbol_is_rejected() -> None:
    h = Harness(simple_spec(allowed_stp_modes=frozenset({StpMode.NONE})))
    me = h.account()
    events = h.place(me, "BUY", "1", "1", stp_mode=StpMode.EXPIRE_MAKER)
    assert events == [
        CommandRejected(
            -1013, "This symbol does not allow the specified self-trade prevention mode."
        )
    ]


def test_prevented_matches_are_queryable_per_account() -> None:
    h = Harness()
    me, other = h.account(), h.account()
    h.place(me, "BUY", "1", "1", stp_mode=StpMode.NONE)
    h.place(me, "SELL", "1", "1", stp_mode=StpMode.EXPIRE_MAKER)
    assert [p.prevented_match_id for p in h.engine.prevented_matches(me, "BTCUSDT")] == [0]
    assert h.engine.prevented_matches(other, "BTCUSDT") == []


def test_fok_counts_own_makers_it_would_expire_as_missing_liquidity() -> None:
    h = Harness()
    me, other = h.account(), h.account()
    h.place(me, "SELL", "1", "1", stp_mode=StpMode.NONE)
    h.place(other, "SELL", "1", "1")
    events = h.place(me, "BUY", "2", "1", tif=TimeInForce.FOK, stp_mode=StpMode.EXPIRE_MAKER)
    assert placed(events).status is OrderStatus.EXPIRED
    assert not every(events, TradeExecuted)
    assert not every(events, MatchPrevented)
