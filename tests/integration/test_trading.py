"""Trading methods over the real server, both wires: place, test, cancel, cancel all,
cancel-replace, amend keep priority; balances, fills, commissions, ORDERS counts and weights.

A FakeClock at the start of a 10-second window makes times, counts and windows exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from localspot import errors
from localspot.clock import FakeClock
from support import Server, WsClient, sign_rest_hmac, sign_ws_hmac

START_MS = 1_700_000_040_000  # the start of a minute (and of a 10-second window)
SYMBOL = "BTCUSDT"
COMMISSION = {"maker": "0.001", "taker": "0.002"}
RESULT_KEYS = [
    "symbol",
    "orderId",
    "orderListId",
    "clientOrderId",
    "transactTime",
    "price",
    "origQty",
    "executedQty",
    "origQuoteOrderQty",
    "cummulativeQuoteQty",
    "status",
    "timeInForce",
    "type",
    "side",
    "workingTime",
    "selfTradePreventionMode",
]
ACK_KEYS = RESULT_KEYS[:5]
FULL_KEYS = [*RESULT_KEYS[:-1], "fills", "selfTradePreventionMode"]
CANCELED_KEYS = [
    "symbol",
    "origClientOrderId",
    "orderId",
    "orderListId",
    "clientOrderId",
    "transactTime",
    "price",
    "origQty",
    "executedQty",
    "origQuoteOrderQty",
    "cummulativeQuoteQty",
    "status",
    "timeInForce",
    "type",
    "side",
    "selfTradePreventionMode",
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


class Trader:
    """One account driving the server over the WebSocket API and REST."""

    def __init__(self, server: Server, clock: FakeClock, account: dict[str, Any], ws: WsClient):
        self.server, self.clock, self.account, self.ws = server, clock, account, ws
        self.id = account["accountId"]

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        signed = sign_ws_hmac(
            {**params, "timestamp": self.clock.now_ms()},
            self.account["apiKey"],
            self.account["secretKey"],
        )
        return await self.ws.call(method, signed)

    async def ok(self, method: str, **params: Any) -> Any:
        response = await self.call(method, **params)
        assert response["status"] == 200, response
        return response["result"]

    async def error(self, method: str, **params: Any) -> dict[str, Any]:
        response = await self.call(method, **params)
        assert response["status"] != 200, response
        return response

    async def rest(self, http: str, path: str, **params: Any) -> tuple[int, Any, Any]:
        query = sign_rest_hmac(
            {**params, "timestamp": self.clock.now_ms()}, self.account["secretKey"]
        )
        url = f"{self.server.base}{path}?{query}"
        headers = {"X-MBX-APIKEY": self.account["apiKey"]}
        async with self.server.session.request(http, url, headers=headers) as resp:
            return resp.status, resp.headers, await resp.json(content_type=None)

    async def limit(self, side: str, price: str, qty: str, **extra: Any) -> dict[str, Any]:
        params = {"timeInForce": "GTC", **extra}
        return await self.ok(
            "order.place",
            symbol=SYMBOL,
            side=side,
            type="LIMIT",
            price=price,
            quantity=qty,
            **params,
        )

    async def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        status, body = await self.server.admin("GET", f"/admin/v1/accounts/{self.id}")
        assert status == 200
        return {a: (Decimal(b["free"]), Decimal(b["locked"])) for a, b in body["balances"].items()}


@pytest.fixture
async def trader(server, clock):
    async def make(balances: dict[str, str] | None = None, **kw: Any) -> Trader:
        account = await server.create_account(
            balances=balances or {"BTC": "1", "USDT": "100000"}, commission=COMMISSION, **kw
        )
        return Trader(server, clock, account, await server.ws())

    return make


def _counts(response: dict[str, Any]) -> list[tuple[str, int]]:
    return [(r["rateLimitType"], r["count"]) for r in response["rateLimits"]]


def _rejection(response: dict[str, Any], spec: errors.ErrorSpec, *args: Any) -> None:
    assert response["status"] == spec.status, response
    assert response["error"] == spec.error(*args).body()


# --- order.place ------------------------------------------------------------------------------


async def test_resting_limit_is_new_and_locks_balance(trader):
    seller = await trader()
    response = await seller.call(
        "order.place", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="30000", quantity="0.5", newClientOrderId="mySell1",
    )  # fmt: skip
    result = response["result"]
    assert list(result) == FULL_KEYS  # LIMIT defaults to FULL
    assert result["clientOrderId"] == "mySell1"
    assert (result["orderId"], result["orderListId"]) == (1, -1)
    assert (result["status"], result["executedQty"], result["fills"]) == ("NEW", "0.00000000", [])
    assert result["price"] == "30000.00000000"
    assert result["origQuoteOrderQty"] == "0.00000000"
    assert result["transactTime"] == result["workingTime"] == START_MS
    assert result["selfTradePreventionMode"] == "EXPIRE_MAKER"
    # ORDERS first (10 SECOND, 1 DAY), then REQUEST_WEIGHT: connection 2, the order 0.
    assert _counts(response) == [("ORDERS", 1), ("ORDERS", 1), ("REQUEST_WEIGHT", 2)]
    assert [r["interval"] for r in response["rateLimits"]] == ["SECOND", "DAY", "MINUTE"]
    balances = await seller.balances()
    assert balances["BTC"] == (Decimal("0.5"), Decimal("0.5"))
    assert balances["USDT"] == (Decimal("100000"), Decimal(0))


async def test_crossing_orders_trade_with_commission(server, trader):
    maker, taker = await trader(), await trader()
    await maker.limit("SELL", "30000", "0.5")
    response = await taker.call(
        "order.place", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
        price="30100", quantity="0.2",
    )  # fmt: skip
    result = response["result"]
    assert (result["status"], result["executedQty"]) == ("FILLED", "0.20000000")
    assert result["cummulativeQuoteQty"] == "6000.00000000"
    assert result["fills"] == [
        {
            "price": "30000.00000000",
            "qty": "0.20000000",
            "commission": "0.00040000",  # 0.2 BTC received * taker 0.002
            "commissionAsset": "BTC",
            "tradeId": 1,
        }
    ]
    maker_order = server.services.engine.order(maker.id, SYMBOL, 1)
    assert maker_order.status.value == "PARTIALLY_FILLED"
    assert await maker.balances() == {
        "BTC": (Decimal("0.5"), Decimal("0.3")),
        "USDT": (Decimal("100000") + Decimal("6000") - Decimal("6"), Decimal(0)),
    }
    assert await taker.balances() == {
        "BTC": (Decimal("1.2") - Decimal("0.0004"), Decimal(0)),
        "USDT": (Decimal("94000"), Decimal(0)),  # the 30100 limit's excess lock is released
    }
    # First fills: the taker gets 1 back, the maker 5 (never below 0).
    assert _counts(response)[:2] == [("ORDERS", 0), ("ORDERS", 0)]


async def test_market_orders_by_quantity_and_by_quote(trader):
    maker, taker = await trader(), await trader()
    await maker.limit("SELL", "30000", "0.1")
    await maker.limit("SELL", "30100", "0.1")
    result = await taker.ok(
        "order.place", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.15"
    )
    assert result["status"] == "FILLED"
    assert result["price"] == "0.00000000"
    assert [f["price"] for f in result["fills"]] == ["30000.00000000", "30100.00000000"]
    assert result["cummulativeQuoteQty"] == "4505.00000000"
    result = await taker.ok(
        "order.place", symbol=SYMBOL, side="BUY", type="MARKET", quoteOrderQty="1505"
    )
    assert (result["status"], result["executedQty"]) == ("FILLED", "0.05000000")
    assert result["origQuoteOrderQty"] == "1505.00000000"
    assert result["cummulativeQuoteQty"] == "1505.00000000"


async def test_ioc_remainder_and_unfilled_fok_expire(trader):
    maker, taker = await trader(), await trader()
    await maker.limit("SELL", "30000", "0.1")
    ioc = await taker.limit("BUY", "30000", "0.3", timeInForce="IOC")
    assert (ioc["status"], ioc["executedQty"], ioc["timeInForce"]) == (
        "EXPIRED",
        "0.10000000",
        "IOC",
    )
    assert ioc["expiryReason"] == "UNFILLED_IOC_QUANTITY_EXPIRED"
    await maker.limit("SELL", "30000", "0.1")
    fok = await taker.limit("BUY", "30000", "0.3", timeInForce="FOK")
    assert (fok["status"], fok["executedQty"], fok["fills"]) == ("EXPIRED", "0.00000000", [])
    assert (await taker.balances())["USDT"] == (Decimal("97000"), Decimal(0))


async def test_limit_maker_that_would_take_is_rejected(trader):
    maker, taker = await trader(), await trader()
    await maker.limit("SELL", "30000", "0.1")
    response = await taker.error(
        "order.place", symbol=SYMBOL, side="BUY", type="LIMIT_MAKER", price="30000", quantity="0.1"
    )
    _rejection(response, errors.rejection(-2010, "Order would immediately match and take."))


async def test_insufficient_balance_envelope(trader):
    poor = await trader({"USDT": "10"})
    response = await poor.call(
        "order.place", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
        price="30000", quantity="0.01",
    )  # fmt: skip
    assert response == {
        "id": response["id"],
        "status": 400,
        "error": {"code": -2010, "msg": "Account has insufficient balance for requested action."},
        "rateLimits": [
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50,
             "count": 0},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000,
             "count": 0},
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": 6000, "count": 3},  # connection 2 + the failed order's weight 1
        ],
    }  # fmt: skip


async def test_duplicate_client_order_id_while_open(trader):
    seller = await trader()
    await seller.limit("SELL", "30000", "0.1", newClientOrderId="dup")
    response = await seller.error(
        "order.place", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="30000", quantity="0.1", newClientOrderId="dup",
    )  # fmt: skip
    _rejection(response, errors.DUPLICATE_ORDER)


@pytest.mark.parametrize(
    ("resp_type", "keys"), [("ACK", ACK_KEYS), ("RESULT", RESULT_KEYS), ("FULL", FULL_KEYS)]
)
async def test_response_types_have_the_documented_keys(trader, resp_type, keys):
    seller = await trader()
    result = await seller.limit("SELL", "30000", "0.1", newOrderRespType=resp_type)
    assert list(result) == keys


async def test_conditional_fields_and_ack_default_for_stop_orders(trader):
    buyer = await trader()
    ack = await buyer.ok(
        "order.place", symbol=SYMBOL, side="BUY", type="STOP_LOSS_LIMIT", timeInForce="GTC",
        price="31000", stopPrice="31000", quantity="0.1",
    )  # fmt: skip
    assert list(ack) == ACK_KEYS
    result = await buyer.ok(
        "order.place", symbol=SYMBOL, side="BUY", type="STOP_LOSS_LIMIT", timeInForce="GTC",
        price="31000", stopPrice="31000", quantity="0.1", strategyId=7, strategyType=1000000,
        newOrderRespType="RESULT",
    )  # fmt: skip
    assert result["stopPrice"] == "31000.00000000"
    assert (result["strategyId"], result["strategyType"]) == (7, 1000000)
    assert result["workingTime"] == -1  # waiting for its trigger
    iceberg = await buyer.limit("BUY", "29000", "1", icebergQty="0.1")
    assert iceberg["icebergQty"] == "0.10000000"
    assert list(iceberg).index("icebergQty") < list(iceberg).index("fills")
    plain = await buyer.limit("BUY", "29000", "0.1")
    assert not {"stopPrice", "icebergQty", "strategyId", "expiryReason"} & set(plain)


@pytest.mark.parametrize(
    ("params", "spec", "args"),
    [
        ({"side": "UP"}, errors.INVALID_SIDE, ()),
        ({"type": "LIMITED"}, errors.INVALID_ORDER_TYPE, ()),
        ({"timeInForce": "GTD"}, errors.INVALID_TIF, ()),
        ({"price": None}, errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, ("price",)),
        ({"timeInForce": None}, errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, ("timeInForce",)),
        ({"stopPrice": "1"}, errors.PARAM_NOT_REQUIRED, ("stopPrice",)),
        ({"type": "MARKET", "price": None, "timeInForce": None, "quantity": None},
         errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, ("quantity",)),
        ({"type": "MARKET", "price": None}, errors.PARAM_NOT_REQUIRED, ("timeInForce",)),
        ({"strategyType": 999999}, errors.BAD_STRATEGY_TYPE, ()),
        ({"price": "30000.000000001"}, errors.BAD_PRECISION, ("price",)),
        ({"price": "30000.001"}, errors.FILTER_FAILURE, ("PRICE_FILTER",)),
        ({"quantity": "0.000001"}, errors.FILTER_FAILURE, ("LOT_SIZE",)),
        ({"quantity": "0.0001"}, errors.FILTER_FAILURE, ("NOTIONAL",)),
        ({"symbol": "NOPEUSDT"}, errors.BAD_SYMBOL, ()),
        ({"newOrderRespType": "ALL"}, errors.INVALID_PARAMETER, ("newOrderRespType",)),
        ({"newClientOrderId": "has space"}, errors.ILLEGAL_CHARS_PARAM,
         ("newClientOrderId", "^[a-zA-Z0-9-_]{1,36}$")),
    ],
)  # fmt: skip
@pytest.mark.parametrize("method", ["order.place", "order.test"])
async def test_parameter_errors(trader, params, spec, args, method):
    buyer = await trader()
    sent = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "price": "30000", "quantity": "0.1", **params}  # fmt: skip
    response = await buyer.error(method, **{k: v for k, v in sent.items() if v is not None})
    _rejection(response, spec, *args)
    assert _counts(response)[-1] == ("REQUEST_WEIGHT", 3)  # failed: the documented weight 1


# --- order.test -------------------------------------------------------------------------------


async def test_order_test_validates_without_placing(server, trader):
    buyer = await trader()
    params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "price": "30000", "quantity": "0.1"}  # fmt: skip
    response = await buyer.call("order.test", **params)
    assert response["result"] == {}
    assert _counts(response) == [("REQUEST_WEIGHT", 3)]
    response = await buyer.call("order.test", **params, computeCommissionRates=True)
    assert _counts(response) == [("REQUEST_WEIGHT", 23)]
    assert response["result"] == {
        "standardCommissionForOrder": {"maker": "0.00100000", "taker": "0.00200000"},
        "specialCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "discount": {
            "enabledForAccount": True,
            "enabledForSymbol": True,
            "discountAsset": "BNB",
            "discount": "0.75000000",  # as account.commission shows it (never applied)
        },
    }
    assert server.services.engine.open_orders(buyer.id) == []
    assert (await buyer.balances())["USDT"] == (Decimal("100000"), Decimal(0))
    status, _, body = await buyer.rest("POST", "/api/v3/order/test", **params)
    assert (status, body) == (200, {})


# --- order.cancel and openOrders.cancelAll ----------------------------------------------------


async def test_cancel_by_order_id_and_by_client_order_id(trader):
    seller = await trader()
    first = await seller.limit("SELL", "30000", "0.1", newClientOrderId="first")
    await seller.limit("SELL", "30000", "0.2", newClientOrderId="second")
    by_id = await seller.ok(
        "order.cancel", symbol=SYMBOL, orderId=first["orderId"], newClientOrderId="gone1"
    )
    assert list(by_id) == CANCELED_KEYS
    assert (by_id["origClientOrderId"], by_id["clientOrderId"]) == ("first", "gone1")
    assert (by_id["status"], by_id["origQty"]) == ("CANCELED", "0.10000000")
    by_client_id = await seller.ok("order.cancel", symbol=SYMBOL, origClientOrderId="second")
    assert (by_client_id["orderId"], by_client_id["status"]) == (2, "CANCELED")
    assert len(by_client_id["clientOrderId"]) == 22  # generated
    assert (await seller.balances())["BTC"] == (Decimal(1), Decimal(0))
    # The canceled order's client id is free again.
    await seller.limit("SELL", "30000", "0.1", newClientOrderId="first")


async def test_cancel_errors(trader):
    maker, taker = await trader(), await trader()
    order = await maker.limit("SELL", "30000", "0.5")
    response = await maker.error("order.cancel", symbol=SYMBOL)
    _rejection(response, errors.EITHER_PARAM_REQUIRED, "orderId", "origClientOrderId")
    response = await maker.error("order.cancel", symbol=SYMBOL, orderId=99)
    _rejection(response, errors.UNKNOWN_ORDER_CANCEL)
    response = await taker.error("order.cancel", symbol=SYMBOL, orderId=order["orderId"])
    _rejection(response, errors.UNKNOWN_ORDER_CANCEL)  # not the caller's order
    response = await maker.error(
        "order.cancel", symbol=SYMBOL, orderId=order["orderId"], cancelRestrictions="ONLY_SOME"
    )
    _rejection(response, errors.INVALID_CANCEL_RESTRICTIONS)
    restricted = errors.rejection(-2011, "Order was not canceled due to cancel restrictions.")
    response = await maker.error(
        "order.cancel", symbol=SYMBOL, orderId=order["orderId"],
        cancelRestrictions="ONLY_PARTIALLY_FILLED",
    )  # fmt: skip
    _rejection(response, restricted)
    await taker.limit("BUY", "30000", "0.1")
    response = await maker.error(
        "order.cancel", symbol=SYMBOL, orderId=order["orderId"], cancelRestrictions="ONLY_NEW"
    )
    _rejection(response, restricted)
    canceled = await maker.ok(
        "order.cancel", symbol=SYMBOL, orderId=order["orderId"],
        cancelRestrictions="ONLY_PARTIALLY_FILLED",
    )  # fmt: skip
    assert (canceled["executedQty"], canceled["cummulativeQuoteQty"]) == (
        "0.10000000",
        "3000.00000000",
    )


async def test_cancel_all_open_orders(trader):
    seller = await trader()
    await seller.limit("SELL", "30000", "0.1")
    await seller.limit("SELL", "30500", "0.2")
    response = await seller.call("openOrders.cancelAll", symbol=SYMBOL)
    assert [o["orderId"] for o in response["result"]] == [1, 2]
    assert all(list(o) == CANCELED_KEYS for o in response["result"])
    assert _counts(response) == [("REQUEST_WEIGHT", 2)]  # success costs 0
    response = await seller.error("openOrders.cancelAll", symbol=SYMBOL)
    _rejection(response, errors.UNKNOWN_ORDER_CANCEL)
    assert _counts(response) == [("REQUEST_WEIGHT", 3)]


# --- order.cancelReplace ----------------------------------------------------------------------


def _replace(mode: str, **extra: Any) -> dict[str, Any]:
    params = {"symbol": SYMBOL, "cancelReplaceMode": mode, "side": "SELL", "type": "LIMIT",
              "timeInForce": "GTC", "price": "31000", "quantity": "0.1", **extra}  # fmt: skip
    return {k: v for k, v in params.items() if v is not None}


async def test_cancel_replace_success(trader):
    seller = await trader()
    await seller.limit("SELL", "30000", "0.5", newClientOrderId="old")
    response = await seller.call(
        "order.cancelReplace",
        **_replace("STOP_ON_FAILURE", cancelOrigClientOrderId="old", newClientOrderId="old",
                   cancelNewClientOrderId="oldCanceled"),
    )  # fmt: skip
    result = response["result"]
    assert list(result) == ["cancelResult", "newOrderResult", "cancelResponse", "newOrderResponse"]
    assert (result["cancelResult"], result["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert result["cancelResponse"]["clientOrderId"] == "oldCanceled"
    new = result["newOrderResponse"]
    assert list(new) == FULL_KEYS
    assert (new["orderId"], new["clientOrderId"], new["price"]) == (2, "old", "31000.00000000")
    assert _counts(response) == [("ORDERS", 2), ("ORDERS", 2), ("REQUEST_WEIGHT", 2)]
    assert (await seller.balances())["BTC"] == (Decimal("0.9"), Decimal("0.1"))


async def test_cancel_replace_stop_on_failure_cancel_fails(trader):
    seller = await trader()
    response = await seller.error(
        "order.cancelReplace", **_replace("STOP_ON_FAILURE", cancelOrderId=9)
    )
    assert response["status"] == 400
    assert response["error"] == {
        "code": -2022,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": "FAILURE",
            "newOrderResult": "NOT_ATTEMPTED",
            "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
            "newOrderResponse": None,
        },
    }
    # Not attempted, still counted; failed, so charged its weight.
    assert _counts(response) == [("ORDERS", 1), ("ORDERS", 1), ("REQUEST_WEIGHT", 3)]


async def test_cancel_replace_partial_failures_are_409(trader):
    maker, seller = await trader(), await trader()
    await maker.limit("BUY", "30000", "0.1")
    await seller.limit("SELL", "32000", "0.1")
    # Cancel succeeds, the LIMIT_MAKER would take: 409, the old order stays canceled.
    response = await seller.error(
        "order.cancelReplace",
        **_replace("STOP_ON_FAILURE", cancelOrderId=2, type="LIMIT_MAKER", timeInForce=None,
                   price="30000"),
    )  # fmt: skip
    assert response["status"] == 409
    error = response["error"]
    assert (error["code"], error["msg"]) == (-2021, "Order cancel-replace partially failed.")
    assert (error["data"]["cancelResult"], error["data"]["newOrderResult"]) == (
        "SUCCESS",
        "FAILURE",
    )
    assert error["data"]["cancelResponse"]["status"] == "CANCELED"
    assert error["data"]["newOrderResponse"] == {
        "code": -2010,
        "msg": "Order would immediately match and take.",
    }
    # Cancel fails, the new order is placed (ALLOW_FAILURE): 409 the other way round.
    response = await seller.error(
        "order.cancelReplace", **_replace("ALLOW_FAILURE", cancelOrderId=2, newOrderRespType="ACK")
    )
    data = response["error"]["data"]
    assert response["status"] == 409
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert data["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert list(data["newOrderResponse"]) == ACK_KEYS
    # Both fail: 400 -2022 with both errors.
    response = await seller.error(
        "order.cancelReplace",
        **_replace("ALLOW_FAILURE", cancelOrderId=2, type="LIMIT_MAKER", timeInForce=None,
                   price="30000"),
    )  # fmt: skip
    assert response["status"] == 400
    assert response["error"]["code"] == -2022
    assert response["error"]["data"]["newOrderResponse"]["code"] == -2010


async def test_cancel_replace_filter_failure_cancels_nothing(server, trader):
    seller = await trader()
    await seller.limit("SELL", "30000", "0.5")
    response = await seller.error(
        "order.cancelReplace", **_replace("ALLOW_FAILURE", cancelOrderId=1, quantity="0.000001")
    )
    _rejection(response, errors.FILTER_FAILURE, "LOT_SIZE")
    assert server.services.engine.order(seller.id, SYMBOL, 1).status.value == "NEW"


async def test_cancel_replace_rest_409_carries_data(trader):
    seller = await trader()
    await seller.limit("SELL", "32000", "0.1")
    status, headers, body = await seller.rest(
        "POST",
        "/api/v3/order/cancelReplace",
        **_replace("ALLOW_FAILURE", cancelOrderId=7),
    )
    assert status == 409
    assert body["code"] == -2021
    assert body["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert body["data"]["newOrderResponse"]["status"] == "NEW"
    assert headers["X-MBX-ORDER-COUNT-10S"] == "2"


async def _fill_order_limit(seller: Trader) -> None:
    for i in range(50):
        await seller.limit(
            "SELL", "40000", "0.001", newOrderRespType="ACK", newClientOrderId=f"o{i}"
        )


async def test_order_limit_and_cancel_replace_modes(trader, clock):
    seller = await trader({"BTC": "1", "USDT": "0"})
    await _fill_order_limit(seller)
    response = await seller.error(
        "order.place", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="40000", quantity="0.001",
    )  # fmt: skip
    assert response["status"] == 429
    assert response["error"]["code"] == -1015
    assert (
        response["error"]["msg"] == "Too many new orders; current limit is 50 orders per 10 SECOND."
    )
    assert _counts(response)[:2] == [("ORDERS", 50), ("ORDERS", 50)]
    response = await seller.error(
        "order.cancelReplace", **_replace("STOP_ON_FAILURE", cancelOrderId=1)
    )
    assert (response["status"], response["error"]["code"]) == (429, -1015)
    # CANCEL_ONLY: the cancel still happens; the new order fails with the -1015.
    response = await seller.error(
        "order.cancelReplace",
        **_replace("STOP_ON_FAILURE", cancelOrderId=1, orderRateLimitExceededMode="CANCEL_ONLY"),
    )
    assert response["status"] == 409
    data = response["error"]["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE")
    assert data["newOrderResponse"] == {
        "code": -1015,
        "msg": "Too many new orders; current limit is 50 orders per 10 SECOND.",
    }
    assert _counts(response)[:2] == [("ORDERS", 50), ("ORDERS", 50)]
    clock.advance(10_000)
    response = await seller.call(
        "order.place", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="40000", quantity="0.001",
    )  # fmt: skip
    assert response["status"] == 200
    assert _counts(response)[:2] == [("ORDERS", 1), ("ORDERS", 51)]


async def test_maker_fill_credits_the_unfilled_order_count(trader):
    maker, taker = await trader(), await trader()
    for _ in range(6):
        await maker.limit("SELL", "30000", "0.01", newOrderRespType="ACK")
    await taker.limit("BUY", "30000", "0.01")
    response = await maker.call(
        "order.place", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="30000", quantity="0.01",
    )  # fmt: skip
    assert _counts(response)[:2] == [("ORDERS", 2), ("ORDERS", 2)]  # 6 - 5 + 1


# --- order.amend.keepPriority -----------------------------------------------------------------


async def test_amend_keeps_priority(trader):
    first, second, taker = await trader(), await trader(), await trader()
    await first.limit("SELL", "30000", "0.5", newClientOrderId="a1")
    await second.limit("SELL", "30000", "0.5")
    response = await first.call(
        "order.amend.keepPriority", symbol=SYMBOL, origClientOrderId="a1", newQty="0.2",
        newClientOrderId="a1",
    )  # fmt: skip
    result = response["result"]
    assert list(result) == ["transactTime", "executionId", "amendedOrder"]
    amended = result["amendedOrder"]
    assert (amended["qty"], amended["origClientOrderId"], amended["clientOrderId"]) == (
        "0.20000000",
        "a1",
        "a1",
    )
    assert _counts(response) == [("REQUEST_WEIGHT", 3 * 2)]  # three connections; amend free
    assert (await first.balances())["BTC"] == (Decimal("0.8"), Decimal("0.2"))
    fills = (await taker.limit("BUY", "30000", "0.3"))["fills"]
    assert [f["qty"] for f in fills] == ["0.20000000", "0.10000000"]  # first's order first


async def test_amend_rejections(trader):
    seller = await trader()
    await seller.limit("SELL", "30000", "0.5")
    response = await seller.error("order.amend.keepPriority", symbol=SYMBOL, orderId=1, newQty="1")
    _rejection(
        response, errors.rejection(-2038, "Order amend (quantity increase) is not supported.")
    )
    assert _counts(response) == [("REQUEST_WEIGHT", 2 + 4)]
    response = await seller.error(
        "order.amend.keepPriority", symbol=SYMBOL, orderId=5, newQty="0.1"
    )
    _rejection(response, errors.rejection(-2038, "Unknown order sent."))
    response = await seller.error("order.amend.keepPriority", symbol=SYMBOL, newQty="0.1")
    _rejection(response, errors.EITHER_PARAM_REQUIRED, "orderId", "origClientOrderId")


# --- REST twins and time units ----------------------------------------------------------------


async def test_rest_twins(trader):
    seller = await trader()
    status, headers, body = await seller.rest(
        "POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="30000", quantity="0.1", newOrderRespType="RESULT",
    )  # fmt: skip
    assert (status, list(body)) == (200, RESULT_KEYS)
    assert (headers["X-MBX-ORDER-COUNT-10S"], headers["X-MBX-ORDER-COUNT-1D"]) == ("1", "1")
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"  # the WS connection; the order is free
    status, _, body = await seller.rest(
        "PUT", "/api/v3/order/amend/keepPriority", symbol=SYMBOL, orderId=1, newQty="0.05"
    )
    assert (status, body["amendedOrder"]["qty"]) == (200, "0.05000000")
    status, _, body = await seller.rest(
        "POST", "/api/v3/order/cancelReplace", **_replace("STOP_ON_FAILURE", cancelOrderId=1)
    )
    assert (status, body["cancelResult"], body["newOrderResult"]) == (200, "SUCCESS", "SUCCESS")
    status, headers, body = await seller.rest("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=2)
    assert (status, body["status"]) == (200, "CANCELED")
    assert "X-MBX-ORDER-COUNT-10S" not in headers
    status, _, body = await seller.rest("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
    assert (status, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    status, headers, body = await seller.rest(
        "POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        price="30000", quantity="100",
    )  # fmt: skip
    assert (status, body) == (400, errors.INSUFFICIENT_BALANCE.error().body())
    assert headers["X-MBX-USED-WEIGHT-1M"] == "4"  # the failed DELETE and this failed order


async def test_microsecond_connection_times(server, clock):
    account = await server.create_account()
    trader = Trader(server, clock, account, await server.ws("?timeUnit=MICROSECOND"))
    result = await trader.limit("SELL", "30000", "0.1")
    assert result["transactTime"] == result["workingTime"] == START_MS * 1000


# --- pegged orders (pegged_orders.md) ---------------------------------------------------------


async def test_pegged_orders_over_ws_and_rest(trader):
    maker, pegger = await trader(), await trader()
    for price in ("29000", "28900"):
        await maker.limit("BUY", price, "0.1")
    await maker.limit("SELL", "31000", "0.1")
    result = await pegger.ok(
        "order.place", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.1", pegPriceType="PRIMARY_PEG",
    )  # fmt: skip
    keys = list(result)
    assert keys[5:8] == ["price", "pegPriceType", "peggedPrice"]
    assert keys[8:] == FULL_KEYS[6:]
    assert (result["price"], result["peggedPrice"]) == ("0.00000000", "29000.00000000")
    assert result["status"] == "NEW"
    view = await pegger.ok("order.status", symbol=SYMBOL, orderId=result["orderId"])
    assert (view["pegPriceType"], view["peggedPrice"]) == ("PRIMARY_PEG", "29000.00000000")
    assert list(view).index("pegPriceType") == list(view).index("price") + 1
    assert "pegOffsetType" not in view
    status, _, body = await pegger.rest(
        "POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
        quantity="0.1", price="28000", pegPriceType="MARKET_PEG", pegOffsetType="PRICE_LEVEL",
        pegOffsetValue=1, newOrderRespType="RESULT",
    )  # fmt: skip
    assert status == 200, body
    assert list(body)[5:11] == [
        "price", "pegPriceType", "pegOffsetType", "pegOffsetValue", "peggedPrice", "origQty",
    ]  # fmt: skip
    assert (body["price"], body["peggedPrice"]) == ("28000.00000000", "28900.00000000")
    assert (body["pegOffsetValue"], body["status"]) == (1, "FILLED")
    amended = await pegger.ok(
        "order.amend.keepPriority", symbol=SYMBOL, orderId=result["orderId"], newQty="0.05"
    )
    keys = list(amended["amendedOrder"])
    assert keys[5:9] == ["price", "pegPriceType", "peggedPrice", "qty"]
    assert amended["amendedOrder"]["peggedPrice"] == "29000.00000000"
    canceled = await pegger.ok("order.cancel", symbol=SYMBOL, orderId=result["orderId"])
    assert (canceled["pegPriceType"], canceled["peggedPrice"]) == ("PRIMARY_PEG", "29000.00000000")
    assert list(canceled).index("peggedPrice") == list(canceled).index("price") + 2


@pytest.mark.parametrize(
    ("params", "spec", "args"),
    [
        ({"pegPriceType": "BEST_PEG"}, errors.INVALID_PEG_PRICE_TYPE, ()),
        ({"pegOffsetType": "TICKS", "pegOffsetValue": 1}, errors.INVALID_PEG_OFFSET_TYPE, ()),
        ({"pegOffsetValue": 1}, errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, ("pegOffsetType",)),
        ({"pegOffsetType": "PRICE_LEVEL", "pegOffsetValue": 101}, errors.INVALID_PARAMETER,
         ("pegOffsetValue",)),
    ],
)  # fmt: skip
async def test_peg_parameter_errors(trader, params, spec, args):
    buyer = await trader()
    response = await buyer.error(
        "order.place", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.1", **{"pegPriceType": "PRIMARY_PEG", **params},
    )  # fmt: skip
    _rejection(response, spec, *args)


async def test_pegged_order_rejections(trader):
    buyer = await trader()
    response = await buyer.error(
        "order.place", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.1",
        pegPriceType="PRIMARY_PEG",
    )  # fmt: skip
    assert response["error"] == {"code": -2010, "msg": "This order type may not use pegged price."}
    response = await buyer.error(
        "order.place", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.1", pegPriceType="PRIMARY_PEG",
    )  # fmt: skip
    assert response["error"] == {
        "code": -2010,
        "msg": "Order book liquidity is too low for this pegged order.",
    }
