"""Market data requests: order book, trades, aggregates, klines, tickers, average and reference
prices (web-socket-api.md "Market data requests"; rest-api.md "Market Data endpoints").

Every method is public (security NONE) and has its REST twin. The numbers come from
marketdata/ (pure); this module parses parameters, picks symbols and renders.

Decisions where the docs are silent (docs/market-data.md repeats them):
- `limit` above the documented maximum is served at the maximum (rest-api.md says so for
  `depth`); below 1 it is `-1130 Data sent for parameter 'limit' is not valid.`
- An invalid `interval` is -1120, an invalid `timeZone` or `windowSize` -1130, an invalid
  `type` -1139; `symbol` with `symbols` is -1128, neither (where one is required) -1102.
- `trades.aggregate` with `fromId` and `startTime`/`endTime` is -1128.
- localspot has no block trades and no reference prices: `blockTrades.historical` answers
  `[]`, `referencePrice` and `referencePrice.calculation` answer -2043.
- The documented maximum number of `symbols` (100 or 200) is not enforced (no error is
  documented for it); weights are capped as documented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localspot import errors
from localspot.domain.symbols import SymbolSpec
from localspot.marketdata import MarketData, intervals, klines, tickers
from localspot.methods import render_market as render
from localspot.methods.context import Call
from localspot.methods.general import SymbolStatus
from localspot.methods.params import Params
from localspot.methods.registry import Registry, method

_QUERYABLE_STATUSES = (SymbolStatus.TRADING, SymbolStatus.HALT, SymbolStatus.BREAK)
DEPTH_MAX = 5000
TRADES_MAX = 1000
DEFAULT_AVG_PRICE_MINS = 5


def register(registry: Registry) -> None:
    """Add the market data methods to `registry`."""
    one = ("symbol",)
    listed = ("symbol", "symbols", "symbolStatus")
    kline_params = ("symbol", "interval", "startTime", "endTime", "timeZone", "limit")
    table: list[tuple[str, Any, tuple[str, ...], str, Callable[[Call], Any]]] = [
        ("depth", depth_weight, (*one, "limit", "symbolStatus"), "/depth", depth),
        ("trades.recent", 25, (*one, "limit"), "/trades", trades_recent),
        (
            "trades.historical",
            25,
            (*one, "limit", "fromId"),
            "/historicalTrades",
            trades_historical,
        ),
        (
            "blockTrades.historical",
            25,
            (*one, "fromId", "limit"),
            "/historicalBlockTrades",
            block_trades_historical,
        ),
        (
            "trades.aggregate",
            4,
            (*one, "fromId", "startTime", "endTime", "limit"),
            "/aggTrades",
            trades_aggregate,
        ),
        ("klines", 2, kline_params, "/klines", kline_list),
        ("uiKlines", 2, kline_params, "/uiKlines", kline_list),
        ("avgPrice", 2, one, "/avgPrice", avg_price),
        ("ticker.24hr", ticker_24hr_weight, (*listed, "type"), "/ticker/24hr", ticker_24hr),
        (
            "ticker.tradingDay",
            per_symbol_weight,
            (*listed, "type", "timeZone"),
            "/ticker/tradingDay",
            ticker_trading_day,
        ),
        ("ticker", per_symbol_weight, (*listed, "type", "windowSize"), "/ticker", ticker_rolling),
        ("ticker.price", price_weight, listed, "/ticker/price", ticker_price),
        ("ticker.book", price_weight, listed, "/ticker/bookTicker", ticker_book),
        ("referencePrice", 2, one, "/referencePrice", reference_price),
        (
            "referencePrice.calculation",
            2,
            (*one, "symbolStatus"),
            "/referencePrice/calculation",
            reference_price_calculation,
        ),
    ]
    for name, weight, params, path, handler in table:
        method(registry, name, weight=weight, params=params, rest=[("GET", "/api/v3" + path)])(
            handler
        )


# -- weights ---------------------------------------------------------------------------------


def _raw_int(p: Params, name: str) -> int | None:
    value = p.get(name)
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def depth_weight(p: Params) -> int:
    """Return `depth`'s weight by limit: 5 / 25 / 50 / 250."""
    limit = _raw_int(p, "limit") or 100
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    return 50 if limit <= 1000 else 250


def _symbol_count(p: Params) -> int | None:
    """Return how many symbols a call asks for (None: all symbols)."""
    if p.has("symbol"):
        return 1
    symbols = p.get("symbols")
    if isinstance(symbols, list):
        return len(symbols)
    if isinstance(symbols, str) and symbols:
        return max(1, symbols.count(",") + 1)
    return None


def ticker_24hr_weight(p: Params) -> int:
    """Return `ticker.24hr`'s weight: 2 for 1-20 symbols, 40 for 21-100, else 80."""
    count = _symbol_count(p)
    if count is None or count > 100:
        return 80
    return 2 if count <= 20 else 40


def per_symbol_weight(p: Params) -> int:
    """Return 4 per symbol, capped at 200 (`ticker`, `ticker.tradingDay`)."""
    return min(200, 4 * (_symbol_count(p) or 1))


def price_weight(p: Params) -> int:
    """Return 2 for one `symbol`, else 4 (`ticker.price`, `ticker.book`)."""
    return 2 if p.has("symbol") else 4


# -- parameters ------------------------------------------------------------------------------


def _market(call: Call) -> MarketData:
    market_data: MarketData = call.services.market_data
    return market_data


def _spec(call: Call, name: str) -> SymbolSpec:
    spec = call.services.engine.symbol(name)
    if spec is None or name not in call.services.symbols:
        raise errors.BAD_SYMBOL.error()
    return spec


def _symbol(call: Call) -> SymbolSpec:
    name = call.params.symbol("symbol")
    assert name is not None
    return _spec(call, name)


def _limit(p: Params, default: int, most: int) -> int:
    limit = p.integer("limit", signed=True)
    if limit is None:
        return default
    if limit < 1:
        raise errors.INVALID_PARAMETER.error("limit")
    return min(limit, most)


def _status_filter(p: Params) -> SymbolStatus | None:
    status = p.enum("symbolStatus", SymbolStatus, invalid=errors.INVALID_SYMBOLSTATUS)
    if status is not None and status not in _QUERYABLE_STATUSES:
        raise errors.INVALID_SYMBOLSTATUS.error()
    return status


def _status_of(call: Call, name: str) -> str:
    return str(call.services.symbols[name].get("status", "TRADING"))


def _check_status(call: Call, spec: SymbolSpec) -> None:
    status = _status_filter(call.params)
    if status is not None and _status_of(call, spec.symbol) != status:
        raise errors.SYMBOL_DOES_NOT_MATCH_STATUS.error()


def _selected(call: Call, *, required: bool) -> tuple[list[SymbolSpec], bool]:
    """Return the symbols asked for and whether the answer is a single object."""
    p = call.params
    if p.has("symbol") and p.has("symbols"):
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    status = _status_filter(p)
    single = p.symbol("symbol", required=False)
    if single is not None:
        spec = _spec(call, single)
        if status is not None and _status_of(call, single) != status:
            raise errors.SYMBOL_DOES_NOT_MATCH_STATUS.error()
        return [spec], True
    names = p.symbol_list("symbols")
    if names is None:
        if required:
            raise errors.EITHER_PARAM_REQUIRED.error("symbol", "symbols")
        names = list(call.services.symbols)
    elif not names:
        raise errors.BAD_SYMBOL.error()
    specs = [_spec(call, name) for name in names]
    if status is not None:
        specs = [s for s in specs if _status_of(call, s.symbol) == status]
    return specs, False


def _answer(items: list[dict[str, Any]], single: bool) -> Any:
    return items[0] if single else items


def _full(p: Params) -> bool:
    value = p.get("type")
    if value is None:
        return True
    if value not in ("FULL", "MINI"):
        raise errors.INVALID_TICKER_TYPE.error()
    return bool(value == "FULL")


def _time_zone(p: Params) -> int:
    text = p.string("timeZone")
    if text is None:
        return 0
    offset = intervals.parse_time_zone(text)
    if offset is None:
        raise errors.INVALID_PARAMETER.error("timeZone")
    return offset


def _ts(call: Call) -> render.Ts:
    return render.time_unit(call.time_unit_us)


# -- handlers --------------------------------------------------------------------------------


def depth(call: Call) -> dict[str, Any]:
    """Return the order book's top `limit` levels with its update id."""
    spec = _symbol(call)
    _check_status(call, spec)
    limit = _limit(call.params, 100, DEPTH_MAX)
    update_id, bids, asks = _market(call).depth(spec.symbol, limit)
    return render.depth(spec, update_id, bids, asks)


def trades_recent(call: Call) -> list[dict[str, Any]]:
    """Return the most recent trades."""
    spec = _symbol(call)
    limit = _limit(call.params, 500, TRADES_MAX)
    tape = _market(call).symbol(spec.symbol).tape
    ts = _ts(call)
    return [render.trade(spec, t, ts) for t in tape.recent(limit)]


def trades_historical(call: Call) -> list[dict[str, Any]]:
    """Return trades from `fromId` (or the most recent ones)."""
    spec = _symbol(call)
    p = call.params
    limit = _limit(p, 500, TRADES_MAX)
    from_id = p.integer("fromId", signed=True)
    tape = _market(call).symbol(spec.symbol).tape
    chosen = tape.recent(limit) if from_id is None else tape.from_id(from_id, limit)
    ts = _ts(call)
    return [render.trade(spec, t, ts) for t in chosen]


def block_trades_historical(call: Call) -> list[dict[str, Any]]:
    """Return block trades: localspot has none."""
    _symbol(call)
    call.params.integer("fromId", required=True, signed=True)
    _limit(call.params, 500, TRADES_MAX)
    return []


def trades_aggregate(call: Call) -> list[dict[str, Any]]:
    """Return aggregate trades by `fromId`, by time, or the most recent ones."""
    spec = _symbol(call)
    p = call.params
    from_id = p.integer("fromId", signed=True)
    start_ms = p.integer("startTime", signed=True)
    end_ms = p.integer("endTime", signed=True)
    if from_id is not None and (start_ms is not None or end_ms is not None):
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    limit = _limit(p, 500, TRADES_MAX)
    tape = _market(call).symbol(spec.symbol).tape
    ts = _ts(call)
    chosen = tape.aggregates(limit, from_id, start_ms, end_ms)
    return [render.agg_trade(spec, a, ts) for a in chosen]


def kline_list(call: Call) -> list[list[Any]]:
    """Return klines (`klines` and `uiKlines` give the same data on the testnet)."""
    spec = _symbol(call)
    p = call.params
    interval = p.string("interval", required=True)
    assert interval is not None
    if not intervals.is_interval(interval):
        raise errors.BAD_INTERVAL.error()
    start_ms = p.integer("startTime", signed=True)
    end_ms = p.integer("endTime", signed=True)
    offset = _time_zone(p)
    limit = _limit(p, 500, TRADES_MAX)
    tape = _market(call).symbol(spec.symbol).tape
    rows = klines.klines(tape, interval, call.now_ms, limit, start_ms, end_ms, offset)
    ts = _ts(call)
    return [render.kline_row(spec, k, ts) for k in rows]


def avg_price_mins(spec: SymbolSpec) -> int:
    """Return the symbol's average price window (PERCENT_PRICE(_BY_SIDE) `avgPriceMins`)."""
    for rule in (spec.percent_price_by_side, spec.percent_price):
        if rule is not None:
            return int(rule.avg_price_mins)
    return DEFAULT_AVG_PRICE_MINS


def avg_price(call: Call) -> dict[str, Any]:
    """Return the current average price."""
    spec = _symbol(call)
    mins = avg_price_mins(spec)
    tape = _market(call).symbol(spec.symbol).tape
    price, last_ms = tickers.average_price(tape, call.now_ms, mins)
    return render.avg_price(spec, mins, price, last_ms, _ts(call))


def ticker_24hr(call: Call) -> Any:
    """Return 24-hour rolling window statistics (FULL or MINI)."""
    specs, single = _selected(call, required=False)
    full = _full(call.params)
    market, now, ts = _market(call), call.now_ms, _ts(call)
    items = []
    for spec in specs:
        stats = tickers.stats(market.symbol(spec.symbol).tape, now - intervals.DAY_MS, now)
        _, bid, ask = market.best(spec.symbol) if full else (0, None, None)
        items.append(render.ticker_24hr(spec, stats, bid, ask, ts, full))
    return _answer(items, single)


def ticker_trading_day(call: Call) -> Any:
    """Return statistics of the current trading day in `timeZone`."""
    specs, single = _selected(call, required=True)
    full = _full(call.params)
    open_ms, close_ms = tickers.trading_day(call.now_ms, _time_zone(call.params))
    return _window_tickers(call, specs, single, full, open_ms, close_ms)


def ticker_rolling(call: Call) -> Any:
    """Return rolling window statistics for `windowSize` (default 1d)."""
    specs, single = _selected(call, required=True)
    full = _full(call.params)
    text = call.params.string("windowSize") or "1d"
    size = tickers.window_ms(text)
    if size is None:
        raise errors.INVALID_PARAMETER.error("windowSize")
    now = call.now_ms
    return _window_tickers(call, specs, single, full, tickers.rolling_open(now, size), now)


def _window_tickers(
    call: Call, specs: list[SymbolSpec], single: bool, full: bool, open_ms: int, close_ms: int
) -> Any:
    market, ts = _market(call), _ts(call)
    items = [
        render.ticker_window(
            spec, tickers.stats(market.symbol(spec.symbol).tape, open_ms, close_ms), ts, full
        )
        for spec in specs
    ]
    return _answer(items, single)


def ticker_price(call: Call) -> Any:
    """Return the last price of one, some or all symbols."""
    specs, single = _selected(call, required=False)
    market = _market(call)
    items = [render.ticker_price(spec, market.last_price(spec.symbol)) for spec in specs]
    return _answer(items, single)


def ticker_book(call: Call) -> Any:
    """Return the best bid and ask of one, some or all symbols."""
    specs, single = _selected(call, required=False)
    market = _market(call)
    items = []
    for spec in specs:
        _, bid, ask = market.best(spec.symbol)
        items.append(render.book_ticker(spec, bid, ask))
    return _answer(items, single)


def reference_price(call: Call) -> dict[str, Any]:
    """Answer -2043: no localspot symbol has ever had a reference price."""
    _symbol(call)
    raise errors.NO_REFERENCE_PRICE.error()


def reference_price_calculation(call: Call) -> dict[str, Any]:
    """Answer -2043: localspot calculates no reference price."""
    spec = _symbol(call)
    _check_status(call, spec)
    raise errors.NO_REFERENCE_PRICE.error()
