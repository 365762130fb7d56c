"""Matching: LIMIT GTC/IOC/FOK, MARKET by quantity and quote, LIMIT_MAKER, FIFO, balances."""

import math
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from test_domain_support import D, Harness, S, every, first, fixture_specs, placed, simple_spec

from localspot.domain.accounts import CommissionRates
from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import (
    ExpiryReason,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from localspot.domain.events import (
    BalancesUpdated,
    CommandRejected,
    OrderAccepted,
    OrderExpired,
    TradeExecuted,
)
from localspot.domain.numbers import ZERO
from localspot.domain.symbols import SymbolSpec


def test_limit_gtc_rests_and_locks_quote() -> None:
    h = Harness()
    buyer = h.account()
    events = h.place(buyer, "BUY", "2", "100")
    order = placed(events)
    assert order.status is OrderStatus.NEW
    assert order.order_id == 1
    assert h.balance(buyer, "USDT") == (D(999_800), D(200))
    assert isinstance(events[-1], BalancesUpdated)
    assert h.engine.depth("BTCUSDT")[0] == [(D(100), D(2))]


def test_sell_limit_locks_base() -> None:
    h = Harness()
    seller = h.account()
    h.place(seller, "SELL", "1.5", "100")
    assert h.balance(seller, "BTC") == (D("98.5"), D("1.5"))


def test_crossing_limit_trades_at_maker_price_and_moves_balances() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    events = h.place(buyer, "BUY", "1", "101")
    trade = first(events, TradeExecuted)
    assert (trade.trade.price, trade.trade.qty, trade.trade.quote_qty) == (D(100), D(1), D(100))
    assert trade.trade.trade_id == 1
    assert not trade.trade.is_buyer_maker
    assert trade.maker_status is OrderStatus.FILLED
    assert trade.taker_status is OrderStatus.FILLED
    assert h.balance(buyer, "USDT") == (D(999_900), D(0))
    assert h.balance(buyer, "BTC") == (D(101), D(0))
    assert h.balance(seller, "USDT") == (D(1_000_100), D(0))
    assert h.balance(seller, "BTC") == (D(99), D(0))


def test_buy_filled_below_limit_releases_excess_lock() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "90")
    order = placed(h.place(buyer, "BUY", "3", "100"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    # Paid 90 for 1; the remaining 2 stay locked at the limit price: 200.
    assert h.balance(buyer, "USDT") == (D(1_000_000 - 90 - 200), D(200))
    assert order.locked_raw == 200 * 10**8


def test_taker_walks_levels_best_price_first() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "102")
    h.place(seller, "SELL", "1", "100")
    h.place(seller, "SELL", "1", "101")
    trades = every(h.place(buyer, "BUY", "3", "102"), TradeExecuted)
    assert [t.trade.price for t in trades] == [D(100), D(101), D(102)]
    assert [t.trade.trade_id for t in trades] == [1, 2, 3]


def test_fifo_within_a_price_level() -> None:
    h = Harness()
    a, b, c, buyer = h.account(), h.account(), h.account(), h.account()
    first_id = placed(h.place(a, "SELL", "1", "100")).order_id
    second_id = placed(h.place(b, "SELL", "1", "100")).order_id
    placed(h.place(c, "SELL", "1", "100"))
    trades = every(h.place(buyer, "BUY", "1.5", "100"), TradeExecuted)
    assert [t.maker.order_id for t in trades] == [first_id, second_id]
    assert [t.trade.qty for t in trades] == [D(1), D("0.5")]


def test_ioc_partial_fill_expires_rest() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    events = h.place(buyer, "BUY", "3", "100", tif=TimeInForce.IOC)
    expired = first(events, OrderExpired)
    assert expired.status is OrderStatus.EXPIRED
    assert expired.expiry_reason is ExpiryReason.UNFILLED_IOC_QUANTITY_EXPIRED
    assert expired.executed_qty == D(1)
    assert h.balance(buyer, "USDT") == (D(999_900), D(0))
    assert h.engine.depth("BTCUSDT") == ([], [])


def test_fok_that_cannot_fill_expires_without_trading() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    events = h.place(buyer, "BUY", "2", "100", tif=TimeInForce.FOK)
    assert not every(events, TradeExecuted)
    assert first(events, OrderExpired).expiry_reason is ExpiryReason.UNFILLED_FOK_ORDER_EXPIRED
    assert h.balance(buyer, "USDT") == (D(1_000_000), D(0))
    assert h.engine.depth("BTCUSDT")[1] == [(D(100), D(1))]


def test_fok_that_can_fill_trades_everything() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    h.place(seller, "SELL", "1", "101")
    order = placed(h.place(buyer, "BUY", "2", "101", tif=TimeInForce.FOK))
    assert order.status is OrderStatus.FILLED
    assert order.cumulative_quote_qty == D(201)


def test_market_buy_by_quantity_sweeps_and_expires_for_lack_of_liquidity() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "2", "1")
    events = h.place(buyer, "BUY", "6", None)
    order = placed(events)
    assert order.status is OrderStatus.EXPIRED
    assert order.executed_qty == D(2)
    assert order.price == 0
    assert first(events, OrderExpired).expiry_reason is ExpiryReason.INSUFFICIENT_LIQUIDITY
    assert h.balance(buyer, "USDT") == (D(999_998), D(0))


def test_market_buy_rejected_when_balance_cannot_cover_sweep() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account(usdt=150)
    h.place(seller, "SELL", "1", "100")
    h.place(seller, "SELL", "1", "100")
    events = h.place(buyer, "BUY", "2", None)
    assert events == [
        CommandRejected(-2010, "Account has insufficient balance for requested action.")
    ]


def test_market_sell_by_quantity() -> None:
    h = Harness()
    buyer, seller = h.account(), h.account()
    h.place(buyer, "BUY", "1", "100")
    h.place(buyer, "BUY", "1", "99")
    order = placed(h.place(seller, "SELL", "2", None))
    assert order.status is OrderStatus.FILLED
    assert order.cumulative_quote_qty == D(199)
    assert h.balance(seller, "USDT") == (D(1_000_199), D(0))


def test_market_buy_by_quote_order_qty_spends_in_lot_steps() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "30")
    h.place(seller, "SELL", "5", "40")
    events = h.apply(
        PlaceOrder(buyer, "BTCUSDT", Side.BUY, OrderType.MARKET, quote_order_qty=S(100))
    )
    order = placed(events)
    # 1 @ 30 = 30, then 70 / 40 = 1.75 @ 40 = 70 -> 2.75 BTC for exactly 100 USDT.
    assert order.orig_quote_order_qty == D(100)
    assert order.executed_qty == D("2.75")
    assert order.orig_qty == D("2.75")
    assert order.cumulative_quote_qty == D(100)
    assert order.status is OrderStatus.FILLED
    assert h.balance(buyer, "USDT") == (D(999_900), D(0))


def test_market_sell_by_quote_order_qty_sells_what_is_needed() -> None:
    h = Harness()
    buyer, seller = h.account(), h.account()
    h.place(buyer, "BUY", "10", "40")
    order = placed(
        h.apply(PlaceOrder(seller, "BTCUSDT", Side.SELL, OrderType.MARKET, quote_order_qty=S(100)))
    )
    assert order.executed_qty == D("2.5")
    assert order.cumulative_quote_qty == D(100)


def test_quote_market_order_on_empty_book_is_rejected() -> None:
    h = Harness()
    buyer = h.account()
    events = h.apply(PlaceOrder(buyer, "BTCUSDT", Side.BUY, OrderType.MARKET, quote_order_qty=S(1)))
    assert events == [
        CommandRejected(-2010, "Order book liquidity is less than symbol minimum quantity.")
    ]


def test_limit_maker_that_would_cross_is_rejected() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    events = h.place(buyer, "BUY", "1", "100", order_type=OrderType.LIMIT_MAKER)
    assert events == [CommandRejected(-2010, "Order would immediately match and take.")]
    assert h.balance(buyer, "USDT") == (D(1_000_000), D(0))


def test_limit_maker_below_the_ask_rests() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    order = placed(h.place(buyer, "BUY", "1", "99.99", order_type=OrderType.LIMIT_MAKER))
    assert order.status is OrderStatus.NEW
    assert order.time_in_force is TimeInForce.GTC


def test_insufficient_balance_rejects_without_side_effects() -> None:
    h = Harness()
    buyer = h.account(usdt=99)
    events = h.place(buyer, "BUY", "1", "100")
    assert events == [
        CommandRejected(-2010, "Account has insufficient balance for requested action.")
    ]
    assert h.engine.open_orders(buyer) == []
    # A rejected order consumes no order id.
    assert placed(h.place(buyer, "BUY", "0.5", "100")).order_id == 1


def test_commission_is_charged_in_the_asset_received() -> None:
    h = Harness()
    rates = CommissionRates(maker=D("0.001"), taker=D("0.002"), buyer=D("0.0005"), seller=D(0))
    seller, buyer = h.account(commission=rates), h.account(commission=rates)
    h.place(seller, "SELL", "2", "100")
    trade = first(h.place(buyer, "BUY", "2", "100"), TradeExecuted).trade
    # Buyer is taker: 2 BTC * (0.002 + 0.0005); seller is maker: 200 USDT * (0.001 + 0).
    assert (trade.buyer_commission, trade.buyer_commission_asset) == (D("0.005"), "BTC")
    assert (trade.seller_commission, trade.seller_commission_asset) == (D("0.2"), "USDT")
    assert h.balance(buyer, "BTC")[0] == D("101.995")
    assert h.balance(seller, "USDT")[0] == D("1000199.8")
    assert h.engine.commission_collected == {"BTC": D("0.005"), "USDT": D("0.2")}


def test_commission_arithmetic_matches_commission_faq_standard_rates() -> None:
    h = Harness()
    rates = CommissionRates(
        maker=D("0.00000010"), taker=D("0.00000020"), buyer=D("0.00000030"), seller=D("0.00000040")
    )
    buyer, seller = h.account(), h.account(btc=1, commission=rates)
    h.place(buyer, "BUY", "0.499", "35000")
    trade = first(h.place(seller, "SELL", "0.499", None), TradeExecuted).trade
    # commission_faq.md: notional * (taker + seller), truncated to 8 places.
    assert trade.seller_commission == (D("17465") * D("0.0000006")).quantize(D("0.00000001"))


def test_balances_are_conserved_across_trading() -> None:
    h = Harness()
    rates = CommissionRates(maker=D("0.001"), taker=D("0.001"))
    accounts = [h.account(commission=rates) for _ in range(3)]
    before = h.totals()
    h.place(accounts[0], "SELL", "1.234", "100.01")
    h.place(accounts[1], "BUY", "0.5", "100.02")
    h.place(accounts[2], "BUY", "2", "100.03")
    h.place(accounts[0], "SELL", "3", None)
    assert h.totals() == before


def test_accepted_event_comes_first_and_balances_last() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "1", "100")
    events = h.place(buyer, "BUY", "1", "100")
    assert isinstance(events[0], OrderAccepted)
    assert [type(e) for e in events[-2:]] == [BalancesUpdated, BalancesUpdated]
    assert [e.account_id for e in every(events, BalancesUpdated)] == [seller, buyer]
    for update in every(events, BalancesUpdated):
        # Assets sorted, though the buyer's USDT moved first (its lock); amounts as after.
        expected = [(a, *h.balance(update.account_id, a)) for a in ("BTC", "USDT")]
        assert list(update.balances) == expected


def test_client_order_ids_are_generated_deterministically_and_duplicates_refused() -> None:
    h1, h2 = Harness(), Harness()
    ids = []
    for h in (h1, h2):
        a = h.account()
        ids.append(placed(h.place(a, "BUY", "1", "1")).client_order_id)
    assert ids[0] == ids[1]
    assert len(ids[0]) == 22
    h = Harness()
    a = h.account()
    h.place(a, "BUY", "1", "1", client_order_id="mine")
    assert h.place(a, "BUY", "1", "1", client_order_id="mine") == [
        CommandRejected(-2010, "Duplicate order sent.")
    ]


def test_decimal_quote_amounts_truncate_to_quote_precision() -> None:
    h = Harness()
    seller, buyer = h.account(), h.account()
    h.place(seller, "SELL", "0.001", "0.01")
    trade = first(h.place(buyer, "BUY", "0.001", "0.01"), TradeExecuted).trade
    assert trade.quote_qty == Decimal("0.00001")


@given(
    maker=st.integers(0, 10**7).map(lambda n: D(n).scaleb(-9)),
    taker=st.integers(0, 10**7).map(lambda n: D(n).scaleb(-9)),
    qty=st.integers(1, 10**6).map(lambda n: D(n).scaleb(-3)),
    price=st.integers(1, 10**6).map(lambda n: D(n).scaleb(-2)),
    precision=st.integers(0, 8),
)
def test_commission_is_the_decimal_product_truncated_to_the_commission_precision(
    maker: Decimal, taker: Decimal, qty: Decimal, price: Decimal, precision: int
) -> None:
    # commission_faq.md: amount received * rate, truncated; kept in integers of 1E-8 here.
    spec = simple_spec(base_commission_precision=precision, quote_commission_precision=precision)
    h = Harness(spec)
    rates = CommissionRates(maker=maker, taker=taker, buyer=D("0.0001"))
    seller = h.account(btc=10**6, commission=rates)
    buyer = h.account(usdt=10**12, commission=rates)
    h.place(seller, "SELL", str(qty), str(price))
    trade = first(h.place(buyer, "BUY", str(qty), str(price)), TradeExecuted).trade
    quantum = D(1).scaleb(-precision)
    expected_buyer = (qty * (taker + D("0.0001"))).quantize(quantum, rounding=ROUND_DOWN)
    expected_seller = (trade.quote_qty * maker).quantize(quantum, rounding=ROUND_DOWN)
    assert trade.buyer_commission == expected_buyer
    assert trade.seller_commission == expected_seller
    assert h.engine.commission_collected.get("BTC", ZERO) == expected_buyer
    assert h.balance(buyer, "BTC")[0] == 100 + qty - expected_buyer  # Harness default: 100 BTC


_SPECS = [simple_spec(), simple_spec(price_filter=None), *fixture_specs()]


@given(
    spec=st.sampled_from(_SPECS),
    ticks=st.integers(0, 10**9),
    off_grid=st.integers(0, 3),
    qty=st.integers(-(10**12), 10**12),
)
def test_quote_of_equals_price_times_quantity_truncated(
    spec: SymbolSpec, ticks: int, off_grid: int, qty: int
) -> None:
    # The quote is computed from whole ticks when the price is on the grid; it must be the
    # product of price and quantity at the quote's places, floored, either way.
    market = Harness(spec).engine.markets[spec.symbol]
    price = ticks * (spec.raw.tick or 1) + off_grid
    exact = Fraction(price * qty, 10**spec.notional_decimals) * 10**spec.quote_decimals
    assert market.quote_of(price, qty) == math.floor(exact)
