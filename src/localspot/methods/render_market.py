"""Market data -> Binance JSON shapes: method results and stream payloads.

Amounts are strings at the symbol's precision (render.py): prices and quote amounts with
`quoteAssetPrecision`, quantities with `baseAssetPrecision`; ratios (weighted average,
average price) are rounded half-up to that precision, other amounts are exact already. Time
fields go through `ts`, the caller's time unit (milliseconds, or microseconds for
`timeUnit=MICROSECOND`). Key order follows the docs' examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from localspot.domain.numbers import ZERO
from localspot.domain.orders import Trade
from localspot.domain.symbols import SymbolSpec
from localspot.marketdata.book import Level
from localspot.marketdata.klines import Kline
from localspot.marketdata.tape import AggTrade
from localspot.marketdata.tickers import Stats
from localspot.methods.render import price_text, qty_text

Ts = Callable[[int], int]


def _ms(value: int) -> int:
    return value


def _us(value: int) -> int:
    return value * 1_000


def time_unit(us: bool) -> Ts:
    """Return the time renderer of a time unit."""
    return _us if us else _ms


def ratio_text(spec: SymbolSpec, value: Decimal) -> str:
    """Render a derived price (an average) rounded half-up at the price precision."""
    quantum = Decimal(1).scaleb(-spec.quote_asset_precision)
    return f"{value.quantize(quantum, ROUND_HALF_UP):f}"


def levels(spec: SymbolSpec, side: Iterable[Level]) -> list[list[str]]:
    """Render price levels as [[price, qty], ...]."""
    return [[price_text(spec, p), qty_text(spec, q)] for p, q in side]


# -- methods ---------------------------------------------------------------------------------


def depth(spec: SymbolSpec, update_id: int, bids: list[Level], asks: list[Level]) -> dict[str, Any]:
    """The `depth` result."""
    return {"lastUpdateId": update_id, "bids": levels(spec, bids), "asks": levels(spec, asks)}


def trade(spec: SymbolSpec, t: Trade, ts: Ts) -> dict[str, Any]:
    """One item of `trades.recent` / `trades.historical`."""
    return {
        "id": t.trade_id,
        "price": price_text(spec, t.price),
        "qty": qty_text(spec, t.qty),
        "quoteQty": price_text(spec, t.quote_qty),
        "time": ts(t.time_ms),
        "isBuyerMaker": t.is_buyer_maker,
        "isBestMatch": True,
    }


def agg_trade(spec: SymbolSpec, a: AggTrade, ts: Ts) -> dict[str, Any]:
    """One item of `trades.aggregate`."""
    return {
        "a": a.agg_id,
        "p": price_text(spec, a.price),
        "q": qty_text(spec, a.qty),
        "f": a.first_id,
        "l": a.last_id,
        "T": ts(a.time_ms),
        "m": a.is_buyer_maker,
        "M": True,
    }


def kline_row(spec: SymbolSpec, k: Kline, ts: Ts) -> list[Any]:
    """One 12-element kline of `klines` / `uiKlines`."""
    return [
        ts(k.open_ms),
        price_text(spec, k.open),
        price_text(spec, k.high),
        price_text(spec, k.low),
        price_text(spec, k.close),
        qty_text(spec, k.volume),
        ts(k.close_ms),
        price_text(spec, k.quote_volume),
        k.count,
        qty_text(spec, k.taker_buy_volume),
        price_text(spec, k.taker_buy_quote_volume),
        "0",
    ]


def avg_price(spec: SymbolSpec, mins: int, price: Decimal, close_ms: int, ts: Ts) -> dict[str, Any]:
    """The `avgPrice` result."""
    return {"mins": mins, "price": ratio_text(spec, price), "closeTime": ts(close_ms)}


def _change(spec: SymbolSpec, s: Stats) -> dict[str, Any]:
    return {
        "priceChange": price_text(spec, s.price_change),
        "priceChangePercent": f"{s.price_change_percent:f}",
        "weightedAvgPrice": ratio_text(spec, s.weighted_average),
    }


def _ohlc(spec: SymbolSpec, s: Stats) -> dict[str, Any]:
    return {
        "openPrice": price_text(spec, s.open),
        "highPrice": price_text(spec, s.high),
        "lowPrice": price_text(spec, s.low),
        "lastPrice": price_text(spec, s.last),
    }


def _tail(spec: SymbolSpec, s: Stats, ts: Ts) -> dict[str, Any]:
    return {
        "volume": qty_text(spec, s.volume),
        "quoteVolume": price_text(spec, s.quote_volume),
        "openTime": ts(s.open_ms),
        "closeTime": ts(s.close_ms),
        "firstId": s.first_id,
        "lastId": s.last_id,
        "count": s.count,
    }


def ticker_24hr(
    spec: SymbolSpec, s: Stats, bid: Level | None, ask: Level | None, ts: Ts, full: bool
) -> dict[str, Any]:
    """One `ticker.24hr` entry, FULL or MINI."""
    out: dict[str, Any] = {"symbol": spec.symbol}
    if full:
        bid_price, bid_qty = bid or (ZERO, ZERO)
        ask_price, ask_qty = ask or (ZERO, ZERO)
        out.update(_change(spec, s))
        out["prevClosePrice"] = price_text(spec, s.prev_close)
        out["lastPrice"] = price_text(spec, s.last)
        out["lastQty"] = qty_text(spec, s.last_qty)
        out["bidPrice"] = price_text(spec, bid_price)
        out["bidQty"] = qty_text(spec, bid_qty)
        out["askPrice"] = price_text(spec, ask_price)
        out["askQty"] = qty_text(spec, ask_qty)
        out["openPrice"] = price_text(spec, s.open)
        out["highPrice"] = price_text(spec, s.high)
        out["lowPrice"] = price_text(spec, s.low)
    else:
        out.update(_ohlc(spec, s))
    out.update(_tail(spec, s, ts))
    return out


def ticker_window(spec: SymbolSpec, s: Stats, ts: Ts, full: bool) -> dict[str, Any]:
    """One `ticker` (rolling) or `ticker.tradingDay` entry, FULL or MINI."""
    out: dict[str, Any] = {"symbol": spec.symbol}
    if full:
        out.update(_change(spec, s))
    out.update(_ohlc(spec, s))
    out.update(_tail(spec, s, ts))
    return out


def ticker_price(spec: SymbolSpec, price: Decimal | None) -> dict[str, Any]:
    """One `ticker.price` entry (0 before the first trade, decision)."""
    return {"symbol": spec.symbol, "price": price_text(spec, price or ZERO)}


def book_ticker(spec: SymbolSpec, bid: Level | None, ask: Level | None) -> dict[str, Any]:
    """One `ticker.book` entry; an empty side shows zeros."""
    bid_price, bid_qty = bid or (ZERO, ZERO)
    ask_price, ask_qty = ask or (ZERO, ZERO)
    return {
        "symbol": spec.symbol,
        "bidPrice": price_text(spec, bid_price),
        "bidQty": qty_text(spec, bid_qty),
        "askPrice": price_text(spec, ask_price),
        "askQty": qty_text(spec, ask_qty),
    }


# -- stream payloads (web-socket-streams.md) -------------------------------------------------


def trade_event(spec: SymbolSpec, t: Trade, event_ms: int, ts: Ts) -> dict[str, Any]:
    """`<symbol>@trade`."""
    return {
        "e": "trade",
        "E": ts(event_ms),
        "s": spec.symbol,
        "t": t.trade_id,
        "p": price_text(spec, t.price),
        "q": qty_text(spec, t.qty),
        "T": ts(t.time_ms),
        "m": t.is_buyer_maker,
        "M": True,
    }


def agg_trade_event(spec: SymbolSpec, a: AggTrade, event_ms: int, ts: Ts) -> dict[str, Any]:
    """`<symbol>@aggTrade`."""
    return {
        "e": "aggTrade",
        "E": ts(event_ms),
        "s": spec.symbol,
        "a": a.agg_id,
        "p": price_text(spec, a.price),
        "q": qty_text(spec, a.qty),
        "f": a.first_id,
        "l": a.last_id,
        "T": ts(a.time_ms),
        "m": a.is_buyer_maker,
        "M": True,
    }


def kline_event(
    spec: SymbolSpec, k: Kline, interval: str, closed: bool, event_ms: int, ts: Ts
) -> dict[str, Any]:
    """`<symbol>@kline_<interval>[@+08:00]`."""
    return {
        "e": "kline",
        "E": ts(event_ms),
        "s": spec.symbol,
        "k": {
            "t": ts(k.open_ms),
            "T": ts(k.close_ms),
            "s": spec.symbol,
            "i": interval,
            "f": k.first_id,
            "L": k.last_id,
            "o": price_text(spec, k.open),
            "c": price_text(spec, k.close),
            "h": price_text(spec, k.high),
            "l": price_text(spec, k.low),
            "v": qty_text(spec, k.volume),
            "n": k.count,
            "x": closed,
            "q": price_text(spec, k.quote_volume),
            "V": qty_text(spec, k.taker_buy_volume),
            "Q": price_text(spec, k.taker_buy_quote_volume),
            "B": "0",
        },
    }


def mini_ticker_event(spec: SymbolSpec, s: Stats, event_ms: int, ts: Ts) -> dict[str, Any]:
    """`<symbol>@miniTicker` (and the items of `!miniTicker@arr`)."""
    return {
        "e": "24hrMiniTicker",
        "E": ts(event_ms),
        "s": spec.symbol,
        "c": price_text(spec, s.last),
        "o": price_text(spec, s.open),
        "h": price_text(spec, s.high),
        "l": price_text(spec, s.low),
        "v": qty_text(spec, s.volume),
        "q": price_text(spec, s.quote_volume),
    }


def ticker_event(
    spec: SymbolSpec,
    s: Stats,
    bid: Level | None,
    ask: Level | None,
    event_ms: int,
    ts: Ts,
) -> dict[str, Any]:
    """`<symbol>@ticker`."""
    bid_price, bid_qty = bid or (ZERO, ZERO)
    ask_price, ask_qty = ask or (ZERO, ZERO)
    return {
        "e": "24hrTicker",
        "E": ts(event_ms),
        "s": spec.symbol,
        "p": price_text(spec, s.price_change),
        "P": f"{s.price_change_percent:f}",
        "w": ratio_text(spec, s.weighted_average),
        "x": price_text(spec, s.prev_close),
        "c": price_text(spec, s.last),
        "Q": qty_text(spec, s.last_qty),
        "b": price_text(spec, bid_price),
        "B": qty_text(spec, bid_qty),
        "a": price_text(spec, ask_price),
        "A": qty_text(spec, ask_qty),
        "o": price_text(spec, s.open),
        "h": price_text(spec, s.high),
        "l": price_text(spec, s.low),
        "v": qty_text(spec, s.volume),
        "q": price_text(spec, s.quote_volume),
        "O": ts(s.open_ms),
        "C": ts(s.close_ms),
        "F": s.first_id,
        "L": s.last_id,
        "n": s.count,
    }


def window_ticker_event(
    spec: SymbolSpec, s: Stats, window: str, event_ms: int, ts: Ts
) -> dict[str, Any]:
    """`<symbol>@ticker_<window>` (and the items of `!ticker_<window>@arr`)."""
    return {
        "e": f"{window}Ticker",
        "E": ts(event_ms),
        "s": spec.symbol,
        "p": price_text(spec, s.price_change),
        "P": f"{s.price_change_percent:f}",
        "o": price_text(spec, s.open),
        "h": price_text(spec, s.high),
        "l": price_text(spec, s.low),
        "c": price_text(spec, s.last),
        "w": ratio_text(spec, s.weighted_average),
        "v": qty_text(spec, s.volume),
        "q": price_text(spec, s.quote_volume),
        "O": ts(s.open_ms),
        "C": ts(s.close_ms),
        "F": s.first_id,
        "L": s.last_id,
        "n": s.count,
    }


def book_ticker_event(
    spec: SymbolSpec, update_id: int, bid: Level | None, ask: Level | None
) -> dict[str, Any]:
    """`<symbol>@bookTicker`."""
    bid_price, bid_qty = bid or (ZERO, ZERO)
    ask_price, ask_qty = ask or (ZERO, ZERO)
    return {
        "u": update_id,
        "s": spec.symbol,
        "b": price_text(spec, bid_price),
        "B": qty_text(spec, bid_qty),
        "a": price_text(spec, ask_price),
        "A": qty_text(spec, ask_qty),
    }


def avg_price_event(
    spec: SymbolSpec, mins: int, price: Decimal, last_ms: int, event_ms: int, ts: Ts
) -> dict[str, Any]:
    """`<symbol>@avgPrice`."""
    return {
        "e": "avgPrice",
        "E": ts(event_ms),
        "s": spec.symbol,
        "i": f"{mins}m",
        "w": ratio_text(spec, price),
        "T": ts(last_ms),
    }


def depth_update_event(
    spec: SymbolSpec,
    first_id: int,
    last_id: int,
    bids: list[Level],
    asks: list[Level],
    event_ms: int,
    ts: Ts,
) -> dict[str, Any]:
    """`<symbol>@depth[@100ms]`."""
    return {
        "e": "depthUpdate",
        "E": ts(event_ms),
        "s": spec.symbol,
        "U": first_id,
        "u": last_id,
        "b": levels(spec, bids),
        "a": levels(spec, asks),
    }
