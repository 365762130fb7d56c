"""Price change statistics over a window of a trade tape, and the windows Binance uses.

Windows (all inclusive of both ends):
- `ticker.24hr` and the `@ticker`/`@miniTicker` streams: [now - 24h, now].
- `ticker` (rolling, `windowSize` 1m..59m, 1h..23h, 1d..7d) and `@ticker_<w>`: the open time is
  rounded down to a minute, so the window may be up to 59999 ms wider; the close is now.
- `ticker.tradingDay`: the calendar day of `timeZone` holding now: [day start, day end].

A window without trades (decision from a live capture of an idle symbol): open, high, low, last
price and quantity, volumes, weighted average and change are all zero, `firstId`/`lastId` are
-1 and `count` 0; `prevClosePrice` is still the last price before the window.
Derived numbers: `priceChangePercent` = change / open * 100 rounded half-up to 3 decimals;
`weightedAvgPrice` = quoteVolume / volume, rounded half-up to the price precision by the renderer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from localspot.domain.numbers import ZERO
from localspot.marketdata import intervals
from localspot.marketdata.tape import Tape

_WINDOW_RE = re.compile(r"([1-9][0-9]?)([mhd])")
_WINDOW_LIMITS = {"m": (59, intervals.MINUTE_MS), "h": (23, intervals.HOUR_MS), "d": (7, 0)}
_PERCENT = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Stats:
    """What a ticker reports about the trades of one window."""

    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    last_qty: Decimal
    volume: Decimal
    quote_volume: Decimal
    first_id: int
    last_id: int
    count: int
    prev_close: Decimal

    @property
    def price_change(self) -> Decimal:
        """Return last - open."""
        return self.last - self.open

    @property
    def price_change_percent(self) -> Decimal:
        """Return the change in percent of the open, 3 decimals."""
        if not self.open:
            return ZERO.quantize(_PERCENT)
        return (self.price_change * 100 / self.open).quantize(_PERCENT, ROUND_HALF_UP)

    @property
    def weighted_average(self) -> Decimal:
        """Return quoteVolume / volume (0 without trades)."""
        return self.quote_volume / self.volume if self.volume else ZERO


def window_ms(text: str) -> int | None:
    """Return a rolling `windowSize` in ms (`1m`..`59m`, `1h`..`23h`, `1d`..`7d`), or None."""
    match = _WINDOW_RE.fullmatch(text)
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    most, unit_ms = _WINDOW_LIMITS[unit]
    if amount > most:
        return None
    return amount * (unit_ms or intervals.DAY_MS)


def rolling_open(now_ms: int, size_ms: int) -> int:
    """Return the open time of a rolling window: now - size, rounded down to a minute."""
    start = now_ms - size_ms
    return start - start % intervals.MINUTE_MS


def trading_day(now_ms: int, offset_ms: int) -> tuple[int, int]:
    """Return (open, close) of the `timeZone` day holding `now_ms`."""
    start = intervals.open_time("1d", now_ms, offset_ms)
    return start, start + intervals.DAY_MS - 1


def stats(tape: Tape, open_ms: int, close_ms: int) -> Stats:
    """Return the statistics of the trades with open_ms <= time <= close_ms."""
    lo, hi = tape.index_range(open_ms, close_ms)
    trades = tape.trades
    before = trades[lo - 1].price if lo else ZERO
    if lo >= hi:
        return Stats(open_ms, close_ms, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, -1, -1, 0, before)
    first, last = trades[lo], trades[hi - 1]
    high = low = first.price
    volume = quote = ZERO
    for index in range(lo, hi):
        trade = trades[index]
        price = trade.price
        if price > high:
            high = price
        elif price < low:
            low = price
        volume += trade.qty
        quote += trade.quote_qty
    return Stats(
        open_ms,
        close_ms,
        first.price,
        high,
        low,
        last.price,
        last.qty,
        volume,
        quote,
        first.trade_id,
        last.trade_id,
        hi - lo,
        before,
    )


def average_price(tape: Tape, now_ms: int, mins: int) -> tuple[Decimal, int]:
    """Return (price, last trade time) as `avgPrice` reports them.

    The volume-weighted average of the trades of the last `mins` minutes; the last trade's
    price when none fell in that window (as the engine's PERCENT_PRICE reference does); 0 and
    time 0 before the first trade (decision).
    """
    if not tape.trades:
        return ZERO, 0
    last = tape.trades[-1]
    lo, hi = tape.index_range(now_ms - mins * intervals.MINUTE_MS, now_ms)
    if lo >= hi or mins == 0:
        return last.price, last.time_ms
    volume = quote = ZERO
    for trade in tape.trades[lo:hi]:
        volume += trade.qty
        quote += trade.price * trade.qty
    return quote / volume, last.time_ms
