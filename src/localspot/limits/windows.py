"""Rate limit rules and the fixed, aligned windows that count against them.

Window alignment (web-socket-api.md, "How to interpret rate limits"): a window of `interval_ms`
starts at every multiple of `interval_ms` since the Unix epoch. So a 1 MINUTE window starts at
every :00 second, 10 SECOND resets at 00, 10, 20... seconds of each minute, 5 MINUTE at :00, :05,
:10..., and 1 DAY at 00:00 UTC (the epoch is midnight UTC and a day is 86 400 000 ms; Binance
has no leap seconds in its millisecond timestamps).

Representation: `WindowCounters` keeps, per key (an IP or an account id), one flat list
`[start_0, count_0, start_1, count_1, ...]` with one pair per rule. A pair whose `start` is not the
current window's start is stale and reads as 0; it is overwritten on the next write. Nothing is
allocated per request except for a key seen for the first time.

Invariants:
- `count >= 0` always (decrements stop at zero).
- `now_ms` is expected to be non-decreasing. A timestamp earlier than a key's current window
  counts toward that newer window (a clock that stepped back does not resurrect old windows).
- Memory is bounded by the keys active in the longest window: when the dict has doubled since
  the last sweep, keys whose every window has ended are dropped (amortised O(1) per new key).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

# rest-api.md, "LIMITS": SECOND => S, MINUTE => M, HOUR => H, DAY => D.
INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
RATE_LIMIT_TYPES = ("REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS", "CONNECTIONS")

_MIN_SWEEP_SIZE = 1_024


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    """One limit: at most `limit` units per `interval_num` x `interval`, per IP or account."""

    rate_limit_type: str
    interval: str
    interval_num: int
    limit: int

    def __post_init__(self) -> None:
        if self.rate_limit_type not in RATE_LIMIT_TYPES:
            raise ValueError(f"unknown rateLimitType {self.rate_limit_type!r}")
        if self.interval not in INTERVAL_MS:
            raise ValueError(f"unknown interval {self.interval!r}")
        if self.interval_num < 1 or self.limit < 0:
            raise ValueError(f"bad intervalNum/limit in {self!r}")

    @classmethod
    def from_exchange_info(cls, entry: dict[str, Any]) -> RateLimitRule:
        """Build a rule from one `exchangeInfo` `rateLimits` entry."""
        return cls(entry["rateLimitType"], entry["interval"], entry["intervalNum"], entry["limit"])

    @property
    def interval_ms(self) -> int:
        """Return the window length in milliseconds."""
        return INTERVAL_MS[self.interval] * self.interval_num

    @property
    def header_suffix(self) -> str:
        """Return `intervalNum` + `intervalLetter` as in `X-MBX-USED-WEIGHT-1M` ("1M", "10S")."""
        return f"{self.interval_num}{self.interval[0]}"

    @property
    def interval_text(self) -> str:
        """Return the interval as Binance writes it in -1003/-1015 messages ("1 MINUTE")."""
        return f"{self.interval_num} {self.interval}"

    def exchange_info(self) -> dict[str, Any]:
        """Return the `exchangeInfo` `rateLimits` entry for this rule."""
        return {
            "rateLimitType": self.rate_limit_type,
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }


@dataclass(frozen=True, slots=True)
class RateLimitUsage:
    """A rule with its current count, as reported in a response's `rateLimits`."""

    rule: RateLimitRule
    count: int

    def as_json(self) -> dict[str, Any]:
        """Return the `rateLimits` entry (web-socket-api.md, "How to interpret rate limits")."""
        rule = self.rule
        return {
            "rateLimitType": rule.rate_limit_type,
            "interval": rule.interval,
            "intervalNum": rule.interval_num,
            "limit": rule.limit,
            "count": self.count,
        }


class WindowCounters:
    """Counters for several rules over aligned fixed windows, one set per key."""

    __slots__ = ("_intervals", "_limits", "_next_sweep", "_state", "rules")

    def __init__(self, rules: Iterable[RateLimitRule]) -> None:
        self.rules = tuple(rules)
        self._intervals = tuple(rule.interval_ms for rule in self.rules)
        self._limits = tuple(rule.limit for rule in self.rules)
        self._state: dict[Hashable, list[int]] = {}
        self._next_sweep = _MIN_SWEEP_SIZE

    def __len__(self) -> int:
        return len(self._state)

    def add(self, key: Hashable, amount: int, now_ms: int) -> int:
        """Add `amount` to every window of `key`; return the index of the rule now over its
        limit whose window ends last, or -1 when every count is within its limit."""
        slots = self._state.get(key)
        if slots is None:
            slots = self._create(key, now_ms)
        worst, worst_end = -1, -1
        j = 0
        for interval, limit in zip(self._intervals, self._limits, strict=True):
            start = now_ms - now_ms % interval
            if start > slots[j]:
                slots[j] = start
                slots[j + 1] = 0
            count = slots[j + 1] + amount
            slots[j + 1] = count
            if count > limit and slots[j] + interval > worst_end:
                worst, worst_end = j >> 1, slots[j] + interval
            j += 2
        return worst

    def first_full(self, key: Hashable, amount: int, now_ms: int) -> int:
        """Return the index of the rule that adding `amount` would take over its limit (the one
        whose window ends last), or -1; count nothing."""
        worst, worst_end = -1, -1
        for i, limit in enumerate(self._limits):
            if self.count(key, i, now_ms) + amount > limit:
                end = self.window_end(key, i, now_ms)
                if end > worst_end:
                    worst, worst_end = i, end
        return worst

    def subtract(self, key: Hashable, amount: int, now_ms: int) -> None:
        """Take `amount` off every current window of `key`, stopping at zero."""
        slots = self._state.get(key)
        if slots is None:
            return
        j = 0
        for interval in self._intervals:
            start = now_ms - now_ms % interval
            if start > slots[j]:
                slots[j] = start
                slots[j + 1] = 0
            else:
                slots[j + 1] = max(0, slots[j + 1] - amount)
            j += 2

    def count(self, key: Hashable, index: int, now_ms: int) -> int:
        """Return the current count of rule `index` for `key` (0 once its window has passed)."""
        slots = self._state.get(key)
        if slots is None:
            return 0
        interval = self._intervals[index]
        j = index * 2
        return slots[j + 1] if slots[j] >= now_ms - now_ms % interval else 0

    def window_end(self, key: Hashable, index: int, now_ms: int) -> int:
        """Return when the window of rule `index` that counts `now_ms` for `key` ends."""
        interval = self._intervals[index]
        start = now_ms - now_ms % interval
        slots = self._state.get(key)
        if slots is not None:
            start = max(start, slots[index * 2])
        return start + interval

    def usage(self, key: Hashable, now_ms: int) -> list[RateLimitUsage]:
        """Return every rule with the current count of `key`, in rule order."""
        return [
            RateLimitUsage(rule, self.count(key, i, now_ms)) for i, rule in enumerate(self.rules)
        ]

    def clear(self) -> None:
        """Forget every key."""
        self._state.clear()
        self._next_sweep = _MIN_SWEEP_SIZE

    def _create(self, key: Hashable, now_ms: int) -> list[int]:
        if len(self._state) >= self._next_sweep:
            self._sweep(now_ms)
        slots = [0] * (2 * len(self._intervals))
        for i, interval in enumerate(self._intervals):
            slots[2 * i] = now_ms - now_ms % interval
        self._state[key] = slots
        return slots

    def _sweep(self, now_ms: int) -> None:
        # A key is dead when every one of its windows has ended: all its counts read as 0.
        intervals = self._intervals
        dead = [
            key
            for key, slots in self._state.items()
            if all(slots[2 * i] + interval <= now_ms for i, interval in enumerate(intervals))
        ]
        for key in dead:
            del self._state[key]
        self._next_sweep = max(_MIN_SWEEP_SIZE, 2 * len(self._state))
