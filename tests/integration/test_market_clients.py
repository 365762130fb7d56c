"""Unmodified python-binance against localspot's market data: REST market methods through
`AsyncClient`, and `BinanceSocketManager` streams (trade, diff depth, kline, multiplex)
receiving fills made through the engine door.

The clients are pointed at localspot as in test_clients.py: subclasses with the testnet URLs
replaced, and the socket manager's testnet stream URL set to the server's root.
"""

from __future__ import annotations

import asyncio
import warnings

import pytest

from localspot.clock import FakeClock
from localspot.domain.enums import Side
from localspot.transport.ws_streams import STREAM_SERVER
from market_support import START_MS, SYMBOL, Market, open_market
from support import Server, eventually

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient, BinanceSocketManager

pytestmark = pytest.mark.filterwarnings(
    "ignore:websockets.WebSocketClientProtocol is deprecated:DeprecationWarning"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
async def market(server: Server, clock: FakeClock) -> Market:
    return await open_market(server, clock)


async def _client(server: Server) -> AsyncClient:
    class AsyncLocalSpot(AsyncClient):
        API_TESTNET_URL = f"{server.base}/api"
        WS_API_TESTNET_URL = server.ws_api_url

    client = await AsyncLocalSpot.create(testnet=True)
    client.ws_api.TIMEOUT = 0.2
    return client


def _manager(client: AsyncClient, server: Server) -> BinanceSocketManager:
    manager = BinanceSocketManager(client)
    manager.STREAM_TESTNET_URL = f"ws://127.0.0.1:{server.server.port}/"
    return manager


async def test_python_binance_rest_market_methods(market):
    await market.sell_then_buy("30000", "0.5")
    await market.rest_order(market.maker, Side.BUY, "1", "29000")
    client = await _client(market.server)
    try:
        book = await client.get_order_book(symbol=SYMBOL, limit=10)
        trades = await client.get_recent_trades(symbol=SYMBOL)
        aggs = await client.get_aggregate_trades(symbol=SYMBOL)
        rows = await client.get_klines(symbol=SYMBOL, interval=AsyncClient.KLINE_INTERVAL_1MINUTE)
        ticker = await client.get_ticker(symbol=SYMBOL)
        average = await client.get_avg_price(symbol=SYMBOL)
    finally:
        await client.close_connection()
    assert book["bids"] == [["29000.00000000", "1.00000000"]]
    assert [t["id"] for t in trades] == [1]
    assert aggs[0]["q"] == "0.50000000"
    assert rows[0][0] == START_MS
    assert ticker["lastPrice"] == "30000.00000000"
    assert average["price"] == "30000.00000000"


async def test_python_binance_socket_manager_streams(market):
    client = await _client(market.server)
    manager = _manager(client, market.server)
    sockets = [
        manager.trade_socket(SYMBOL),
        manager.depth_socket(SYMBOL, interval=100),
        manager.kline_socket(SYMBOL),
        manager.multiplex_socket(["btcusdt@aggTrade", "btcusdt@bookTicker"]),
    ]
    for socket in sockets:
        socket.TIMEOUT = 0.2  # its read loop notices a close after this long
    streams = market.server.server.app[STREAM_SERVER]
    try:
        async with (
            sockets[0] as trades,
            sockets[1] as depth,
            sockets[2] as kline,
            sockets[3] as multi,
        ):
            await eventually(lambda: len(streams.connections) == 4)
            await market.sell_then_buy("30000", "0.5")
            await market.rest_order(market.maker, Side.BUY, "1", "29000")
            trade = await asyncio.wait_for(trades.recv(), 5)
            update = await asyncio.wait_for(depth.recv(), 5)
            candle = await asyncio.wait_for(kline.recv(), 5)
            wrapped = await asyncio.wait_for(multi.recv(), 5)
    finally:
        await client.close_connection()
    assert (trade["e"], trade["p"], trade["q"]) == ("trade", "30000.00000000", "0.50000000")
    assert update["e"] == "depthUpdate"
    assert ["29000.00000000", "1.00000000"] in update["b"]
    assert candle["k"]["c"] == "30000.00000000"
    assert wrapped["stream"] in ("btcusdt@aggTrade", "btcusdt@bookTicker")
