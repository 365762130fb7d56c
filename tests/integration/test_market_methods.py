"""Market data methods over the real server, both wires: empty-market answers, trades,
aggregates, klines, tickers, average price, book tickers, weights and errors.

A FakeClock stands still unless a test moves it, so times and windows are exact; trades are
made through the engine door (market_support.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from localspot import errors
from localspot.clock import FakeClock
from localspot.domain.enums import Side
from market_support import START_MS, SYMBOL, Market, open_market
from support import Server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START_MS)


@pytest.fixture
async def market(server: Server, clock: FakeClock) -> Market:
    return await open_market(server, clock)


async def both(market: Market, method: str, path: str, **params: Any) -> Any:
    """Call a method on both wires; assert they agree and return the result."""
    ws = await market.server.ws()
    try:
        answer = await ws.call(method, params)
    finally:
        await ws.close()
    status, body, _ = await market.rest(path, **params)
    assert answer["status"] == 200, answer
    assert status == 200, body
    assert answer["result"] == body
    return body


async def ws_error(market: Market, method: str, **params: Any) -> dict[str, Any]:
    ws = await market.server.ws()
    try:
        answer = await ws.call(method, params)
    finally:
        await ws.close()
    assert answer["status"] == 400, answer
    return answer["error"]


def _error(spec: errors.ErrorSpec, *args: object) -> dict[str, Any]:
    return spec.error(*args).body()


# -- an empty market -----------------------------------------------------------------------------


async def test_empty_market_answers(market):
    assert await both(market, "depth", "/api/v3/depth", symbol=SYMBOL) == {
        "lastUpdateId": 0,
        "bids": [],
        "asks": [],
    }
    assert await both(market, "trades.recent", "/api/v3/trades", symbol=SYMBOL) == []
    assert await both(market, "trades.aggregate", "/api/v3/aggTrades", symbol=SYMBOL) == []
    assert await both(market, "klines", "/api/v3/klines", symbol=SYMBOL, interval="1m") == []
    assert await both(market, "avgPrice", "/api/v3/avgPrice", symbol=SYMBOL) == {
        "mins": 5,
        "price": "0.00000000",
        "closeTime": 0,
    }
    ticker = await both(market, "ticker.24hr", "/api/v3/ticker/24hr", symbol=SYMBOL)
    zero = "0.00000000"
    assert ticker["lastPrice"] == ticker["openPrice"] == ticker["bidPrice"] == zero
    assert ticker["priceChangePercent"] == "0.000"
    assert (ticker["firstId"], ticker["lastId"], ticker["count"]) == (-1, -1, 0)
    assert (ticker["openTime"], ticker["closeTime"]) == (START_MS - 86_400_000, START_MS)
    price = await both(market, "ticker.price", "/api/v3/ticker/price", symbol=SYMBOL)
    assert price == {"symbol": SYMBOL, "price": zero}
    book = await both(market, "ticker.book", "/api/v3/ticker/bookTicker", symbol=SYMBOL)
    assert book == {"symbol": SYMBOL, "bidPrice": zero, "bidQty": zero, "askPrice": zero,
                    "askQty": zero}  # fmt: skip


# -- trades and aggregates -----------------------------------------------------------------------


async def test_trades_and_aggregates_follow_the_taker(market):
    await market.rest_order(market.maker, Side.SELL, "0.1", "30000")
    await market.rest_order(market.maker, Side.SELL, "0.2", "30000")
    await market.rest_order(market.maker, Side.SELL, "0.3", "30001")
    market.clock.advance(1000)
    await market.place(market.taker, Side.BUY, "0.6")  # three trades, two prices
    recent = await both(market, "trades.recent", "/api/v3/trades", symbol=SYMBOL, limit=2)
    assert [t["id"] for t in recent] == [2, 3]
    assert recent[1] == {
        "id": 3,
        "price": "30001.00000000",
        "qty": "0.30000000",
        "quoteQty": "9000.30000000",
        "time": START_MS + 1000,
        "isBuyerMaker": False,
        "isBestMatch": True,
    }
    historical = await both(
        market, "trades.historical", "/api/v3/historicalTrades", symbol=SYMBOL, fromId=2, limit=5
    )
    assert [t["id"] for t in historical] == [2, 3]
    aggs = await both(market, "trades.aggregate", "/api/v3/aggTrades", symbol=SYMBOL)
    assert aggs == [
        {"a": 0, "p": "30000.00000000", "q": "0.30000000", "f": 1, "l": 2,
         "T": START_MS + 1000, "m": False, "M": True},
        {"a": 1, "p": "30001.00000000", "q": "0.30000000", "f": 3, "l": 3,
         "T": START_MS + 1000, "m": False, "M": True},
    ]  # fmt: skip
    by_id = await both(market, "trades.aggregate", "/api/v3/aggTrades", symbol=SYMBOL, fromId=1)
    assert [a["a"] for a in by_id] == [1]
    by_time = await both(
        market,
        "trades.aggregate",
        "/api/v3/aggTrades",
        symbol=SYMBOL,
        startTime=START_MS,
        endTime=START_MS + 999,
    )
    assert by_time == []


async def test_klines_ui_klines_and_time_zone(market):
    await market.sell_then_buy("30000", "0.5")
    market.clock.advance(61_000)
    await market.sell_then_buy("31000", "0.25")
    rows = await both(market, "klines", "/api/v3/klines", symbol=SYMBOL, interval="1m")
    assert rows == [
        [START_MS, "30000.00000000", "30000.00000000", "30000.00000000", "30000.00000000",
         "0.50000000", START_MS + 59_999, "15000.00000000", 1, "0.50000000", "15000.00000000",
         "0"],
        [START_MS + 60_000, "31000.00000000", "31000.00000000", "31000.00000000",
         "31000.00000000", "0.25000000", START_MS + 119_999, "7750.00000000", 1, "0.25000000",
         "7750.00000000", "0"],
    ]  # fmt: skip
    ui = await both(market, "uiKlines", "/api/v3/uiKlines", symbol=SYMBOL, interval="1m")
    assert ui == rows
    day = await both(market, "klines", "/api/v3/klines", symbol=SYMBOL, interval="1d", timeZone="8")
    assert [row[0] for row in day] == [1_699_977_600_000]  # 2023-11-15 00:00 UTC+8


async def test_tickers_and_average_price(market):
    await market.sell_then_buy("30000", "0.5")
    market.clock.advance(60_000)
    await market.sell_then_buy("33000", "0.5")
    await market.rest_order(market.maker, Side.BUY, "1", "29000")
    full = await both(market, "ticker.24hr", "/api/v3/ticker/24hr", symbol=SYMBOL)
    assert full["priceChange"] == "3000.00000000"
    assert full["priceChangePercent"] == "10.000"
    assert full["weightedAvgPrice"] == "31500.00000000"
    assert full["bidPrice"] == "29000.00000000"
    assert (full["firstId"], full["lastId"], full["count"]) == (1, 2, 2)
    mini = await both(market, "ticker.24hr", "/api/v3/ticker/24hr", symbols=[SYMBOL], type="MINI")
    assert list(mini[0]) == ["symbol", "openPrice", "highPrice", "lowPrice", "lastPrice",
                             "volume", "quoteVolume", "openTime", "closeTime", "firstId",
                             "lastId", "count"]  # fmt: skip
    rolling = await both(market, "ticker", "/api/v3/ticker", symbol=SYMBOL, windowSize="1m")
    # The window opens on the minute: 22:14:00, so both trades are in it.
    assert (rolling["openTime"], rolling["count"]) == (START_MS, 2)
    day = await both(
        market, "ticker.tradingDay", "/api/v3/ticker/tradingDay", symbol=SYMBOL, timeZone="-1:00"
    )
    assert (day["openTime"], day["closeTime"]) == (1_699_923_600_000, 1_700_009_999_999)
    average = await both(market, "avgPrice", "/api/v3/avgPrice", symbol=SYMBOL)
    assert average == {"mins": 5, "price": "31500.00000000", "closeTime": START_MS + 60_000}
    prices = await both(market, "ticker.price", "/api/v3/ticker/price")
    assert prices[0] == {"symbol": SYMBOL, "price": "33000.00000000"}
    assert len(prices) == len(market.server.services.symbols)


async def test_depth_levels_and_update_id(market):
    await market.rest_order(market.maker, Side.BUY, "1", "29000")
    await market.rest_order(market.maker, Side.BUY, "2", "29000")
    order = await market.rest_order(market.maker, Side.BUY, "1", "28000")
    await market.rest_order(market.maker, Side.SELL, "1.5", "31000")
    first = await both(market, "depth", "/api/v3/depth", symbol=SYMBOL, limit=5)
    assert first["bids"] == [["29000.00000000", "3.00000000"], ["28000.00000000", "1.00000000"]]
    assert first["asks"] == [["31000.00000000", "1.50000000"]]
    again = await both(market, "depth", "/api/v3/depth", symbol=SYMBOL, limit=1)
    assert again["lastUpdateId"] == first["lastUpdateId"]
    await market.cancel(market.maker, order)
    after = await both(market, "depth", "/api/v3/depth", symbol=SYMBOL)
    assert after["lastUpdateId"] > first["lastUpdateId"]
    assert after["bids"] == [["29000.00000000", "3.00000000"]]


async def test_time_unit_microsecond_on_the_ws_api(market):
    await market.sell_then_buy("30000", "0.5")
    ws = await market.server.ws("?timeUnit=MICROSECOND")
    answer = await ws.call("trades.recent", {"symbol": SYMBOL})
    await ws.close()
    assert answer["result"][0]["time"] == START_MS * 1000


async def test_block_trades_and_reference_price(market):
    blocks = await both(
        market, "blockTrades.historical", "/api/v3/historicalBlockTrades", symbol=SYMBOL, fromId=0
    )
    assert blocks == []
    assert await ws_error(market, "referencePrice", symbol=SYMBOL) == _error(
        errors.NO_REFERENCE_PRICE
    )
    status, body, _ = await market.rest("/api/v3/referencePrice/calculation", symbol=SYMBOL)
    assert (status, body) == (400, _error(errors.NO_REFERENCE_PRICE))


# -- weights -------------------------------------------------------------------------------------


async def weight_of(market: Market, path: str, **params: Any) -> int:
    _, _, before = await market.rest("/api/v3/ping")
    status, body, after = await market.rest(path, **params)
    assert status == 200, body
    return int(after["X-MBX-USED-WEIGHT-1M"]) - int(before["X-MBX-USED-WEIGHT-1M"])


@pytest.mark.parametrize(
    ("path", "params", "weight"),
    [
        ("/api/v3/depth", {"symbol": SYMBOL}, 5),
        ("/api/v3/depth", {"symbol": SYMBOL, "limit": 101}, 25),
        ("/api/v3/depth", {"symbol": SYMBOL, "limit": 1000}, 50),
        ("/api/v3/depth", {"symbol": SYMBOL, "limit": 5000}, 250),
        ("/api/v3/trades", {"symbol": SYMBOL}, 25),
        ("/api/v3/historicalTrades", {"symbol": SYMBOL}, 25),
        ("/api/v3/aggTrades", {"symbol": SYMBOL}, 4),
        ("/api/v3/klines", {"symbol": SYMBOL, "interval": "1h"}, 2),
        ("/api/v3/uiKlines", {"symbol": SYMBOL, "interval": "1h"}, 2),
        ("/api/v3/avgPrice", {"symbol": SYMBOL}, 2),
        ("/api/v3/ticker/24hr", {"symbol": SYMBOL}, 2),
        ("/api/v3/ticker/24hr", {"symbols": [SYMBOL, "ETHUSDT"]}, 2),
        ("/api/v3/ticker/24hr", {}, 80),
        ("/api/v3/ticker", {"symbols": [SYMBOL, "ETHUSDT", "BNBUSDT"]}, 12),
        ("/api/v3/ticker/tradingDay", {"symbol": SYMBOL}, 4),
        ("/api/v3/ticker/price", {"symbol": SYMBOL}, 2),
        ("/api/v3/ticker/price", {}, 4),
        ("/api/v3/ticker/bookTicker", {"symbols": [SYMBOL]}, 4),
    ],
)
async def test_documented_weights(market, path, params, weight):
    assert await weight_of(market, path, **params) == weight


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("depth", {"symbol": "NOPE"}, _error(errors.BAD_SYMBOL)),
        ("depth", {"symbol": SYMBOL, "limit": 0}, _error(errors.INVALID_PARAMETER, "limit")),
        ("depth", {"symbol": SYMBOL, "symbolStatus": "HALT"},
         _error(errors.SYMBOL_DOES_NOT_MATCH_STATUS)),
        ("depth", {"symbol": SYMBOL, "symbolStatus": "X"}, _error(errors.INVALID_SYMBOLSTATUS)),
        ("trades.recent", {}, _error(errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "symbol")),
        ("klines", {"symbol": SYMBOL, "interval": "2s"}, _error(errors.BAD_INTERVAL)),
        ("klines", {"symbol": SYMBOL, "interval": "1h", "timeZone": "15"},
         _error(errors.INVALID_PARAMETER, "timeZone")),
        ("trades.aggregate", {"symbol": SYMBOL, "fromId": 1, "startTime": 1},
         _error(errors.OPTIONAL_PARAMS_BAD_COMBO)),
        ("ticker.24hr", {"symbol": SYMBOL, "symbols": [SYMBOL]},
         _error(errors.OPTIONAL_PARAMS_BAD_COMBO)),
        ("ticker.24hr", {"symbol": SYMBOL, "type": "HALF"}, _error(errors.INVALID_TICKER_TYPE)),
        ("ticker.24hr", {"symbols": [SYMBOL, SYMBOL]}, _error(errors.DUPLICATE_SYMBOLS)),
        ("ticker", {}, _error(errors.EITHER_PARAM_REQUIRED, "symbol", "symbols")),
        ("ticker", {"symbol": SYMBOL, "windowSize": "25h"},
         _error(errors.INVALID_PARAMETER, "windowSize")),
        ("ticker.tradingDay", {}, _error(errors.EITHER_PARAM_REQUIRED, "symbol", "symbols")),
        ("blockTrades.historical", {"symbol": SYMBOL},
         _error(errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "fromId")),
    ],
)  # fmt: skip
async def test_documented_errors(market, method, params, expected):
    assert await ws_error(market, method, **params) == expected


async def test_status_filter_excludes_symbols_from_lists(market):
    listed = await both(market, "ticker.price", "/api/v3/ticker/price", symbolStatus="HALT")
    assert listed == []
    listed = await both(market, "ticker.price", "/api/v3/ticker/price", symbolStatus="TRADING")
    assert len(listed) == len(market.server.services.symbols)


async def test_lower_case_symbol_is_illegal(market):
    status, body, _ = await market.rest("/api/v3/depth", symbol="btcusdt")
    assert status == 400
    assert body["code"] == -1100
