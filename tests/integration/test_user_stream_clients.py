"""Unmodified clients' user data streams on localspot: binance-sdk-spot's WebSocket API.

The SDK subscribes with `user_data_stream_subscribe_signature` (HMAC) and with `session_logon`
+ `user_data_stream_subscribe` (Ed25519), routes each frame by its `subscriptionId` and parses
it into its own event models; an order crossing the subscribed account's order must arrive as
its typed `ExecutionReport` and `OutboundAccountPosition`.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

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
from support import ed25519_pair, eventually

# binance_common passes `timeout=<float>` to aiohttp's ws_connect, deprecated in aiohttp 3.12+.
pytestmark = pytest.mark.filterwarnings(
    "ignore:parameter 'timeout' of type 'float':DeprecationWarning"
)


def _sdk(server, **credentials: Any) -> Spot:
    return Spot(
        config_ws_api=ConfigurationWebSocketAPI(stream_url=server.ws_api_url, **credentials)
    )


async def _cross(server, maker_id: int, taker_id: int) -> None:
    await server.services.execute(
        PlaceOrder(maker_id, "BTCUSDT", Side.SELL, OrderType.LIMIT, TimeInForce.GTC,
                   quantity=Decimal("0.01"), price=Decimal("30000"))
    )  # fmt: skip
    await server.services.execute(
        PlaceOrder(taker_id, "BTCUSDT", Side.BUY, OrderType.MARKET, quantity=Decimal("0.01"))
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
