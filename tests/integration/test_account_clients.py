"""Unmodified clients reading account data: python-binance and ccxt against a live localspot.

Orders are placed through the engine door (the trading methods are another module's); the
clients only read: python-binance `get_account()` / `get_open_orders()`, ccxt
`fetch_balance()`. The server runs on the real clock, as the clients sign with it.
"""

from __future__ import annotations

import warnings
from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

from account_support import new_trader
from localspot.clock import SystemClock
from localspot.domain.enums import Side

with warnings.catch_warnings():
    # python-binance imports `websockets.WebSocketClientProtocol`, deprecated in websockets 14+.
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient

pytestmark = pytest.mark.filterwarnings(
    "ignore:websockets.WebSocketClientProtocol is deprecated:DeprecationWarning"
)


async def test_clients_read_balances_and_open_orders(server):
    trader = await new_trader(
        server, SystemClock(), balances={"BTC": "1.5", "USDT": "1000", "ETH": "0"}
    )
    order = await trader.place(Side.SELL, "0.25", "30000", client_order_id="resting-1")
    key, secret = trader.account["apiKey"], trader.account["secretKey"]

    class LocalSpot(AsyncClient):
        API_TESTNET_URL = f"{server.base}/api"
        WS_API_TESTNET_URL = server.ws_api_url

    client = await LocalSpot.create(key, secret, testnet=True)
    client.ws_api.TIMEOUT = 0.2
    try:
        account = await client.get_account()
        open_orders = await client.get_open_orders(symbol="BTCUSDT")
        every_open = await client.get_open_orders()
    finally:
        await client.close_connection()
    balances = {b["asset"]: (b["free"], b["locked"]) for b in account["balances"]}
    assert balances == {
        "BTC": ("1.25000000", "0.25000000"),
        "ETH": ("0.00000000", "0.00000000"),
        "USDT": ("1000.00000000", "0.00000000"),
    }
    assert account["uid"] == trader.account_id
    assert [o["clientOrderId"] for o in open_orders] == ["resting-1"]
    assert open_orders[0]["orderId"] == order.order_id
    assert every_open == open_orders

    exchange = ccxt_async.binance(
        {"apiKey": key, "secret": secret, "options": {"fetchMarkets": {"types": ["spot"]}}}
    )
    exchange.set_sandbox_mode(True)
    api = f"{server.base}/api"
    exchange.urls["api"] = {**exchange.urls["api"], "public": f"{api}/v3", "private": f"{api}/v3"}
    try:
        balance = await exchange.fetch_balance()
    finally:
        await exchange.close()
    assert Decimal(str(balance["BTC"]["free"])) == Decimal("1.25")
    assert Decimal(str(balance["BTC"]["used"])) == Decimal("0.25")
    assert Decimal(str(balance["BTC"]["total"])) == Decimal("1.5")
    assert Decimal(str(balance["USDT"]["free"])) == Decimal("1000")
