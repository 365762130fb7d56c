"""Kline intervals, `timeZone` offsets and the buckets they cut time into.

Intervals (web-socket-api.md "Klines", case-sensitive): 1s; 1m 3m 5m 15m 30m; 1h 2h 4h 6h 8h
12h; 1d 3d; 1w; 1M. A bucket is computed in local time (UTC + offset) and reported in UTC, so
with `timeZone=8` a `1d` kline opens at 16:00 UTC; `startTime`/`endTime` stay UTC.

Alignment (decisions where the docs are silent):
- Fixed intervals up to `1d` are aligned to the local epoch (multiples of their length).
- `1w` starts on Monday 00:00 local time (the epoch was a Thursday).
- `3d` starts on days whose number since the epoch is 1 modulo 3, as Binance's 3d series do
  (BTCUSDT's first 3d kline opens 2017-08-17, day 17395).
- `1M` starts on the first day of the local calendar month.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

_FIXED_MS = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
}
# (length, phase): bucket starts are phase + k * length in local time.
_PHASED_MS = {"3d": (3 * DAY_MS, DAY_MS), "1w": (7 * DAY_MS, 4 * DAY_MS)}
INTERVALS = (*_FIXED_MS, *_PHASED_MS, "1M")

_TIME_ZONE_RE = re.compile(r"([+-]?)([0-9]{1,2})(?::([0-9]{2}))?")
_MIN_OFFSET_MS, _MAX_OFFSET_MS = -12 * HOUR_MS, 14 * HOUR_MS


def is_interval(text: str) -> bool:
    """True for a supported kline interval."""
    return text in _FIXED_MS or text in _PHASED_MS or text == "1M"


def parse_time_zone(text: str) -> int | None:
    """Return a `timeZone` as an offset in ms (`-1:00`, `05:45`, `8`), or None if invalid."""
    match = _TIME_ZONE_RE.fullmatch(text.strip())
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if minutes is not None and int(minutes) >= 60:
        return None
    offset = int(hours) * HOUR_MS + int(minutes or 0) * MINUTE_MS
    if sign == "-":
        offset = -offset
    return offset if _MIN_OFFSET_MS <= offset <= _MAX_OFFSET_MS else None


def open_time(interval: str, time_ms: int, offset_ms: int = 0) -> int:
    """Return the open time (UTC ms) of the `interval` bucket holding `time_ms`."""
    local = time_ms + offset_ms
    fixed = _FIXED_MS.get(interval)
    if fixed is not None:
        return local - local % fixed - offset_ms
    phased = _PHASED_MS.get(interval)
    if phased is not None:
        length, phase = phased
        return local - (local - phase) % length - offset_ms
    moment = datetime.fromtimestamp(local // 1000, UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    return int(start.timestamp()) * 1000 - offset_ms


def next_open(interval: str, open_ms: int, offset_ms: int = 0) -> int:
    """Return the open time of the bucket after the one opening at `open_ms`."""
    fixed = _FIXED_MS.get(interval)
    if fixed is not None:
        return open_ms + fixed
    phased = _PHASED_MS.get(interval)
    if phased is not None:
        return open_ms + phased[0]
    moment = datetime.fromtimestamp((open_ms + offset_ms) // 1000, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000 - offset_ms


def previous_open(interval: str, open_ms: int, offset_ms: int = 0) -> int:
    """Return the open time of the bucket before the one opening at `open_ms`."""
    return open_time(interval, open_ms - 1, offset_ms)


def close_time(interval: str, open_ms: int, offset_ms: int = 0) -> int:
    """Return the close time (last ms) of the bucket opening at `open_ms`."""
    return next_open(interval, open_ms, offset_ms) - 1


def first_open_at_or_after(interval: str, time_ms: int, offset_ms: int = 0) -> int:
    """Return the first bucket open time >= `time_ms`."""
    start = open_time(interval, time_ms, offset_ms)
    return start if start == time_ms else next_open(interval, start, offset_ms)
