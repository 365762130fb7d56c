"""Account methods over the WebSocket API and REST: values, parameter rules, errors, weights.

Orders are placed through the engine door (`Services.execute`); the server runs on a
FakeClock so time windows are exact.
"""

from __future__ import annotations

import pytest

from account_support import DAY_MS, HOUR_MS, START_MS, Trader, new_trader
from localspot import errors
from localspot.clock import FakeClock
from localspot.domain.enums import Side, StpMode

BUY, SELL = Side.BUY, Side.SELL


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
async def alice(server, clock) -> Trader:
    return await new_trader(
        server,
        clock,
        balances={"BTC": "10", "USDT": "100000", "ETH": "0"},
        commission={"maker": "0.001", "taker": "0.0015", "buyer": "0", "seller": "0.0001"},
    )


@pytest.fixture
async def bob(server, clock) -> Trader:
    return await new_trader(server, clock, balances={"BTC": "10", "USDT": "100000"})


def _err(spec: errors.ErrorSpec, *args: object) -> dict[str, object]:
    return {"code": spec.code, "msg": spec.message % args if args else spec.message}


# --- account.status -----------------------------------------------------------------------------


async def test_account_status_values(alice):
    result = await alice.ok("account.status")
    assert list(result) == [
        "makerCommission",
        "takerCommission",
        "buyerCommission",
        "sellerCommission",
        "canTrade",
        "canWithdraw",
        "canDeposit",
        "commissionRates",
        "brokered",
        "requireSelfTradePrevention",
        "preventSor",
        "updateTime",
        "accountType",
        "balances",
        "permissions",
        "uid",
    ]
    assert [result[k] for k in list(result)[:4]] == [10, 15, 0, 1]
    assert result["commissionRates"] == {
        "maker": "0.00100000",
        "taker": "0.00150000",
        "buyer": "0.00000000",
        "seller": "0.00010000",
    }
    assert (result["canTrade"], result["canWithdraw"], result["canDeposit"]) == (True,) * 3
    assert (result["brokered"], result["requireSelfTradePrevention"]) == (False, False)
    assert result["preventSor"] is False
    assert result["updateTime"] == START_MS
    assert (result["accountType"], result["permissions"]) == ("SPOT", ["SPOT"])
    assert result["uid"] == alice.account_id
    assert result["balances"] == [
        {"asset": "BTC", "free": "10.00000000", "locked": "0.00000000"},
        {"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"},
        {"asset": "USDT", "free": "100000.00000000", "locked": "0.00000000"},
    ]


async def test_account_status_shows_locked_and_omits_zero_balances(alice, clock):
    clock.advance(1000)
    await alice.place(SELL, "2", "100")
    result = await alice.ok("account.status", omitZeroBalances=True)
    assert result["balances"] == [
        {"asset": "BTC", "free": "8.00000000", "locked": "2.00000000"},
        {"asset": "USDT", "free": "100000.00000000", "locked": "0.00000000"},
    ]
    assert result["updateTime"] == START_MS + 1000
    every = await alice.ok("account.status", omitZeroBalances=False)
    assert [b["asset"] for b in every["balances"]] == ["BTC", "ETH", "USDT"]
    error = await alice.error("account.status", omitZeroBalances="yes")
    assert error["code"] == -1100


async def test_account_status_rest_twin(alice):
    ws = await alice.ok("account.status")
    status, body, _ = await alice.rest("/api/v3/account", omitZeroBalances="true")
    assert status == 200
    assert await alice.rest_weight_of("/api/v3/account") == 20
    # rest-api.md's example puts commissionRates before canTrade; the WS API example after.
    assert list(body)[4:8] == ["commissionRates", "canTrade", "canWithdraw", "canDeposit"]
    assert body == {**ws, "balances": [b for b in ws["balances"] if b["asset"] != "ETH"]}


async def test_account_status_weight_and_unknown_parameter(alice):
    assert await alice.weight_of("account.status") == 20
    assert await alice.error("account.status", symbol="BTCUSDT") == _err(
        errors.UNREAD_PARAMETERS, 3, 4
    )


async def test_times_in_microseconds(server, alice):
    order = await alice.place(BUY, "0.1", "100")
    ws = await server.ws("?timeUnit=MICROSECOND")
    micro = Trader(server, alice.clock, alice.account, ws)
    result = await micro.ok("account.status")
    assert result["updateTime"] == START_MS * 1000
    (view,) = await micro.ok("openOrders.status", symbol="BTCUSDT")
    assert (view["time"], view["workingTime"]) == (order.time_ms * 1000, order.time_ms * 1000)


# --- order.status -------------------------------------------------------------------------------


async def test_order_status_by_id_and_by_client_id(alice):
    order = await alice.place(BUY, "0.1", "100", client_order_id="mine-1")
    by_id = await alice.ok("order.status", symbol="BTCUSDT", orderId=order.order_id)
    assert by_id["orderId"] == order.order_id
    assert by_id["clientOrderId"] == "mine-1"
    assert (by_id["status"], by_id["price"], by_id["origQty"]) == (
        "NEW",
        "100.00000000",
        "0.10000000",
    )
    by_client = await alice.ok("order.status", symbol="BTCUSDT", origClientOrderId="mine-1")
    both = await alice.ok(
        "order.status", symbol="BTCUSDT", orderId=order.order_id, origClientOrderId="mine-1"
    )
    assert by_id == by_client == both
    status, body, _ = await alice.rest(
        "/api/v3/order", symbol="BTCUSDT", origClientOrderId="mine-1"
    )
    assert (status, body) == (200, by_id)
    assert await alice.rest_weight_of("/api/v3/order", symbol="BTCUSDT", orderId=1) == 4


async def test_order_status_errors(alice, bob):
    order = await alice.place(BUY, "0.1", "100", client_order_id="mine-1")
    symbol = "BTCUSDT"
    assert await alice.error("order.status", symbol=symbol, orderId=999) == _err(
        errors.NO_SUCH_ORDER
    )
    assert await alice.error("order.status", symbol=symbol, origClientOrderId="nope") == _err(
        errors.NO_SUCH_ORDER
    )
    # binance-observed.md: orderId=0 is answered as archived.
    assert await alice.error("order.status", symbol=symbol, orderId=0) == _err(
        errors.ORDER_ARCHIVED
    )
    mismatch = await alice.error(
        "order.status", symbol=symbol, orderId=order.order_id, origClientOrderId="other"
    )
    assert mismatch == _err(errors.CLIENT_ORDER_ID_INVALID)
    assert await alice.error("order.status", symbol=symbol) == _err(
        errors.EITHER_PARAM_REQUIRED, "origClientOrderId", "orderId"
    )
    assert await alice.error("order.status", symbol="NOPEUSDT", orderId=1) == _err(
        errors.BAD_SYMBOL
    )
    assert await alice.error("order.status", orderId=1) == _err(
        errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "symbol"
    )
    # Another account's order does not exist for this one.
    assert await bob.error("order.status", symbol=symbol, orderId=order.order_id) == _err(
        errors.NO_SUCH_ORDER
    )
    status, body, _ = await alice.rest("/api/v3/order", symbol=symbol, orderId=999)
    assert (status, body) == (400, _err(errors.NO_SUCH_ORDER))


async def test_order_status_of_a_filled_order(alice, bob):
    maker = await alice.place(SELL, "0.5", "100")
    await bob.place(BUY, "0.2", "100")
    view = await alice.ok("order.status", symbol="BTCUSDT", orderId=maker.order_id)
    assert view["status"] == "PARTIALLY_FILLED"
    assert (view["executedQty"], view["cummulativeQuoteQty"]) == ("0.20000000", "20.00000000")


# --- openOrders.status --------------------------------------------------------------------------


async def test_open_orders_one_symbol_and_all(alice, bob):
    eth = await alice.place(BUY, "0.1", "100", symbol="ETHUSDT")
    first = await alice.place(BUY, "0.1", "100")
    second = await alice.place(BUY, "0.1", "101")
    filled = await alice.place(SELL, "0.1", "200")
    await bob.place(BUY, "0.1", "200")  # fills `filled`
    await bob.place(BUY, "0.1", "150")  # someone else's
    one = await alice.ok("openOrders.status", symbol="BTCUSDT")
    assert [o["orderId"] for o in one] == [first.order_id, second.order_id]
    every = await alice.ok("openOrders.status")
    assert [(o["symbol"], o["orderId"]) for o in every] == [
        ("BTCUSDT", first.order_id),
        ("BTCUSDT", second.order_id),
        ("ETHUSDT", eth.order_id),
    ]
    assert filled.order_id not in [o["orderId"] for o in every]
    status, body, _ = await alice.rest("/api/v3/openOrders")
    assert (status, body) == (200, every)
    assert await alice.rest_weight_of("/api/v3/openOrders") == 80
    assert await alice.rest_weight_of("/api/v3/openOrders", symbol="BTCUSDT") == 6
    status, body, _ = await alice.rest("/api/v3/openOrders", symbol="BTCUSDT")
    assert (status, body) == (200, one)


async def test_open_orders_weights_and_errors(alice):
    assert await alice.weight_of("openOrders.status", symbol="BTCUSDT") == 6
    assert await alice.weight_of("openOrders.status") == 80
    assert await alice.ok("openOrders.status", symbol="ETHBTC") == []
    assert await alice.error("openOrders.status", symbol="NOPE") == _err(errors.BAD_SYMBOL)
    error = await alice.error("openOrders.status", symbol="btcusdt")
    assert error["code"] == -1100


# --- allOrders ----------------------------------------------------------------------------------


async def _orders_an_hour_apart(trader: Trader, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        ids.append((await trader.place(BUY, "0.1", "100")).order_id)
        trader.clock.advance(HOUR_MS)
    return ids


async def test_all_orders_chronological_with_limit_and_order_id(alice, bob):
    ids = await _orders_an_hour_apart(alice, 5)
    await bob.place(BUY, "0.1", "100")
    listed = await alice.ok("allOrders", symbol="BTCUSDT")
    assert [o["orderId"] for o in listed] == ids
    # Most recent `limit`, still oldest first.
    assert [o["orderId"] for o in await alice.ok("allOrders", symbol="BTCUSDT", limit=2)] == ids[
        -2:
    ]
    from_id = await alice.ok("allOrders", symbol="BTCUSDT", orderId=ids[1], limit=2)
    assert [o["orderId"] for o in from_id] == ids[1:3]
    status, body, _ = await alice.rest("/api/v3/allOrders", symbol="BTCUSDT", limit=2)
    assert status == 200
    assert [o["orderId"] for o in body] == ids[-2:]
    assert await alice.rest_weight_of("/api/v3/allOrders", symbol="BTCUSDT") == 20


async def test_all_orders_time_window(alice):
    ids = await _orders_an_hour_apart(alice, 5)  # times START, +1h, ... +4h
    symbol = "BTCUSDT"

    async def listed(**params):
        return [o["orderId"] for o in await alice.ok("allOrders", symbol=symbol, **params)]

    assert await listed(startTime=START_MS + HOUR_MS) == ids[1:]
    assert await listed(startTime=START_MS + HOUR_MS, limit=2) == ids[1:3]
    assert await listed(endTime=START_MS + 3 * HOUR_MS, limit=2) == ids[2:4]
    assert await listed(startTime=START_MS, endTime=START_MS + 2 * HOUR_MS) == ids[:3]
    # orderId is ignored when a time is given.
    assert await listed(startTime=START_MS + 3 * HOUR_MS, orderId=ids[0]) == ids[3:]
    # Microsecond times are accepted.
    assert await listed(startTime=(START_MS + 4 * HOUR_MS) * 1000) == ids[4:]
    # Exactly 24 hours is allowed (the docs' own example), one millisecond more is not.
    assert await listed(startTime=START_MS, endTime=START_MS + DAY_MS) == ids


@pytest.mark.parametrize("method", ["allOrders", "myTrades"])
async def test_history_parameter_errors(alice, method):
    symbol = "BTCUSDT"
    too_long = await alice.error(
        method, symbol=symbol, startTime=START_MS, endTime=START_MS + DAY_MS + 1
    )
    assert too_long == _err(errors.MORE_THAN_XX_HOURS, 24)
    backwards = await alice.error(method, symbol=symbol, startTime=START_MS, endTime=START_MS)
    assert backwards == _err(errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "endTime")
    for limit in (0, 1001):
        assert await alice.error(method, symbol=symbol, limit=limit) == _err(
            errors.INVALID_PARAMETER, "limit"
        )
    assert await alice.ok(method, symbol=symbol, limit=1000) == []
    assert await alice.error(method, symbol="NOPE") == _err(errors.BAD_SYMBOL)
    assert await alice.error(method) == _err(errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "symbol")
    assert (await alice.error(method, symbol=symbol, startTime="soon"))["code"] == -1100


# --- myTrades -----------------------------------------------------------------------------------


async def _trade_three_times(alice: Trader, bob: Trader):
    """Alice's resting SELL is taken by Bob three times, an hour apart."""
    maker = await alice.place(SELL, "1", "100")
    takers = []
    for price in ("100", "100", "100"):
        takers.append(await bob.place(BUY, "0.1", price))
        alice.clock.advance(HOUR_MS)
    return maker, takers


async def test_my_trades_values_for_both_sides(alice, bob):
    maker, takers = await _trade_three_times(alice, bob)
    mine = await alice.ok("myTrades", symbol="BTCUSDT")
    assert [t["id"] for t in mine] == [1, 2, 3]
    first = mine[0]
    assert first == {
        "symbol": "BTCUSDT",
        "id": 1,
        "orderId": maker.order_id,
        "orderListId": -1,
        "price": "100.00000000",
        "qty": "0.10000000",
        "quoteQty": "10.00000000",
        # alice is the maker and seller: maker 0.001 + seller 0.0001 of 10 USDT received
        "commission": "0.01100000",
        "commissionAsset": "USDT",
        "time": START_MS,
        "isBuyer": False,
        "isMaker": True,
        "isBestMatch": True,
    }
    theirs = await bob.ok("myTrades", symbol="BTCUSDT")
    assert [t["orderId"] for t in theirs] == [t.order_id for t in takers]
    assert (theirs[0]["isBuyer"], theirs[0]["isMaker"]) == (True, False)
    assert (theirs[0]["commission"], theirs[0]["commissionAsset"]) == ("0.00000000", "BTC")
    status, body, _ = await alice.rest("/api/v3/myTrades", symbol="BTCUSDT")
    assert (status, body) == (200, mine)


async def test_my_trades_selection(alice, bob):
    maker, takers = await _trade_three_times(alice, bob)

    async def ids(trader=alice, **params):
        return [t["id"] for t in await trader.ok("myTrades", symbol="BTCUSDT", **params)]

    assert await ids(limit=2) == [2, 3]
    assert await ids(fromId=2) == [2, 3]
    assert await ids(fromId=1, limit=1) == [1]
    assert await ids(startTime=START_MS + HOUR_MS) == [2, 3]
    assert await ids(endTime=START_MS + HOUR_MS) == [1, 2]
    assert await ids(endTime=START_MS + 2 * HOUR_MS, limit=1) == [3]
    assert await ids(startTime=START_MS, endTime=START_MS + HOUR_MS - 1) == [1]
    assert await ids(orderId=maker.order_id) == [1, 2, 3]
    assert await ids(orderId=maker.order_id, fromId=3) == [3]
    assert await ids(bob, orderId=takers[1].order_id) == [2]
    assert await ids(bob, orderId=maker.order_id) == []


async def test_my_trades_combinations_and_weights(alice):
    symbol = "BTCUSDT"
    bad_combo = _err(errors.OPTIONAL_PARAMS_BAD_COMBO)
    assert await alice.error("myTrades", symbol=symbol, orderId=1, startTime=START_MS) == bad_combo
    assert await alice.error("myTrades", symbol=symbol, orderId=1, endTime=START_MS) == bad_combo
    assert await alice.error("myTrades", symbol=symbol, fromId=1, startTime=START_MS) == bad_combo
    assert await alice.error("myTrades", symbol=symbol, fromId=1, endTime=START_MS) == bad_combo
    assert await alice.weight_of("myTrades", symbol=symbol) == 20
    assert await alice.weight_of("myTrades", symbol=symbol, orderId=1) == 5
    assert await alice.rest_weight_of("/api/v3/myTrades", symbol=symbol) == 20
    assert await alice.rest_weight_of("/api/v3/myTrades", symbol=symbol, orderId=1) == 5


# --- allOrders over REST with errors --------------------------------------------------------------


async def test_history_errors_over_rest(alice):
    status, body, _ = await alice.rest(
        "/api/v3/allOrders", symbol="BTCUSDT", startTime=START_MS, endTime=START_MS + DAY_MS + 1
    )
    assert (status, body) == (400, _err(errors.MORE_THAN_XX_HOURS, 24))
    status, body, _ = await alice.rest(
        "/api/v3/myTrades", symbol="BTCUSDT", fromId=1, startTime=START_MS
    )
    assert (status, body) == (400, _err(errors.OPTIONAL_PARAMS_BAD_COMBO))


# --- account.rateLimits.orders -----------------------------------------------------------------


async def test_unfilled_order_count(server, alice, clock):
    expected = [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
    ]
    result = await alice.ok("account.rateLimits.orders")
    assert result == [{**e, "count": 0} for e in expected]
    limiter = server.services.limiter
    for _ in range(3):
        limiter.count_order(alice.account_id, clock.now_ms())
    result = await alice.ok("account.rateLimits.orders")
    assert [r["count"] for r in result] == [3, 3]
    clock.advance(10_000)
    status, body, _ = await alice.rest("/api/v3/rateLimit/order")
    assert status == 200
    assert [r["count"] for r in body] == [0, 3]
    assert await alice.rest_weight_of("/api/v3/rateLimit/order") == 40
    assert await alice.weight_of("account.rateLimits.orders") == 40


# --- myPreventedMatches ------------------------------------------------------------------------


async def _self_trades(alice: Trader):
    """Three resting BUYs, then a SELL with EXPIRE_MAKER that would take all three."""
    makers = [await alice.place(BUY, "0.1", price) for price in ("102", "101", "100")]
    alice.clock.advance(1000)
    taker = await alice.place(SELL, "0.3", "100", stp_mode=StpMode.EXPIRE_MAKER)
    return makers, taker


async def test_prevented_matches_by_order_and_by_id(alice, bob):
    makers, taker = await _self_trades(alice)
    by_taker = await alice.ok("myPreventedMatches", symbol="BTCUSDT", orderId=taker.order_id)
    assert [m["makerOrderId"] for m in by_taker] == [o.order_id for o in makers]
    first = by_taker[0]
    assert first == {
        "symbol": "BTCUSDT",
        "preventedMatchId": first["preventedMatchId"],
        "takerOrderId": taker.order_id,
        "makerSymbol": "BTCUSDT",
        "makerOrderId": makers[0].order_id,
        "tradeGroupId": -1,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "price": "102.00000000",
        "makerPreventedQuantity": "0.10000000",
        "transactTime": START_MS + 1000,
    }
    match_ids = [m["preventedMatchId"] for m in by_taker]
    assert match_ids == sorted(match_ids)
    by_maker = await alice.ok("myPreventedMatches", symbol="BTCUSDT", orderId=makers[1].order_id)
    assert by_maker == [by_taker[1]]
    by_id = await alice.ok("myPreventedMatches", symbol="BTCUSDT", preventedMatchId=match_ids[2])
    assert by_id == [by_taker[2]]
    from_id = await alice.ok(
        "myPreventedMatches",
        symbol="BTCUSDT",
        orderId=taker.order_id,
        fromPreventedMatchId=match_ids[1],
    )
    assert from_id == by_taker[1:]
    limited = await alice.ok(
        "myPreventedMatches",
        symbol="BTCUSDT",
        orderId=taker.order_id,
        fromPreventedMatchId=match_ids[0],
        limit=1,
    )
    assert limited == by_taker[:1]
    # Not bob's.
    assert await bob.ok("myPreventedMatches", symbol="BTCUSDT", orderId=taker.order_id) == []
    status, body, _ = await alice.rest(
        "/api/v3/myPreventedMatches", symbol="BTCUSDT", orderId=taker.order_id
    )
    assert (status, body) == (200, by_taker)
    path, symbol = "/api/v3/myPreventedMatches", "BTCUSDT"
    assert await alice.rest_weight_of(path, symbol=symbol, orderId=taker.order_id) == 20
    assert await alice.rest_weight_of(path, symbol=symbol, preventedMatchId=0) == 2


async def test_prevented_match_of_expire_both_shows_both_quantities(alice):
    await alice.place(BUY, "0.2", "100")
    taker = await alice.place(SELL, "0.3", "100", stp_mode=StpMode.EXPIRE_BOTH)
    (match,) = await alice.ok("myPreventedMatches", symbol="BTCUSDT", orderId=taker.order_id)
    assert match["selfTradePreventionMode"] == "EXPIRE_BOTH"
    assert (match["takerPreventedQuantity"], match["makerPreventedQuantity"]) == (
        "0.30000000",
        "0.20000000",
    )
    keys = list(match)
    assert keys.index("takerPreventedQuantity") + 1 == keys.index("makerPreventedQuantity")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"preventedMatchId": 0, "orderId": 1},
        {"preventedMatchId": 0, "fromPreventedMatchId": 0},
        {"preventedMatchId": 0, "limit": 5},
        {"fromPreventedMatchId": 0},
        {"orderId": 1, "limit": 5},
    ],
)
async def test_prevented_matches_unsupported_combinations(alice, params):
    error = await alice.error("myPreventedMatches", symbol="BTCUSDT", **params)
    assert error == _err(errors.OPTIONAL_PARAMS_BAD_COMBO)


async def test_prevented_matches_weights_and_errors(alice):
    symbol = "BTCUSDT"
    assert await alice.weight_of("myPreventedMatches", symbol=symbol, preventedMatchId=0) == 2
    assert await alice.weight_of("myPreventedMatches", symbol=symbol, orderId=1) == 20
    assert await alice.error("myPreventedMatches", symbol="NOPE", orderId=1) == _err(
        errors.BAD_SYMBOL
    )
    error = await alice.error(
        "myPreventedMatches", symbol=symbol, orderId=1, fromPreventedMatchId=0, limit=5000
    )
    assert error == _err(errors.INVALID_PARAMETER, "limit")


# --- account.commission ------------------------------------------------------------------------


async def test_account_commission(alice):
    result = await alice.ok("account.commission", symbol="BTCUSDT")
    zero = {
        "maker": "0.00000000",
        "taker": "0.00000000",
        "buyer": "0.00000000",
        "seller": "0.00000000",
    }
    assert result == {
        "symbol": "BTCUSDT",
        "standardCommission": {
            "maker": "0.00100000",
            "taker": "0.00150000",
            "buyer": "0.00000000",
            "seller": "0.00010000",
        },
        "specialCommission": zero,
        "taxCommission": zero,
        "discount": {
            "enabledForAccount": True,
            "enabledForSymbol": True,
            "discountAsset": "BNB",
            "discount": "0.75000000",
        },
    }
    status, body, _ = await alice.rest("/api/v3/account/commission", symbol="BTCUSDT")
    assert (status, body) == (200, result)
    assert await alice.rest_weight_of("/api/v3/account/commission", symbol="BTCUSDT") == 20
    assert await alice.error("account.commission", symbol="NOPE") == _err(errors.BAD_SYMBOL)
    assert await alice.error("account.commission") == _err(
        errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "symbol"
    )


# --- order.amendments --------------------------------------------------------------------------


async def test_order_amendments(alice, bob, clock):
    order = await alice.place(BUY, "0.5", "100", client_order_id="first")
    clock.advance(1000)
    await alice.amend(order, "0.4", "second")
    clock.advance(1000)
    await alice.amend(order, "0.3", "third")
    result = await alice.ok("order.amendments", symbol="BTCUSDT", orderId=order.order_id)
    assert [(a["origClientOrderId"], a["newClientOrderId"]) for a in result] == [
        ("first", "second"),
        ("second", "third"),
    ]
    assert result[0] == {
        "symbol": "BTCUSDT",
        "orderId": order.order_id,
        "executionId": result[0]["executionId"],
        "origClientOrderId": "first",
        "newClientOrderId": "second",
        "origQty": "0.50000000",
        "newQty": "0.40000000",
        "time": START_MS + 1000,
    }
    second_id = result[1]["executionId"]
    assert second_id > result[0]["executionId"]
    assert (
        await alice.ok(
            "order.amendments", symbol="BTCUSDT", orderId=order.order_id, fromExecutionId=second_id
        )
        == result[1:]
    )
    assert await alice.ok(
        "order.amendments", symbol="BTCUSDT", orderId=order.order_id, limit=1
    ) == [result[1]]
    status, body, _ = await alice.rest(
        "/api/v3/order/amendments", symbol="BTCUSDT", orderId=order.order_id
    )
    assert (status, body) == (200, result)
    path = "/api/v3/order/amendments"
    assert await alice.rest_weight_of(path, symbol="BTCUSDT", orderId=order.order_id) == 4
    assert await bob.error("order.amendments", symbol="BTCUSDT", orderId=order.order_id) == _err(
        errors.NO_SUCH_ORDER
    )


async def test_order_amendments_errors(alice):
    plain = await alice.place(BUY, "0.5", "100")
    assert await alice.ok("order.amendments", symbol="BTCUSDT", orderId=plain.order_id) == []
    assert await alice.error("order.amendments", symbol="BTCUSDT", orderId=99) == _err(
        errors.NO_SUCH_ORDER
    )
    assert await alice.error("order.amendments", symbol="BTCUSDT") == _err(
        errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "orderId"
    )
    assert await alice.error("order.amendments", symbol="NOPE", orderId=1) == _err(
        errors.BAD_SYMBOL
    )
    error = await alice.error("order.amendments", symbol="BTCUSDT", orderId=1, limit=1001)
    assert error == _err(errors.INVALID_PARAMETER, "limit")
    assert await alice.weight_of("order.amendments", symbol="BTCUSDT", orderId=1) == 4


# --- myFilters ---------------------------------------------------------------------------------


async def test_my_filters(alice):
    result = await alice.ok("myFilters", symbol="BTCUSDT")
    assert result == {
        "exchangeFilters": [],
        "symbolFilters": [
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": 20},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "assetFilters": [],
    }
    status, body, _ = await alice.rest("/api/v3/myFilters", symbol="BTCUSDT")
    assert (status, body) == (200, result)
    assert await alice.rest_weight_of("/api/v3/myFilters", symbol="BTCUSDT") == 40
    assert await alice.error("myFilters", symbol="NOPE") == _err(errors.BAD_SYMBOL)


# --- security -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("account.status", {}),
        ("order.status", {"symbol": "BTCUSDT", "orderId": 1}),
        ("openOrders.status", {}),
        ("allOrders", {"symbol": "BTCUSDT"}),
        ("myTrades", {"symbol": "BTCUSDT"}),
        ("account.rateLimits.orders", {}),
        ("myPreventedMatches", {"symbol": "BTCUSDT", "orderId": 1}),
        ("account.commission", {"symbol": "BTCUSDT"}),
        ("order.amendments", {"symbol": "BTCUSDT", "orderId": 1}),
        ("myFilters", {"symbol": "BTCUSDT"}),
    ],
)
async def test_every_method_is_user_data(server, clock, method, params):
    trade_only = await new_trader(server, clock, permissions=["TRADE"])
    response = await trade_only.call(method, **params)
    assert (response["status"], response["error"]) == (401, _err(errors.REJECTED_MBX_KEY))
    unsigned = await trade_only.ws.call(method, {**params, "timestamp": clock.now_ms()})
    assert unsigned["status"] == 400
    assert unsigned["error"] == _err(errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "apiKey")
