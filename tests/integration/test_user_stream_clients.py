"""Unmodified clients' user data streams on localspot, all over the WebSocket API.

- binance-sdk-spot subscribes with `user_data_stream_subscribe_signature` (HMAC) and with
  `session_logon` + `user_data_stream_subscribe` (Ed25519), routes each frame by its
  `subscriptionId` and parses it into its own event models; an order crossing the subscribed
  account's order must arrive as its typed `ExecutionReport` and `OutboundAccountPosition`.
- python-binance's `BinanceSocketManager.user_socket()` subscribes with
  `userDataStream.subscribe.signature` on the client's WebSocket API connection, routes frames
  by `subscriptionId` to the socket's queue and hands the caller the unwrapped `event` dicts.
- ccxt.pro's `watch_orders` / `watch_balance` (spot) subscribe with
  `userDataStream.subscribe.signature` on `urls["api"]["ws"]["ws-api"]["spot"]` (no listen key)
  and parse the unwrapped events into ccxt orders and balances.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import ccxt.pro as ccxt_pro
import pytest
from binance_common.configuration import ConfigurationWebSocketAPI
from binance_sdk_spot.spot import Spot
from binance_sdk_spot.websocket_api.models import (
    BalanceUpdate,
    ExecutionReport,
    OutboundAccountPosition,
)
from cryptography.hazmat.primitives import serialization

from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import OrderType, Side, TimeInForce
from localspot.domain.numbers import Scaled
from support import ed25519_pair, eventually

with warnings.catch_warnings():
    # python-binance imports `websockets.WebSocketClientProtocol`, deprecated in websockets 14+.
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient, BinanceSocketManager

pytestmark = [
    # binance_common passes `timeout=<float>` to aiohttp's ws_connect, deprecated in aiohttp 3.12+.
    pytest.mark.filterwarnings("ignore:parameter 'timeout' of type 'float':DeprecationWarning"),
    # python-binance evaluates `ws.WebSocketClientProtocol` again each time it builds a client.
    pytest.mark.filterwarnings(
        "ignore:websockets.WebSocketClientProtocol is deprecated:DeprecationWarning"
    ),
]


def _sdk(server, **credentials: Any) -> Spot:
    return Spot(
        config_ws_api=ConfigurationWebSocketAPI(stream_url=server.ws_api_url, **credentials)
    )


async def _cross(server, maker_id: int, taker_id: int) -> None:
    await server.services.execute(
        PlaceOrder(maker_id, "BTCUSDT", Side.SELL, OrderType.LIMIT, TimeInForce.GTC,
                   quantity=Scaled.parse("0.01"), price=Scaled.parse("30000"))
    )  # fmt: skip
    await server.services.execute(
        PlaceOrder(taker_id, "BTCUSDT", Side.BUY, OrderType.MARKET, quantity=Scaled.parse("0.01"))
    )


async def test_sdk_signature_subscription_parses_the_events(server, caplog):
    account = await server.create_account()
    maker = await server.create_account()
    client = _sdk(server, api_key=account["apiKey"], api_secret=account["secretKey"])
    received: list[Any] = []
    try:
        connection = await client.websocket_api.create_connection()
        assert connection is not None, caplog.text
        with caplog.at_level(logging.WARNING):
            subscribed = await connection.user_data_stream_subscribe_signature()
            assert subscribed.response.data().result.subscription_id == 0
            subscribed.stream.on("message", received.append)
            await _cross(server, maker["accountId"], account["accountId"])
            await eventually(lambda: len(received) == 3)
    finally:
        await client.websocket_api.close_connection(close_session=True)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    events = [r.actual_instance for r in received]
    assert [type(e) for e in events] == [
        ExecutionReport,
        ExecutionReport,
        OutboundAccountPosition,
    ]
    new, trade = events[0], events[1]
    assert (new.x, new.X) == ("NEW", "NEW")
    assert (trade.x, trade.X, trade.l) == ("TRADE", "FILLED", "0.01000000")
    assert trade.L == "30000.00000000"
    assert {b.a for b in events[2].B} == {"BTC", "USDT"}


async def test_sdk_logon_subscription_with_ed25519(server, caplog):
    private, public_pem = ed25519_pair()
    account = await server.create_account(keyType="ED25519", publicKey=public_pem)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    client = _sdk(server, api_key=account["apiKey"], private_key=private_pem)
    received: list[Any] = []
    try:
        connection = await client.websocket_api.create_connection()
        assert connection is not None, caplog.text
        logon = await connection.session_logon()
        assert logon.data().result.api_key == account["apiKey"]
        subscribed = await connection.user_data_stream_subscribe()
        assert subscribed.response.data().result.subscription_id == 0
        subscribed.stream.on("message", received.append)
        status, _ = await server.admin(
            "POST",
            f"/admin/v1/accounts/{account['accountId']}/balances",
            {"balances": {"ETH": "2"}, "mode": "add"},
        )
        assert status == 200
        await eventually(lambda: len(received) == 2)
        subscriptions = await connection.session_subscriptions()
        assert subscriptions.data().result[0].subscription_id == 0
    finally:
        await client.websocket_api.close_connection(close_session=True)
    update, position = (r.actual_instance for r in received)
    assert isinstance(update, BalanceUpdate)
    assert (update.a, update.d) == ("ETH", "2.00000000")
    assert isinstance(position, OutboundAccountPosition)


# --- python-binance ---------------------------------------------------------------------------


async def _python_binance(server, account: dict[str, Any]) -> AsyncClient:
    """An AsyncClient pointed at localspot through the testnet URLs, as in the README."""

    class AsyncLocalSpot(AsyncClient):
        API_TESTNET_URL = f"{server.base}/api"
        WS_API_TESTNET_URL = server.ws_api_url

    client = await AsyncLocalSpot.create(account["apiKey"], account["secretKey"], testnet=True)
    # The read loop waits this long for a frame before it notices a close; keep closing quick.
    client.ws_api.TIMEOUT = 0.2
    return client


async def _resting_sell(server, maker_id: int) -> None:
    await server.services.execute(
        PlaceOrder(maker_id, "BTCUSDT", Side.SELL, OrderType.LIMIT, TimeInForce.GTC,
                   quantity=Scaled.parse("0.01"), price=Scaled.parse("30000"))
    )  # fmt: skip


async def test_python_binance_user_socket_gets_the_fill_and_the_balances(server, caplog):
    account = await server.create_account()
    maker = await server.create_account()
    client = await _python_binance(server, account)
    events: list[dict[str, Any]] = []
    try:
        with caplog.at_level(logging.WARNING):
            # user_socket() subscribes with userDataStream.subscribe.signature on client.ws_api
            # (no listen key, no /ws connection) before `async with` returns.
            async with BinanceSocketManager(client).user_socket() as socket:
                await _resting_sell(server, maker["accountId"])
                taker = await client.create_order(
                    symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01"
                )
                while not events or events[-1]["e"] != "outboundAccountPosition":
                    events.append(await asyncio.wait_for(socket.recv(), timeout=5))
            # Leaving the socket sent userDataStream.unsubscribe; the connection stays open.
            assert account["accountId"] not in server.services.user_streams._by_account
            held = await client.get_account()
    finally:
        await client.close_connection()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # The socket hands over the `event` objects, without the {"subscriptionId", "event"} wrapper.
    assert [e["e"] for e in events] == [
        "executionReport",
        "executionReport",
        "outboundAccountPosition",
    ]
    new, trade, position = events
    assert all(e["i"] == taker["orderId"] for e in (new, trade))
    assert (new["x"], new["X"]) == ("NEW", "NEW")
    assert (trade["x"], trade["X"], trade["l"], trade["L"]) == (
        "TRADE",
        "FILLED",
        "0.01000000",
        "30000.00000000",
    )
    assert trade["m"] is False
    balances = {b["asset"]: (b["free"], b["locked"]) for b in held["balances"]}
    assert {b["a"]: (b["f"], b["l"]) for b in position["B"]} == {
        asset: balances[asset] for asset in ("BTC", "USDT")
    }


# --- ccxt.pro ---------------------------------------------------------------------------------


def _ccxt_pro(server, account: dict[str, Any]) -> ccxt_pro.binance:
    """ccxt.pro in sandbox mode, its REST and WebSocket API URLs pointed at localspot."""
    exchange = ccxt_pro.binance(
        {
            "apiKey": account["apiKey"],
            "secret": account["secretKey"],
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
        }
    )
    exchange.set_sandbox_mode(True)
    api = f"{server.base}/api"
    urls = exchange.urls["api"]
    exchange.urls["api"] = {
        **urls,
        "public": f"{api}/v3",
        "private": f"{api}/v3",
        "v1": f"{api}/v1",
        # Spot user data go over the WebSocket API: no listen key, no /ws stream URL.
        "ws": {**urls["ws"], "ws-api": {**urls["ws"]["ws-api"], "spot": server.ws_api_url}},
    }
    return exchange


async def _watching(
    exchange: ccxt_pro.binance, server, tasks: list[asyncio.Task[Any]]
) -> tuple[asyncio.Task[Any], asyncio.Task[Any]]:
    """Start watch_orders and watch_balance; return once both wait for their next update.

    A ccxt watch call resolves with the next update of its kind only; an update arriving while
    no call waits only lands in ccxt's cache. So the orders are placed after both wait.
    """
    orders = asyncio.create_task(exchange.watch_orders("BTC/USDT"))
    balance = asyncio.create_task(exchange.watch_balance())
    tasks += (orders, balance)

    def waiting() -> bool:
        client = exchange.clients.get(server.ws_api_url)
        return client is not None and {"orders:BTC/USDT", "spot:balance"} <= client.futures.keys()

    await eventually(waiting)
    return orders, balance


def _orders(orders: list[dict[str, Any]]) -> list[tuple[str, str, str, float]]:
    return [(o["id"], o["info"]["x"], o["status"], o["filled"]) for o in orders]


def _free_used(balance: dict[str, Any], *codes: str) -> dict[str, tuple[Any, Any]]:
    return {code: (balance[code]["free"], balance[code]["used"]) for code in codes}


async def test_ccxt_pro_watch_orders_and_balance(server):
    account = await server.create_account()
    taker = await server.create_account()
    exchange = _ccxt_pro(server, account)
    tasks: list[asyncio.Task[Any]] = []
    try:
        # The first watch subscribes with userDataStream.subscribe.signature (ccxt's default for
        # spot) on the WebSocket API connection, then waits for the next update.
        orders, balance = await _watching(exchange, server, tasks)
        placed = await exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
        # ccxt updates its cached order and balance objects in place: look at them right away.
        new = _orders(await asyncio.wait_for(orders, timeout=5))
        # Placing the order locked BTC only, so only BTC is in that outboundAccountPosition.
        locked = await asyncio.wait_for(balance, timeout=5)
        assert [b["a"] for b in locked["info"]["B"]] == ["BTC"]
        locked_btc = _free_used(locked, "BTC")

        orders, balance = await _watching(exchange, server, tasks)
        await server.services.execute(
            PlaceOrder(taker["accountId"], "BTCUSDT", Side.BUY, OrderType.MARKET,
                       quantity=Scaled.parse("0.01"))
        )  # fmt: skip
        filled = _orders(await asyncio.wait_for(orders, timeout=5))
        settled = await asyncio.wait_for(balance, timeout=5)
        assert settled["info"]["e"] == "outboundAccountPosition"
        assert {b["a"] for b in settled["info"]["B"]} == {"BTC", "USDT"}
        settled_balances = _free_used(settled, "BTC", "USDT")
        fetched = await exchange.fetch_balance()  # GET /api/v3/account
        held = _free_used(fetched, "BTC", "USDT")
    finally:
        for task in tasks:
            task.cancel()
        await exchange.close()

    assert new == [(placed["id"], "NEW", "open", 0.0)]
    assert locked_btc == {"BTC": (9.99, 0.01)}
    # The resting order filled as maker: its report says TRADE / FILLED, ccxt says closed.
    assert filled == [(placed["id"], "TRADE", "closed", 0.01)]
    assert settled_balances == held
    account_balances = {b["asset"]: (b["free"], b["locked"]) for b in fetched["info"]["balances"]}
    assert {b["a"]: (b["f"], b["l"]) for b in settled["info"]["B"]} == {
        asset: account_balances[asset] for asset in ("BTC", "USDT")
    }
    assert held["BTC"] == (9.99, 0.0)
