"""Request weight, raw requests, unfilled order count and connection attempts.

Pure: no asyncio, no I/O, no clock. Every method takes `now_ms`; the pipeline reads the clock
once per request and passes it in. One `RateLimiter` serves REST and the WebSocket API alike.

What is counted, and by what key (web-socket-api.md "Rate limits", rest-api.md "LIMITS"):
- REQUEST_WEIGHT: per IP, shared by every connection and both APIs. `charge_request` adds the
  method's weight to every REQUEST_WEIGHT window.
- RAW_REQUESTS: per IP, one per REST request (`raw=True`). The WebSocket API does not report it
  (its `rateLimits` list only REQUEST_WEIGHT and ORDERS), so WS requests do not count.
- ORDERS: per account (faqs/order_count_decrement.md). `check_order` refuses, `count_order`
  counts one successfully placed order, `decrement_orders` takes fills off.
- CONNECTIONS: per IP, WebSocket connection attempts (`charge_connection`).
Windows are fixed and aligned to the epoch (see `windows.py`): a count resets to 0 at the start
of each window, it does not slide.

Invariants:
- Counts never go below 0; a window that has passed reads as 0.
- A request from a banned IP is answered 418 until `ban_until_ms`, whatever its weight.
- Every limit comes from the rules given to the constructor; the testnet values below are only
  defaults. `BanPolicy` sets how many 429s are tolerated and how long bans last.

Decisions where the docs are silent:
- A request refused with 429 still adds its weight (and its raw request): the count keeps
  growing in the 429's `rateLimits`, as observed on Binance, so a client that does not back off
  stays refused until the window resets. A request refused with 418 also adds its weight: the
  418 example in web-socket-api.md reports `"count": 2411` in the middle of an hour-long ban.
- The over-limit test is `count > limit` after adding: the request that reaches exactly `limit`
  passes. Once a window is over its limit, even a weight-0 request is refused in that window.
- When several windows are over their limits, the error names the one that resets last, and
  `retryAfter` is that reset: the first moment a retry can succeed ("If you exhaust a longer
  interval, you will have to wait for that interval to reset").
- Bans: each 429 for REQUEST_WEIGHT or RAW_REQUESTS is a violation. Violations are counted per
  IP within the window of the first one (until its `retryAfter`). The first
  `violations_before_ban` violations are answered 429; the next one in that window bans the IP
  and is itself answered 418 (observed: 429, then 418, then close 1008). The n-th ban of an IP
  lasts `first_ban_ms * 2**(n-1)`, capped at `max_ban_ms` (2 minutes to 3 days, "IP limits").
  An IP whose last ban ended more than `forgive_after_ms` ago starts again at the first ban.
  Requests during a ban are not violations and do not extend it.
- ORDERS 429s (-1015) are per account and never lead to an IP ban. A refused order is not
  counted. `decrement_orders` applies to every ORDERS window's current count, whenever the
  order was placed ("fills decrease your *current* unfilled order count"), never below 0.
- Connection attempts: the attempt that is refused still counts. The -1034 error carries
  `data: {serverTime, retryAfter}` like the -1003 errors; the transport may drop it. A banned IP
  is refused by the 2 weight a WebSocket connection costs (`charge_request(ip, 2, now_ms)`), not
  here.
- Usage lists and headers order each type's windows shortest first (ORDERS: 10 SECOND, then
  1 DAY, as in the doc examples); `exchange_info()` keeps the configured order. REST headers are
  `X-MBX-USED-WEIGHT` (the 1M count, as in real captures; the shortest window's count when no
  1M rule is configured), `X-MBX-USED-WEIGHT-<n><letter>` per REQUEST_WEIGHT rule and, on
  request, `X-MBX-ORDER-COUNT-<n><letter>` per ORDERS rule. RAW_REQUESTS has no header.
- The error from `charge_request` carries no `rateLimits`; the transport asks `weight_usage`
  (and `order_usage`) for the error response's `rateLimits`, and `headers` for REST.

Known limits: no "Too many requests queued" (-1003) and no concurrent connection limit (-1034
`current limit is '%s'`). Fills decrement by the `n` the caller passes; the maker/large-fill
bonus of the FAQ is the caller's choice. The changelog's "weight 0 when successful" for order
methods is the pipeline's concern (charge 0, or the documented weight once the request failed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localspot.errors import (
    IP_BANNED,
    TOO_MANY_CONNECTION_ATTEMPTS_IP,
    TOO_MANY_ORDERS,
    TOO_MANY_RAW_REQUESTS,
    TOO_MUCH_REQUEST_WEIGHT,
    BinanceError,
    ErrorSpec,
)
from localspot.limits.windows import RateLimitRule, RateLimitUsage, WindowCounters

__all__ = [
    "DEFAULT_CONNECTION_RULE",
    "DEFAULT_RULES",
    "BanPolicy",
    "RateLimitRule",
    "RateLimitUsage",
    "RateLimiter",
]

# The testnet's exchangeInfo `rateLimits` (data/exchange_info.json; RAW_REQUESTS since the
# CHANGELOG's 2026-03-27 entry).
DEFAULT_RULES: tuple[RateLimitRule, ...] = (
    RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 6000),
    RateLimitRule("ORDERS", "SECOND", 10, 50),
    RateLimitRule("ORDERS", "DAY", 1, 160000),
    RateLimitRule("RAW_REQUESTS", "MINUTE", 5, 300000),
)
# web-socket-api.md, "Connection limits": 300 connection attempts every 5 minutes per IP. Not in
# the testnet's exchangeInfo.
DEFAULT_CONNECTION_RULE = RateLimitRule("CONNECTIONS", "MINUTE", 5, 300)

_MIN_SWEEP_SIZE = 256
# Per-IP offender state, a list of ints indexed by these positions.
_BAN_UNTIL, _OFFENCES, _VIOLATION_END, _VIOLATIONS = range(4)


@dataclass(frozen=True, slots=True)
class BanPolicy:
    """How many 429s an IP may collect in one window, and how long its bans last."""

    violations_before_ban: int = 10
    first_ban_ms: int = 2 * 60_000
    max_ban_ms: int = 3 * 86_400_000
    forgive_after_ms: int = 86_400_000

    def __post_init__(self) -> None:
        if self.violations_before_ban < 0 or not 0 < self.first_ban_ms <= self.max_ban_ms:
            raise ValueError(f"bad ban policy {self!r}")

    def ban_duration_ms(self, offence: int) -> int:
        """Return the length of an IP's `offence`-th ban (1-based): doubling, capped."""
        if offence > 62:
            return self.max_ban_ms
        return min(self.first_ban_ms << (offence - 1), self.max_ban_ms)


class RateLimiter:
    """All of Binance's rate limits, counted over aligned fixed windows."""

    def __init__(
        self,
        rules: Iterable[RateLimitRule] = DEFAULT_RULES,
        connection_rule: RateLimitRule | None = DEFAULT_CONNECTION_RULE,
        ban_policy: BanPolicy = BanPolicy(),  # frozen, so one default instance is safe
    ) -> None:
        self.rules = tuple(rules)
        self.connection_rule = connection_rule
        self.ban_policy = ban_policy
        _check_rules(self.rules, connection_rule)
        # Shortest window first, like the doc examples (ORDERS: 10 SECOND, then 1 DAY).
        self._weight = WindowCounters(_of_type(self.rules, "REQUEST_WEIGHT"))
        self._raw = WindowCounters(_of_type(self.rules, "RAW_REQUESTS"))
        self._orders = WindowCounters(_of_type(self.rules, "ORDERS"))
        self._connections = WindowCounters(() if connection_rule is None else (connection_rule,))
        self._has_raw = bool(self._raw.rules)
        self._offenders: dict[str, list[int]] = {}
        self._next_sweep = _MIN_SWEEP_SIZE
        suffixes = [rule.header_suffix for rule in self._weight.rules]
        minute = "1M" if "1M" in suffixes else suffixes[0] if suffixes else None
        self._plain_weight_index = suffixes.index(minute) if minute else -1
        self._weight_headers = tuple(f"X-MBX-USED-WEIGHT-{suffix}" for suffix in suffixes)
        self._order_headers = tuple(
            f"X-MBX-ORDER-COUNT-{rule.header_suffix}" for rule in self._orders.rules
        )

    def exchange_info(self) -> list[dict[str, Any]]:
        """Return the `rateLimits` list of `exchangeInfo`, in configured order."""
        return [rule.exchange_info() for rule in self.rules]

    # -- REQUEST_WEIGHT and RAW_REQUESTS, per IP ---------------------------------------------

    def charge_request(
        self, ip: str, weight: int, now_ms: int, *, raw: bool = False
    ) -> list[RateLimitUsage]:
        """Count one request of `weight` from `ip`; raise 418 if banned, 429 if over a limit."""
        over_weight = self._weight.add(ip, weight, now_ms)
        over_raw = self._raw.add(ip, 1, now_ms) if raw and self._has_raw else -1
        offender = self._offenders.get(ip)
        if offender is not None and offender[_BAN_UNTIL] > now_ms:
            raise _banned(offender[_BAN_UNTIL], now_ms)
        if over_weight >= 0 or over_raw >= 0:
            raise self._refuse(ip, over_weight, over_raw, now_ms)
        return self._weight.usage(ip, now_ms)

    def weight_usage(self, ip: str, now_ms: int) -> list[RateLimitUsage]:
        """Return the REQUEST_WEIGHT windows of `ip` with their current counts."""
        return self._weight.usage(ip, now_ms)

    def banned_until(self, ip: str, now_ms: int) -> int | None:
        """Return when the ban of `ip` ends, or None if it is not banned at `now_ms`."""
        offender = self._offenders.get(ip)
        if offender is None or offender[_BAN_UNTIL] <= now_ms:
            return None
        return offender[_BAN_UNTIL]

    # -- ORDERS, per account ------------------------------------------------------------------

    def check_order(self, account_id: int, now_ms: int) -> None:
        """Raise -1015 (429) if one more order would exceed an ORDERS window; count nothing."""
        full = self._orders.first_full(account_id, 1, now_ms)
        if full >= 0:
            rule = self._orders.rules[full]
            retry_after = self._orders.window_end(account_id, full, now_ms)
            raise _too_many(TOO_MANY_ORDERS, rule, now_ms, retry_after)

    def count_order(self, account_id: int, now_ms: int) -> None:
        """Count one placed order in every ORDERS window of `account_id`."""
        self._orders.add(account_id, 1, now_ms)

    def decrement_orders(self, account_id: int, now_ms: int, n: int = 1) -> None:
        """Take `n` filled orders off every current ORDERS window, never below 0."""
        self._orders.subtract(account_id, n, now_ms)

    def order_usage(self, account_id: int, now_ms: int) -> list[RateLimitUsage]:
        """Return the ORDERS windows of `account_id`, shortest first, with current counts."""
        return self._orders.usage(account_id, now_ms)

    # -- CONNECTIONS, per IP ------------------------------------------------------------------

    def charge_connection(self, ip: str, now_ms: int) -> None:
        """Count one WebSocket connection attempt from `ip`; raise -1034 (429) when over."""
        if self._connections.add(ip, 1, now_ms) >= 0:
            rule = self._connections.rules[0]
            retry_after = self._connections.window_end(ip, 0, now_ms)
            raise _too_many(TOO_MANY_CONNECTION_ATTEMPTS_IP, rule, now_ms, retry_after)

    # -- REST ---------------------------------------------------------------------------------

    def headers(
        self, ip: str, account_id: int | None, now_ms: int, *, include_orders: bool
    ) -> dict[str, str]:
        """Return the `X-MBX-USED-WEIGHT[-1M]` (and `X-MBX-ORDER-COUNT-*`) response headers."""
        out: dict[str, str] = {}
        weight = self._weight
        if self._plain_weight_index >= 0:
            out["X-MBX-USED-WEIGHT"] = str(weight.count(ip, self._plain_weight_index, now_ms))
        for i, name in enumerate(self._weight_headers):
            out[name] = str(weight.count(ip, i, now_ms))
        if include_orders and account_id is not None:
            for i, name in enumerate(self._order_headers):
                out[name] = str(self._orders.count(account_id, i, now_ms))
        return out

    @staticmethod
    def retry_after_seconds(err_data: dict[str, Any], now_ms: int) -> int:
        """Return the `Retry-After` seconds for a 418/429 `data`: rounded up, at least 1."""
        return max(1, -((now_ms - int(err_data["retryAfter"])) // 1000))

    def reset(self) -> None:
        """Forget every count, violation and ban."""
        for counters in (self._weight, self._raw, self._orders, self._connections):
            counters.clear()
        self._offenders.clear()
        self._next_sweep = _MIN_SWEEP_SIZE

    # -- violations and bans ------------------------------------------------------------------

    def _refuse(self, ip: str, over_weight: int, over_raw: int, now_ms: int) -> BinanceError:
        spec, rule, retry_after = TOO_MUCH_REQUEST_WEIGHT, None, -1
        if over_weight >= 0:
            rule = self._weight.rules[over_weight]
            retry_after = self._weight.window_end(ip, over_weight, now_ms)
        if over_raw >= 0 and self._raw.window_end(ip, over_raw, now_ms) > retry_after:
            spec, rule = TOO_MANY_RAW_REQUESTS, self._raw.rules[over_raw]
            retry_after = self._raw.window_end(ip, over_raw, now_ms)
        assert rule is not None
        offender = self._offender(ip, now_ms)
        if offender[_VIOLATION_END] <= now_ms:
            offender[_VIOLATION_END] = retry_after
            offender[_VIOLATIONS] = 0
        offender[_VIOLATIONS] += 1
        if offender[_VIOLATIONS] > self.ban_policy.violations_before_ban:
            return _banned(self._ban(offender, now_ms), now_ms)
        return _too_many(spec, rule, now_ms, retry_after)

    def _ban(self, offender: list[int], now_ms: int) -> int:
        policy = self.ban_policy
        if offender[_BAN_UNTIL] + policy.forgive_after_ms <= now_ms:
            offender[_OFFENCES] = 0
        offender[_OFFENCES] += 1
        offender[_BAN_UNTIL] = now_ms + policy.ban_duration_ms(offender[_OFFENCES])
        offender[_VIOLATION_END] = offender[_VIOLATIONS] = 0
        return offender[_BAN_UNTIL]

    def _offender(self, ip: str, now_ms: int) -> list[int]:
        offender = self._offenders.get(ip)
        if offender is None:
            if len(self._offenders) >= self._next_sweep:
                self._sweep_offenders(now_ms)
            offender = self._offenders[ip] = [0, 0, 0, 0]
        return offender

    def _sweep_offenders(self, now_ms: int) -> None:
        # An offender is forgotten once nothing about it can matter any more.
        forgive = self.ban_policy.forgive_after_ms
        done = [
            ip
            for ip, o in self._offenders.items()
            if o[_BAN_UNTIL] + forgive <= now_ms and o[_VIOLATION_END] <= now_ms
        ]
        for ip in done:
            del self._offenders[ip]
        self._next_sweep = max(_MIN_SWEEP_SIZE, 2 * len(self._offenders))


def _of_type(rules: tuple[RateLimitRule, ...], rate_limit_type: str) -> list[RateLimitRule]:
    chosen = [rule for rule in rules if rule.rate_limit_type == rate_limit_type]
    return sorted(chosen, key=lambda rule: rule.interval_ms)


def _check_rules(rules: tuple[RateLimitRule, ...], connection_rule: RateLimitRule | None) -> None:
    seen = set()
    for rule in rules:
        if rule.rate_limit_type == "CONNECTIONS":
            raise ValueError("pass the CONNECTIONS rule as connection_rule")
        # Two rules with one header name (X-MBX-USED-WEIGHT-1M) could not both be reported.
        key = (rule.rate_limit_type, rule.header_suffix)
        if key in seen:
            raise ValueError(f"duplicate rate limit {key}")
        seen.add(key)
    if connection_rule is not None and connection_rule.rate_limit_type != "CONNECTIONS":
        raise ValueError(f"connection_rule must be a CONNECTIONS rule, not {connection_rule!r}")


def _too_many(spec: ErrorSpec, rule: RateLimitRule, now_ms: int, retry_after: int) -> BinanceError:
    data = {"serverTime": now_ms, "retryAfter": retry_after}
    return spec.error(rule.limit, rule.interval_text, data=data)


def _banned(ban_until_ms: int, now_ms: int) -> BinanceError:
    return IP_BANNED.error(ban_until_ms, data={"serverTime": now_ms, "retryAfter": ban_until_ms})
