"""Account methods against the docs' examples, key by key and type by type.

Each WebSocket API test sends the method's documented request (its `id` and its own
parameters, with our symbol and ids, signed with a real key) and compares the envelope with
the `**Response:**` example through `assert_same_shape`; each REST test compares the body of
the documented route with rest-api.md's example. Departures are passed in by path with their
reason, as in test_general_contract.py. The orders behind the answers are placed through the
engine door so that every documented conditional field can be shown where localspot has it.

Decimal places: the docs print a few values of made-up symbols with 6 (`"1.200000"`) or 1
(`"1.0"`) decimals; BTCUSDT prints 8. `_respell` rewrites those example values with 8 decimals
first, path by path, each with its reason, so the checker still holds every other value to the
example's precision.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from doc_examples import (
    REST_API,
    WS_API,
    assert_same_shape,
    code_blocks,
    filter_example,
    parse_js_json,
    pattern_of,
    request_example,
    response_example,
    rest_endpoint,
)

from account_support import START_MS, Trader, new_trader
from localspot.clock import FakeClock
from localspot.config import Config
from localspot.domain.enums import Side, StpMode
from support import sign_ws_hmac

# --- known differences, each with its reason --------------------------------------------------

SIX_DECIMALS = "the docs' example symbol prints 6 decimals; BTCUSDT's precision is 8"
ONE_DECIMAL = "rest-api.md's LTCBTC example prints trimmed decimals; BTCUSDT's precision is 8"
NO_TRAILING = {
    "trailingDelta": "only trailing stop orders have it (Conditional fields in Order Responses)",
    "trailingTime": "only trailing stop orders have it (Conditional fields in Order Responses)",
}
NOT_EXPIRED_BY_STP = {
    "preventedMatchId": "only orders expired by STP have it (Conditional fields ...)",
    "preventedQuantity": "only orders expired by STP have it (Conditional fields ...)",
}
# web-socket-api.md "Query order": `"origQuoteOrderQty": "0.00000000"` lacks its comma.
QUERY_ORDER_MISSING_COMMA = (
    '"origQuoteOrderQty": "0.00000000"',
    '"origQuoteOrderQty": "0.00000000",',
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
async def alice(server, clock) -> Trader:
    return await new_trader(
        server,
        clock,
        balances={"BNB": "0", "BTC": "10", "USDT": "100000"},
        commission={"maker": "0.0015", "taker": "0.0015"},
    )


@pytest.fixture
async def bob(server, clock) -> Trader:
    return await new_trader(server, clock)


def _respell(example: Any, paths: Mapping[str, str], path: str = "") -> Any:
    """Return a copy of `example` whose decimal strings at `paths` have 8 decimals."""
    if isinstance(example, dict):
        return {k: _respell(v, paths, f"{path}.{k}" if path else k) for k, v in example.items()}
    if isinstance(example, list):
        return [_respell(v, paths, f"{path}[{i}]") for i, v in enumerate(example)]
    if pattern_of(path) in paths:
        return f"{Decimal(example):.8f}"
    return example


def _rest_list_order(example: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move `workingTime` before `origQuoteOrderQty` in rest-api.md's list examples.

    rest-api.md's openOrders/allOrders examples put origQuoteOrderQty before workingTime; its
    order.status example and every WebSocket API example put it after. One renderer
    (render.py's `order_view`) serves all of them, in the majority's order.
    """
    out = []
    for item in example:
        keys = list(item)
        keys.remove("workingTime")
        keys.insert(keys.index("origQuoteOrderQty"), "workingTime")
        out.append({k: item[k] for k in keys})
    return out


def _ws_response_block(title: str, index: int) -> Any:
    """The `index`-th block of a section, for examples without a `**Response:**` lead."""
    return code_blocks(WS_API, title)[index].json()


async def _send(trader: Trader, title: str, ws_query: str = "", **params: Any) -> dict[str, Any]:
    """Send the docs' request of `title` (its id, method and parameters, `params` overriding
    them) signed with the trader's key; return the envelope, which must be a success."""
    request = copy.deepcopy(request_example(title))
    documented = {
        k: v for k, v in request["params"].items() if k not in ("apiKey", "signature", "timestamp")
    }
    ws = await trader.server.ws(ws_query) if ws_query else trader.ws
    signed = {**documented, **params, "timestamp": trader.clock.now_ms()}
    frame = {
        "id": request["id"],
        "method": request["method"],
        "params": sign_ws_hmac(signed, trader.account["apiKey"], trader.account["secretKey"]),
    }
    await ws.send_raw(json.dumps(frame))
    response = await ws.recv()
    assert response["status"] == 200, response
    assert response["id"] == request["id"]
    return response


async def _expired_by_stp(trader: Trader, *, labelled: bool = True):
    """A BUY maker that a SELL with EXPIRE_MAKER expired by STP; returns (maker, taker)."""
    labels: dict[str, Any] = {"strategy_id": 37463720, "strategy_type": 1000000} if labelled else {}
    maker = await trader.place(Side.BUY, "0.5", "100", **labels)
    taker = await trader.place(Side.SELL, "0.5", "100", stp_mode=StpMode.EXPIRE_MAKER)
    return maker, taker


def _without_expiry_reason(order: dict[str, Any]) -> dict[str, Any]:
    """Drop `expiryReason`, a documented conditional field the docs' examples do not show.

    "Conditional fields in Order Responses": `expiryReason` appears "when an order has expired";
    render.py puts it last.
    """
    assert list(order)[-1] == "expiryReason", order
    return {k: v for k, v in order.items() if k != "expiryReason"}


def _assert_weight_limits_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]):
    """Compare envelope `rateLimits` by value, `count` (volatile) excepted."""

    def strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "count"} for item in items]

    assert strip(actual) == strip(expected)


# --- account.status -----------------------------------------------------------------------------

ACCOUNT_TITLE = "Account information (USER_DATA)"


async def test_account_status_matches_docs(alice):
    expected = response_example(WS_API, ACCOUNT_TITLE)
    response = await _send(alice, ACCOUNT_TITLE)
    assert_same_shape(response, expected)
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    result, want = response["result"], expected["result"]
    # Same commission as the docs' account, so the values match too.
    for key in ("makerCommission", "takerCommission", "buyerCommission", "sellerCommission"):
        assert result[key] == want[key], key
    assert result["commissionRates"] == want["commissionRates"]
    for key in ("canTrade", "canWithdraw", "canDeposit", "brokered", "accountType"):
        assert result[key] == want[key], key
    assert result["permissions"] == want["permissions"]
    assert [b["asset"] for b in result["balances"]] == [b["asset"] for b in want["balances"]]


async def test_rest_account_matches_docs(alice):
    method, path = rest_endpoint(ACCOUNT_TITLE)
    assert (method, path) == ("GET", "/api/v3/account")
    expected = response_example(REST_API, ACCOUNT_TITLE)
    status, body, _ = await alice.rest(path)
    assert status == 200
    assert_same_shape(body, expected)
    assert body["commissionRates"] == expected["commissionRates"]


# --- order.status -------------------------------------------------------------------------------

QUERY_ORDER_TITLE = "Query order (USER_DATA)"


def _query_order_example() -> Any:
    blocks = code_blocks(WS_API, QUERY_ORDER_TITLE)
    (block,) = [b for b in blocks if b.lead == "**Response:**"]
    assert QUERY_ORDER_MISSING_COMMA[0] + "   //" in block.text
    return parse_js_json(block.text.replace(*QUERY_ORDER_MISSING_COMMA))


async def test_order_status_matches_docs(alice):
    maker, _ = await _expired_by_stp(alice)
    expected = _respell(_query_order_example(), {"result.preventedQuantity": SIX_DECIMALS})
    response = await _send(alice, QUERY_ORDER_TITLE, orderId=maker.order_id)
    response["result"] = _without_expiry_reason(response["result"])
    assert_same_shape(response, expected, absent={f"result.{k}": r for k, r in NO_TRAILING.items()})
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    result = response["result"]
    assert (result["strategyId"], result["strategyType"]) == (37463720, 1000000)
    assert result["preventedQuantity"] == "0.50000000"


REST_ORDER_DECIMALS = {
    key: ONE_DECIMAL
    for key in (
        "origQty",
        "executedQty",
        "cummulativeQuoteQty",
        "stopPrice",
        "icebergQty",
        "origQuoteOrderQty",
    )
}


async def test_rest_order_status_matches_docs(alice):
    order = await alice.place(Side.BUY, "1", "100", client_order_id="myOrder1")
    method, path = rest_endpoint(QUERY_ORDER_TITLE)
    assert (method, path) == ("GET", "/api/v3/order")
    expected = _respell(response_example(REST_API, QUERY_ORDER_TITLE), REST_ORDER_DECIMALS)
    status, body, _ = await alice.rest(path, symbol="BTCUSDT", orderId=order.order_id)
    assert status == 200
    assert_same_shape(body, expected)
    assert (body["clientOrderId"], body["status"], body["type"]) == ("myOrder1", "NEW", "LIMIT")


# --- openOrders.status, allOrders ----------------------------------------------------------------

OPEN_ORDERS_TITLE = "Current open orders (USER_DATA)"
ALL_ORDERS_WS_TITLE = "Account order history (USER_DATA)"
ALL_ORDERS_REST_TITLE = "All orders (USER_DATA)"


async def test_open_orders_matches_docs(alice, bob):
    maker = await alice.place(Side.SELL, "0.5", "100")
    await bob.place(Side.BUY, "0.2", "100")
    expected = _ws_response_block(OPEN_ORDERS_TITLE, 1)
    response = await _send(alice, OPEN_ORDERS_TITLE)
    assert_same_shape(response, expected)
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    (order,) = response["result"]
    assert (order["orderId"], order["status"]) == (maker.order_id, "PARTIALLY_FILLED")


async def test_rest_open_orders_matches_docs(alice):
    await alice.place(Side.BUY, "1", "100")
    method, path = rest_endpoint(OPEN_ORDERS_TITLE)
    assert (method, path) == ("GET", "/api/v3/openOrders")
    example = response_example(REST_API, OPEN_ORDERS_TITLE)
    paths = {f"[].{k}": r for k, r in REST_ORDER_DECIMALS.items()}
    expected = _respell(_rest_list_order(example), paths)
    status, body, _ = await alice.rest(path, symbol="BTCUSDT")
    assert status == 200
    assert_same_shape(body, expected)


async def test_all_orders_matches_docs(alice, clock):
    maker, taker = await _expired_by_stp(alice, labelled=False)
    plain = await alice.place(Side.BUY, "0.1", "90")
    expected = _respell(
        _ws_response_block(ALL_ORDERS_WS_TITLE, 1), {"result[].preventedQuantity": SIX_DECIMALS}
    )
    response = await _send(
        alice, ALL_ORDERS_WS_TITLE, startTime=START_MS, endTime=START_MS + 3_600_000
    )
    orders = response["result"]
    assert [o["orderId"] for o in orders] == [maker.order_id, taker.order_id, plain.order_id]
    orders[0] = _without_expiry_reason(orders[0])  # the expired maker
    assert_same_shape(
        response,
        expected,
        absent={f"result[].{k}": r for k, r in NOT_EXPIRED_BY_STP.items()},
    )
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    assert "preventedMatchId" in orders[0]
    assert "preventedMatchId" not in orders[2]


async def test_rest_all_orders_matches_docs(alice):
    await alice.place(Side.BUY, "1", "100")
    method, path = rest_endpoint(ALL_ORDERS_REST_TITLE)
    assert (method, path) == ("GET", "/api/v3/allOrders")
    example = response_example(REST_API, ALL_ORDERS_REST_TITLE)
    paths = {f"[].{k}": r for k, r in REST_ORDER_DECIMALS.items()}
    status, body, _ = await alice.rest(path, symbol="BTCUSDT")
    assert status == 200
    assert_same_shape(body, _respell(_rest_list_order(example), paths))


# --- myTrades -----------------------------------------------------------------------------------

MY_TRADES_WS_TITLE = "Account trade history (USER_DATA)"
MY_TRADES_REST_TITLE = "Account trade list (USER_DATA)"


async def _two_trades(alice: Trader, bob: Trader) -> None:
    await alice.place(Side.SELL, "0.5", "100")
    await bob.place(Side.BUY, "0.2", "100")
    await bob.place(Side.BUY, "0.1", "100")


async def test_my_trades_matches_docs(alice, bob):
    await _two_trades(alice, bob)
    expected = response_example(WS_API, MY_TRADES_WS_TITLE)
    response = await _send(
        alice, MY_TRADES_WS_TITLE, startTime=START_MS, endTime=START_MS + 3_600_000
    )
    assert_same_shape(response, expected)
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    assert len(response["result"]) == 2
    first, want = response["result"][0], expected["result"][0]
    for key in ("symbol", "orderListId", "isBuyer", "isMaker", "isBestMatch"):
        assert first[key] == want[key], key


async def test_rest_my_trades_matches_docs(alice, bob):
    await _two_trades(alice, bob)
    method, path = rest_endpoint(MY_TRADES_REST_TITLE)
    assert (method, path) == ("GET", "/api/v3/myTrades")
    status, body, _ = await bob.rest(path, symbol="BTCUSDT")
    assert status == 200
    assert_same_shape(body, response_example(REST_API, MY_TRADES_REST_TITLE))
    assert [(t["isBuyer"], t["isMaker"]) for t in body] == [(True, False), (True, False)]


# --- account.rateLimits.orders ------------------------------------------------------------------

ORDER_COUNT_WS_TITLE = "Unfilled Order Count (USER_DATA)"
ORDER_COUNT_REST_TITLE = "Query Unfilled Order Count (USER_DATA)"


async def test_unfilled_order_count_matches_docs(alice):
    expected = response_example(WS_API, ORDER_COUNT_WS_TITLE)
    response = await _send(alice, ORDER_COUNT_WS_TITLE)
    assert_same_shape(response, expected)
    # The testnet's ORDERS limits are the docs' (10 s: 50, 1 day: 160000); counts are 0.
    assert response["result"] == expected["result"]
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])


async def test_rest_unfilled_order_count_matches_docs(alice):
    method, path = rest_endpoint(ORDER_COUNT_REST_TITLE)
    assert (method, path) == ("GET", "/api/v3/rateLimit/order")
    status, body, _ = await alice.rest(path)
    assert status == 200
    expected = response_example(REST_API, ORDER_COUNT_REST_TITLE)
    assert_same_shape(body, expected)
    assert body == expected


# --- myPreventedMatches -------------------------------------------------------------------------

PREVENTED_WS_TITLE = "Account prevented matches (USER_DATA)"
PREVENTED_REST_TITLE = "Query Prevented Matches (USER_DATA)"
PREVENTED_DECIMALS = ("price", "makerPreventedQuantity")


async def test_prevented_matches_matches_docs(alice):
    _, taker = await _expired_by_stp(alice)
    paths = {f"result[].{k}": SIX_DECIMALS for k in PREVENTED_DECIMALS}
    expected = _respell(response_example(WS_API, PREVENTED_WS_TITLE), paths)
    response = await _send(alice, PREVENTED_WS_TITLE, orderId=taker.order_id)
    assert_same_shape(response, expected)
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    (match,) = response["result"]
    assert match["selfTradePreventionMode"] == expected["result"][0]["selfTradePreventionMode"]


async def test_rest_prevented_matches_matches_docs(alice):
    _, taker = await _expired_by_stp(alice)
    method, path = rest_endpoint(PREVENTED_REST_TITLE)
    assert (method, path) == ("GET", "/api/v3/myPreventedMatches")
    paths = {f"[].{k}": SIX_DECIMALS for k in PREVENTED_DECIMALS}
    expected = _respell(response_example(REST_API, PREVENTED_REST_TITLE), paths)
    status, body, _ = await alice.rest(path, symbol="BTCUSDT", preventedMatchId=0)
    assert status == 200
    assert_same_shape(body, expected)
    assert body[0]["takerOrderId"] == taker.order_id


# --- account.commission -------------------------------------------------------------------------

COMMISSION_WS_TITLE = "Account Commission Rates (USER_DATA)"
COMMISSION_REST_TITLE = "Query Commission Rates (USER_DATA)"


async def test_account_commission_matches_docs(alice):
    expected = response_example(WS_API, COMMISSION_WS_TITLE)
    response = await _send(alice, COMMISSION_WS_TITLE)
    assert_same_shape(response, expected)
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    result = response["result"]
    assert result["symbol"] == "BTCUSDT"
    assert result["discount"] == expected["result"]["discount"]


async def test_rest_account_commission_matches_docs(alice):
    method, path = rest_endpoint(COMMISSION_REST_TITLE)
    assert (method, path) == ("GET", "/api/v3/account/commission")
    expected = response_example(REST_API, COMMISSION_REST_TITLE)
    status, body, _ = await alice.rest(path, symbol="BTCUSDT")
    assert status == 200
    assert_same_shape(body, expected)
    assert body["discount"] == expected["discount"]


# --- order.amendments ---------------------------------------------------------------------------

AMENDMENTS_TITLE = "Query Order Amendments (USER_DATA)"


async def _amended(alice: Trader):
    order = await alice.place(Side.BUY, "7", "100", client_order_id="my_pending_order")
    await alice.amend(order, "5")
    await alice.amend(order, "4")
    return order


async def test_order_amendments_matches_docs(alice):
    order = await _amended(alice)
    expected = response_example(WS_API, AMENDMENTS_TITLE)
    # The docs send orderId as a string ("23"); so do we.
    response = await _send(alice, AMENDMENTS_TITLE, orderId=str(order.order_id))
    assert_same_shape(response, expected)
    _assert_weight_limits_match(response["rateLimits"], expected["rateLimits"])
    first = response["result"][0]
    assert (first["origClientOrderId"], first["origQty"], first["newQty"]) == (
        "my_pending_order",
        "7.00000000",
        "5.00000000",
    )


async def test_rest_order_amendments_matches_docs(alice):
    order = await _amended(alice)
    method, path = rest_endpoint(AMENDMENTS_TITLE)
    assert (method, path) == ("GET", "/api/v3/order/amendments")
    status, body, _ = await alice.rest(path, symbol="BTCUSDT", orderId=order.order_id)
    assert status == 200
    assert_same_shape(body, response_example(REST_API, AMENDMENTS_TITLE))
    assert len(body) == 2


# --- myFilters ----------------------------------------------------------------------------------

FILTERS_WS_TITLE = "Query Relevant Filters (USER_DATA)"
FILTERS_REST_TITLE = "Query relevant filters (USER_DATA)"
NO_ASSET_FILTERS = "localspot has no MAX_ASSET filters, so assetFilters is always []"


@pytest.fixture
async def filtered(start_server, clock) -> Trader:
    """A server with the docs' exchange filter configured, and an account on it."""
    config = Config()
    info = copy.deepcopy(config.exchange_info)
    info["exchangeFilters"] = [filter_example("EXCHANGE_MAX_NUM_ORDERS")]
    server = await start_server(Config(exchange_info=info), clock)
    return await new_trader(server, clock)


def _filter_examples(result: dict[str, Any]) -> dict[str, Any]:
    return {
        name: filter_example(name)
        for key in ("exchangeFilters", "symbolFilters", "assetFilters")
        for name in {f["filterType"] for f in result[key]} | {"MAX_ASSET"}
    }


async def test_my_filters_matches_docs(filtered):
    # The docs' example carries no rateLimits: a connection with returnRateLimits=false.
    expected = response_example(WS_API, FILTERS_WS_TITLE)
    response = await _send(filtered, FILTERS_WS_TITLE, "?returnRateLimits=false")
    examples = _filter_examples(response["result"])
    assert_same_shape(
        response,
        expected,
        unchecked={"id": "the docs' response id is not their request's; ours echoes the request"},
        may_be_empty={"result.assetFilters": NO_ASSET_FILTERS},
        element_examples={f"result.{k}": examples for k in ("exchangeFilters", "symbolFilters")},
    )
    result = response["result"]
    assert result["exchangeFilters"] == expected["result"]["exchangeFilters"]
    assert expected["result"]["symbolFilters"][0] in result["symbolFilters"]


async def test_rest_my_filters_matches_docs(filtered):
    method, path = rest_endpoint(FILTERS_REST_TITLE)
    assert (method, path) == ("GET", "/api/v3/myFilters")
    expected = response_example(REST_API, FILTERS_REST_TITLE)
    status, body, _ = await filtered.rest(path, symbol="BTCUSDT")
    assert status == 200
    examples = _filter_examples(body)
    assert_same_shape(
        body,
        expected,
        may_be_empty={"assetFilters": NO_ASSET_FILTERS},
        element_examples={k: examples for k in ("exchangeFilters", "symbolFilters")},
    )
