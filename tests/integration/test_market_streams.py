"""Market data streams over the real server: URL forms, live control messages and their
errors, every stream kind, the local order book procedure, limits, back-pressure, shutdown.

Orders go through the engine door (market_support.py); the server's clock is a FakeClock, the
100 ms ticker runs on real time, so tests wait with `eventually`/`receive(timeout=...)`.
"""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from localspot import errors
from localspot.clock import FakeClock
from localspot.config import Config
from localspot.domain.enums import Side
from localspot.limits.limiter import RateLimitRule
from localspot.transport.ws_streams import STREAM_SERVER
from market_support import START_MS, SYMBOL, Market, open_market
from support import UPGRADE_HEADERS, Server, eventually


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
async def market(server: Server, clock: FakeClock) -> Market:
    return await open_market(server, clock)


class StreamClient:
    """A bare stream client: control messages and events."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def recv(self, timeout: float = 5.0) -> Any:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        return json.loads(msg.data)

    async def control(self, method: str, params: Any = None, id: Any = 1) -> Any:
        frame: dict[str, Any] = {"method": method, "id": id}
        if params is not None:
            frame["params"] = params
        await self.ws.send_str(json.dumps(frame))
        return await self.until(lambda m: isinstance(m, dict) and "id" in m)

    async def until(self, condition: Any, timeout: float = 5.0) -> Any:
        """Return the first message satisfying `condition` (others are dropped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - loop.time()))
            if condition(message):
                return message

    async def close(self) -> None:
        await self.ws.close()


async def connect(server: Server, path: str) -> StreamClient:
    ws = await server.session.ws_connect(f"ws://127.0.0.1:{server.server.port}{path}")
    return StreamClient(ws)


def relax_limits(server: Server) -> None:
    """Allow control-message bursts (the limit has its own test)."""
    server.server.app[STREAM_SERVER].max_messages_per_second = 1000


def kind(event: str) -> Any:
    return lambda m: isinstance(m, dict) and m.get("e") == event


# -- URL forms and the payloads of real-time streams --------------------------------------------


async def test_raw_trade_and_agg_trade_streams(market):
    client = await connect(market.server, "/ws/btcusdt@trade/btcusdt@aggTrade")
    await market.place(market.maker, Side.SELL, "0.1", "30000")
    await market.place(market.maker, Side.SELL, "0.2", "30000")
    await market.place(market.taker, Side.BUY, "0.3")
    trades = [await client.until(kind("trade")) for _ in range(2)]
    assert trades[0] == {
        "e": "trade",
        "E": START_MS,
        "s": SYMBOL,
        "t": 1,
        "p": "30000.00000000",
        "q": "0.10000000",
        "T": START_MS,
        "m": False,
        "M": True,
    }
    agg = await client.until(kind("aggTrade"))
    assert (agg["a"], agg["q"], agg["f"], agg["l"]) == (0, "0.30000000", 1, 2)
    await client.close()


async def test_batched_fan_out_keeps_one_message_per_frame_in_order(market):
    # Two connections with the same streams share the flush's bytes; a third differs (raw).
    one = await connect(market.server, "/stream?streams=btcusdt@trade/btcusdt@aggTrade")
    two = await connect(market.server, "/stream?streams=btcusdt@trade/btcusdt@aggTrade")
    raw = await connect(market.server, "/ws/btcusdt@trade")
    await eventually(lambda: len(market.server.server.app[STREAM_SERVER].connections) == 3)
    for _ in range(5):
        await market.place(market.maker, Side.SELL, "0.01", "30000")
    await market.place(market.taker, Side.BUY, "0.05")  # five trades, one aggregate, at once
    await one.ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 7}))
    for client in (one, two):
        messages = [await client.recv() for _ in range(6)]
        assert [m["stream"] for m in messages] == ["btcusdt@trade"] * 5 + ["btcusdt@aggTrade"]
        assert [m["data"]["t"] for m in messages[:5]] == [1, 2, 3, 4, 5]
    assert await one.recv() == {"result": ["btcusdt@trade", "btcusdt@aggTrade"], "id": 7}
    assert [(await raw.recv())["t"] for _ in range(5)] == [1, 2, 3, 4, 5]
    for client in (one, two, raw):
        await client.close()


async def test_combined_stream_wraps_events_and_time_unit(market):
    client = await connect(market.server, "/stream?streams=btcusdt@trade&timeUnit=MICROSECOND")
    await market.sell_then_buy("30000", "0.1")
    message = await client.until(lambda m: m.get("stream") == "btcusdt@trade")
    assert list(message) == ["stream", "data"]
    assert message["data"]["T"] == START_MS * 1000
    assert message["data"]["E"] == START_MS * 1000
    await client.close()


async def test_bad_time_unit_is_refused(market):
    url = f"http://127.0.0.1:{market.server.server.port}/ws?timeUnit=SECOND"
    async with market.server.session.get(url, headers=UPGRADE_HEADERS) as resp:
        assert resp.status == 400
        assert await resp.json() == errors.INVALID_TIME_UNIT.error().body()


# -- live control ----------------------------------------------------------------------------------


async def test_subscribe_list_unsubscribe_and_properties(market):
    client = await connect(market.server, "/ws")
    relax_limits(market.server)
    assert await client.control("SUBSCRIBE", ["btcusdt@aggTrade", "btcusdt@depth"], 1) == {
        "result": None,
        "id": 1,
    }
    # Subscribing again is fine.
    assert await client.control("SUBSCRIBE", ["btcusdt@aggTrade"], "a-2") == {
        "result": None,
        "id": "a-2",
    }
    assert await client.control("LIST_SUBSCRIPTIONS", id=3) == {
        "result": ["btcusdt@aggTrade", "btcusdt@depth"],
        "id": 3,
    }
    assert await client.control("UNSUBSCRIBE", ["btcusdt@depth"], 312) == {
        "result": None,
        "id": 312,
    }
    assert await client.control("LIST_SUBSCRIPTIONS", id=4) == {
        "result": ["btcusdt@aggTrade"],
        "id": 4,
    }
    assert await client.control("GET_PROPERTY", ["combined"], 5) == {"result": False, "id": 5}
    assert await client.control("SET_PROPERTY", ["combined", True], 6) == {"result": None, "id": 6}
    assert await client.control("GET_PROPERTY", ["combined"], None) == {"result": True, "id": None}
    await market.sell_then_buy("30000", "0.1")
    wrapped = await client.until(lambda m: "stream" in m)
    assert wrapped["stream"] == "btcusdt@aggTrade"
    await client.close()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ('{"method": "SUBSCRIBE", "params": ["btcusdt@nope"], "id": 1}',
         {"code": 2, "msg": "Invalid request: invalid stream"}),
        ('{"method": "SUBSCRIBE", "params": ["BTCUSDT@trade"], "id": 1}',
         {"code": 2, "msg": "Invalid request: invalid stream"}),
        ('{"method": "SET_PROPERTY", "params": ["speed", true], "id": 1}',
         {"code": 0, "msg": "Unknown property"}),
        ('{"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 1}',
         {"code": 1, "msg": "Invalid value type: expected Boolean"}),
        ('{"method": "GET_PROPERTY", "params": [5], "id": 1}',
         {"code": 2, "msg": "Invalid request: property name must be a string"}),
        ('{"method": "GET_PROPERTY", "params": ["combined", 1], "id": 1}',
         {"code": 2, "msg": "Invalid request: too many parameters"}),
        ('{"method": "LIST_SUBSCRIPTIONS", "params": ["x"], "id": 1}',
         {"code": 2, "msg": "Invalid request: too many parameters"}),
        ('{"method": "LIST_SUBSCRIPTIONS", "id": true}',
         {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}),
        ('{"method": "SUBSCRIBER", "params": [], "id": 1}',
         {"code": 2, "msg": "Invalid request: unknown variant `SUBSCRIBER`, expected one of "
          "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` "
          "at line 1 column 23"}),
        ('{"params": [], "id": 1}',
         {"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 23"}),
        ("{nope", {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 2"}),
    ],
)  # fmt: skip
async def test_control_errors(market, frame, error):
    client = await connect(market.server, "/ws")
    await client.ws.send_str(frame)
    answer = await client.recv()
    assert list(answer) == ["error", "id"]
    assert answer["error"] == error
    # The connection stays usable.
    assert await client.control("LIST_SUBSCRIPTIONS", id=9) == {"result": [], "id": 9}
    await client.close()


# -- periodic streams ------------------------------------------------------------------------


async def test_periodic_streams_send_their_payloads(market):
    streams = [
        "btcusdt@kline_1m",
        "btcusdt@kline_1d@+08:00",
        "btcusdt@miniTicker",
        "!miniTicker@arr",
        "btcusdt@ticker",
        "btcusdt@ticker_1h",
        "!ticker_4h@arr",
        "btcusdt@avgPrice",
        "btcusdt@bookTicker",
        "btcusdt@depth5@100ms",
    ]
    client = await connect(market.server, "/stream?streams=" + "/".join(streams))
    await market.sell_then_buy("30000", "0.5")
    await market.rest_order(market.maker, Side.BUY, "1", "29000")
    seen: dict[str, Any] = {}

    def collect(message: Any) -> bool:
        seen.setdefault(message["stream"], message["data"])
        return set(seen) == set(streams)

    await client.until(collect, timeout=8)
    kline = seen["btcusdt@kline_1m"]["k"]
    assert (kline["t"], kline["T"], kline["i"], kline["x"]) == (
        START_MS,
        START_MS + 59_999,
        "1m",
        False,
    )
    assert (kline["o"], kline["v"], kline["n"], kline["f"], kline["L"]) == (
        "30000.00000000", "0.50000000", 1, 1, 1)  # fmt: skip
    assert seen["btcusdt@kline_1d@+08:00"]["k"]["t"] == 1_699_977_600_000
    assert seen["btcusdt@miniTicker"]["e"] == "24hrMiniTicker"
    assert seen["!miniTicker@arr"][0]["s"] == SYMBOL
    ticker = seen["btcusdt@ticker"]
    assert (ticker["e"], ticker["c"], ticker["b"], ticker["n"]) == (
        "24hrTicker", "30000.00000000", "29000.00000000", 1)  # fmt: skip
    assert seen["btcusdt@ticker_1h"]["e"] == "1hTicker"
    assert seen["!ticker_4h@arr"][0]["e"] == "4hTicker"
    assert seen["btcusdt@avgPrice"] == {
        "e": "avgPrice", "E": START_MS, "s": SYMBOL, "i": "5m", "w": "30000.00000000",
        "T": START_MS}  # fmt: skip
    assert list(seen["btcusdt@bookTicker"]) == ["u", "s", "b", "B", "a", "A"]
    assert list(seen["btcusdt@depth5@100ms"]) == ["lastUpdateId", "bids", "asks"]
    await client.close()


async def test_kline_is_sent_closed_when_its_bucket_ends(market):
    client = await connect(market.server, "/ws/btcusdt@kline_1s")
    await market.sell_then_buy("30000", "0.5")
    first = await client.until(kind("kline"))
    assert first["k"]["x"] is False
    market.clock.advance(1_000)
    closed = await client.until(kind("kline"))
    assert (closed["k"]["t"], closed["k"]["x"]) == (START_MS, True)
    await client.close()


# -- the local order book -----------------------------------------------------------------------


class LocalBook:
    """web-socket-streams.md, "How to manage a local order book correctly", step by step."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id = -1

    def load(self, snapshot: dict[str, Any]) -> None:
        self.bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}
        self.update_id = snapshot["lastUpdateId"]

    def apply(self, event: dict[str, Any]) -> None:
        if event["u"] < self.update_id:
            return
        assert event["U"] <= self.update_id + 1, "missed events"
        for side, key in ((self.bids, "b"), (self.asks, "a")):
            for price, qty in event[key]:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = Decimal(qty)
        self.update_id = event["u"]

    def as_depth(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())


async def churn(market: Market, rng: random.Random, steps: int) -> None:
    """Random resting orders, crossing orders and cancels on BTCUSDT."""
    open_orders: list[tuple[int, int]] = []
    for _ in range(steps):
        roll = rng.random()
        account = rng.choice((market.maker, market.taker))
        if roll < 0.15 and open_orders:
            owner, order_id = open_orders.pop(rng.randrange(len(open_orders)))
            await market.cancel(owner, order_id)
        elif roll < 0.25:
            await market.place(account, rng.choice((Side.BUY, Side.SELL)), "0.3")
        else:
            side = rng.choice((Side.BUY, Side.SELL))
            price = str(30000 + rng.randint(-20, 20) * 10)
            qty = str(Decimal(rng.randint(1, 20)) / 100)
            events = await market.place(account, side, qty, price)
            order = getattr(events[0], "order", None)
            if order is not None and order.status.value in ("NEW", "PARTIALLY_FILLED"):
                open_orders.append((account, order.order_id))


@pytest.mark.parametrize("stream", ["btcusdt@depth@100ms", "btcusdt@depth"])
async def test_local_order_book_procedure_matches_the_server(market, stream):
    rng = random.Random(7)
    await churn(market, rng, 40)  # a book before anyone listens
    # 1-2. Open the stream and buffer its events.
    client = await connect(market.server, f"/ws/{stream}")
    buffered: list[dict[str, Any]] = []
    reader = asyncio.create_task(_read_into(client, buffered))
    await churn(market, rng, 40)
    await eventually(lambda: buffered, timeout=5)
    first_u = buffered[0]["U"]
    # 3-4. A snapshot whose lastUpdateId is not below the first U.
    while True:
        _, snapshot, _ = await market.rest("/api/v3/depth", symbol=SYMBOL, limit=5000)
        if snapshot["lastUpdateId"] >= first_u:
            break
        await churn(market, rng, 1)
    await churn(market, rng, 40)  # more changes while the buffer fills
    # 5-7. Drop events already in the snapshot, load it, apply the rest.
    book = LocalBook()
    book.load(snapshot)
    pending = [e for e in buffered if e["u"] > snapshot["lastUpdateId"]]
    if pending:
        assert pending[0]["U"] <= snapshot["lastUpdateId"] + 1 <= pending[0]["u"]
    applied = 0

    def caught_up(target: int) -> bool:
        nonlocal applied
        for event in buffered[applied:]:
            if event["u"] > snapshot["lastUpdateId"]:
                book.apply(event)
        applied = len(buffered)
        return book.update_id >= target

    # The server's book now; the local book must reach its update id and equal it.
    _, final, _ = await market.rest("/api/v3/depth", symbol=SYMBOL, limit=5000)
    await eventually(lambda: caught_up(final["lastUpdateId"]), timeout=5)
    assert book.update_id == final["lastUpdateId"]
    bids, asks = book.as_depth()
    assert [[f"{p:.8f}", f"{q:.8f}"] for p, q in bids] == final["bids"]
    assert [[f"{p:.8f}", f"{q:.8f}"] for p, q in asks] == final["asks"]
    assert final["bids"] or final["asks"]
    reader.cancel()
    await client.close()


async def _read_into(client: StreamClient, out: list[dict[str, Any]]) -> None:
    while True:
        message = await client.recv(timeout=30)
        if message.get("e") == "depthUpdate":
            if out:
                assert message["U"] == out[-1]["u"] + 1
            out.append(message)


# -- limits, back-pressure, shutdown ----------------------------------------------------------


async def test_more_than_five_messages_a_second_disconnects(market):
    client = await connect(market.server, "/ws")
    for i in range(6):
        await client.ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
    messages = []
    while True:
        msg = await client.ws.receive(timeout=5)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        messages.append(json.loads(msg.data))
    assert len(messages) == 5
    assert client.ws.closed


async def test_stream_count_is_limited_per_connection(market):
    market.server.server.app[STREAM_SERVER].max_streams = 3
    relax_limits(market.server)
    client = await connect(market.server, "/ws/btcusdt@trade/ethusdt@trade")
    answer = await client.control("SUBSCRIBE", ["bnbusdt@trade", "ethbtc@trade"], 1)
    assert answer == {"error": {"code": 2, "msg": "Invalid request: too many streams"}, "id": 1}
    assert await client.control("SUBSCRIBE", ["bnbusdt@trade"], 2) == {"result": None, "id": 2}
    await client.close()


async def test_connection_attempts_are_limited_per_ip(start_server, clock):
    rule = RateLimitRule("CONNECTIONS", "MINUTE", 5, 2)
    server = await start_server(Config(connection_limit=rule), clock)
    for _ in range(2):
        client = await connect(server, "/ws")
        await client.close()
    url = f"http://127.0.0.1:{server.server.port}/ws"
    async with server.session.get(url, headers=UPGRADE_HEADERS) as resp:
        assert resp.status == 429
        assert (await resp.json())["code"] == errors.TOO_MANY_CONNECTION_ATTEMPTS_IP.code


async def test_slow_subscriber_is_disconnected_and_others_keep_receiving(market):
    market.server.server.app[STREAM_SERVER].max_queue = 3
    slow = await connect(market.server, "/ws/btcusdt@trade")
    fast = await connect(market.server, "/ws/btcusdt@aggTrade")
    for _ in range(5):
        await market.place(market.maker, Side.SELL, "0.01", "30000")
    # One command, five trades (one aggregate): five frames queued at once for `@trade`.
    await market.place(market.taker, Side.BUY, "0.05")
    while True:
        msg = await slow.ws.receive(timeout=5)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
    assert slow.ws.closed
    agg = await fast.until(kind("aggTrade"))
    assert (agg["a"], agg["q"], agg["f"], agg["l"]) == (0, "0.05000000", 1, 5)
    await fast.close()


async def test_server_shutdown_event(market):
    raw = await connect(market.server, "/ws/btcusdt@trade")
    combined = await connect(market.server, "/stream?streams=btcusdt@trade")
    await eventually(lambda: len(market.server.server.app[STREAM_SERVER].connections) == 2)
    await market.server.server.app[STREAM_SERVER].shutdown()
    assert await raw.recv() == {"e": "serverShutdown", "E": START_MS}
    assert await combined.recv() == {
        "stream": "!serverShutdown",
        "data": {"e": "serverShutdown", "E": START_MS},
    }
    msg = await raw.ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    await raw.close()
    await combined.close()
