"""Klines (candlesticks) from a trade tape.

A kline covers [open, close] of one interval bucket (intervals.py). Series start with the
bucket of the symbol's first trade and run to the bucket holding `now`; a bucket without trades
is a flat kline at the previous close with zero volume and zero trades (how Binance's series of
quiet symbols look). Before the first trade there is nothing: an empty market has no klines.

Selection (web-socket-api.md "Klines"): buckets with open time >= `startTime` and <= `endTime`;
with `startTime` the first `limit`, otherwise the last `limit` up to `endTime` (or now).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from localspot.domain.numbers import ZERO
from localspot.marketdata import intervals
from localspot.marketdata.tape import Tape


@dataclass(frozen=True, slots=True)
class Kline:
    """One candlestick; `first_id`/`last_id` are -1 when no trade fell in it."""

    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    count: int
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal
    first_id: int
    last_id: int


def bucket_opens(
    interval: str,
    first_ms: int,
    last_ms: int,
    limit: int,
    *,
    from_start: bool,
    offset_ms: int = 0,
) -> list[int]:
    """Return up to `limit` bucket opens between the buckets holding first_ms and last_ms."""
    first = intervals.open_time(interval, first_ms, offset_ms)
    last = intervals.open_time(interval, last_ms, offset_ms)
    opens: list[int] = []
    if first > last or limit <= 0:
        return opens
    if from_start:
        current = first
        while current <= last and len(opens) < limit:
            opens.append(current)
            current = intervals.next_open(interval, current, offset_ms)
        return opens
    current = last
    while current >= first and len(opens) < limit:
        opens.append(current)
        current = intervals.previous_open(interval, current, offset_ms)
    opens.reverse()
    return opens


def klines(
    tape: Tape,
    interval: str,
    now_ms: int,
    limit: int,
    start_ms: int | None = None,
    end_ms: int | None = None,
    offset_ms: int = 0,
) -> list[Kline]:
    """Return the klines `klines`/`uiKlines` answer with (oldest first)."""
    if not tape.trades:
        return []
    first_ms = intervals.open_time(interval, tape.times[0], offset_ms)
    if start_ms is not None:
        first_ms = max(first_ms, intervals.first_open_at_or_after(interval, start_ms, offset_ms))
    last_ms = now_ms if end_ms is None else min(now_ms, end_ms)
    opens = bucket_opens(
        interval, first_ms, last_ms, limit, from_start=start_ms is not None, offset_ms=offset_ms
    )
    if not opens:
        return []
    return build(tape, interval, opens, offset_ms)


def build(tape: Tape, interval: str, opens: list[int], offset_ms: int = 0) -> list[Kline]:
    """Build the klines of consecutive buckets starting at `opens`."""
    closes = [intervals.close_time(interval, o, offset_ms) for o in opens]
    lo, hi = tape.index_range(opens[0], closes[-1])
    before = tape.trades[lo - 1] if lo else None
    previous_close = before.price if before is not None else None
    out: list[Kline] = []
    index = lo
    trades = tape.trades
    for open_ms, close_ms in zip(opens, closes, strict=True):
        end = index
        while end < hi and trades[end].time_ms <= close_ms:
            end += 1
        kline = _kline(tape, index, end, open_ms, close_ms, previous_close)
        out.append(kline)
        previous_close = kline.close
        index = end
    return out


def current(tape: Tape, interval: str, now_ms: int, offset_ms: int = 0) -> Kline | None:
    """Return the kline of the bucket holding `now_ms` (None before the first trade)."""
    if not tape.trades or tape.times[0] > now_ms:
        return None
    return build(tape, interval, [intervals.open_time(interval, now_ms, offset_ms)], offset_ms)[0]


def _kline(
    tape: Tape, lo: int, hi: int, open_ms: int, close_ms: int, previous_close: Decimal | None
) -> Kline:
    if lo == hi:
        price = previous_close if previous_close is not None else ZERO
        return Kline(
            open_ms, close_ms, price, price, price, price, ZERO, ZERO, 0, ZERO, ZERO, -1, -1
        )
    trades = tape.trades[lo:hi]
    volume = quote = buy_volume = buy_quote = ZERO
    high = low = trades[0].price
    for trade in trades:
        price = trade.price
        if price > high:
            high = price
        elif price < low:
            low = price
        volume += trade.qty
        quote += trade.quote_qty
        if not trade.is_buyer_maker:
            buy_volume += trade.qty
            buy_quote += trade.quote_qty
    return Kline(
        open_ms,
        close_ms,
        trades[0].price,
        high,
        low,
        trades[-1].price,
        volume,
        quote,
        len(trades),
        buy_volume,
        buy_quote,
        trades[0].trade_id,
        trades[-1].trade_id,
    )
