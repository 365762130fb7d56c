"""Unmodified clients trading on localspot: python-binance (REST and WebSocket API) and ccxt.

Each places a resting order, queries it, crosses it from a second account and cancels what is
left, through the client's own request building, signing and response parsing. Clients are
pointed at the in-process server as in test_clients.py.
"""

from __future__ import annotations

import warnings
from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient
    from binance.exceptions import BinanceAPIException

pytestmark = pytest.mark.filterwarnings(
    "ignore:websockets.WebSocketClientProtocol is deprecated:DeprecationWarning"
)


async def _python_binance(server, account) -> AsyncClient:
    class AsyncLocalSpot(AsyncClient):
        API_TESTNET_URL = f"{server.base}/api"
        WS_API_TESTNET_URL = server.ws_api_url

    client = await AsyncLocalSpot.create(account["apiKey"], account["secretKey"], testnet=True)
    client.ws_api.TIMEOUT = 0.2
    return client


async def test_python_binance_places_queries_crosses_and_cancels(server):
    maker = await _python_binance(server, await server.create_account())
    taker = await _python_binance(server, await server.create_account())
    try:
        order = await maker.create_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
            quantity="0.5", price="30000",
        )  # fmt: skip
        assert (order["status"], order["fills"]) == ("NEW", [])
        assert maker.response.headers["X-MBX-ORDER-COUNT-10S"] == "1"
        queried = await maker.get_order(symbol="BTCUSDT", orderId=order["orderId"])
        assert (queried["clientOrderId"], queried["status"]) == (order["clientOrderId"], "NEW")
        filled = await taker.ws_create_order(
            symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.2"
        )
        assert filled["status"] == "FILLED"
        assert [(f["price"], f["qty"]) for f in filled["fills"]] == [
            ("30000.00000000", "0.20000000")
        ]
        canceled = await maker.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
        assert (canceled["status"], canceled["executedQty"]) == ("CANCELED", "0.20000000")
        with pytest.raises(BinanceAPIException) as caught:
            await maker.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
        assert (caught.value.status_code, caught.value.code) == (400, -2011)
        assert caught.value.message == "Unknown order sent."
        again = await maker.ws_create_order(
            symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
            quantity="0.1", price="31000",
        )  # fmt: skip
        assert (await maker.ws_cancel_order(symbol="BTCUSDT", orderId=again["orderId"]))[
            "status"
        ] == "CANCELED"
    finally:
        await maker.close_connection()
        await taker.close_connection()


def _ccxt(server, account) -> ccxt_async.binance:
    exchange = ccxt_async.binance(
        {
            "apiKey": account["apiKey"],
            "secret": account["secretKey"],
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
        }
    )
    exchange.set_sandbox_mode(True)
    api = f"{server.base}/api"
    exchange.urls["api"] = {
        **exchange.urls["api"],
        "public": f"{api}/v3",
        "private": f"{api}/v3",
        "v1": f"{api}/v1",
    }
    return exchange


async def test_ccxt_places_queries_crosses_and_cancels(server):
    maker = _ccxt(server, await server.create_account())
    taker = _ccxt(server, await server.create_account())
    try:
        order = await maker.create_order("BTC/USDT", "limit", "sell", 0.5, 30000)
        assert (order["status"], order["filled"]) == ("open", 0.0)
        fetched = await maker.fetch_order(order["id"], "BTC/USDT")
        assert (fetched["id"], fetched["status"]) == (order["id"], "open")
        filled = await taker.create_order("BTC/USDT", "market", "buy", 0.2)
        assert filled["status"] == "closed"
        assert Decimal(str(filled["filled"])) == Decimal("0.2")
        assert Decimal(str(filled["cost"])) == Decimal("6000")
        assert len(filled["trades"]) == 1
        canceled = await maker.cancel_order(order["id"], "BTC/USDT")
        assert canceled["status"] == "canceled"
        assert Decimal(str(canceled["filled"])) == Decimal("0.2")
        with pytest.raises(ccxt_async.OrderNotFound, match="-2011"):
            await maker.cancel_order(order["id"], "BTC/USDT")
        with pytest.raises(ccxt_async.InsufficientFunds, match="insufficient balance"):
            await maker.create_order("BTC/USDT", "limit", "sell", 100, 30000)
    finally:
        await maker.close()
        await taker.close()
