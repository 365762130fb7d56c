"""The rate limiter against a deliberately naive model that keeps every event and recounts.

The model knows nothing of slots or lazy resets: a window's count is the fold of the events
whose timestamps fall in the same aligned window (`t // interval_ms`), and decrements stop at 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st

from localspot.errors import BinanceError
from localspot.limits.limiter import BanPolicy, RateLimiter, RateLimitRule

NO_BANS = BanPolicy(violations_before_ban=10**9)
IPS = ("1.1.1.1", "2.2.2.2")
ACCOUNTS = (1, 2)


@dataclass
class NaiveModel:
    """Every charge as (time, amount), per key; counts recomputed from scratch."""

    rules: tuple[RateLimitRule, ...]
    weight: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    raw: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    orders: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def of_type(self, rate_limit_type: str) -> list[RateLimitRule]:
        chosen = [rule for rule in self.rules if rule.rate_limit_type == rate_limit_type]
        return sorted(chosen, key=lambda rule: rule.interval_ms)

    @staticmethod
    def count(events: list[tuple[int, int]], rule: RateLimitRule, now_ms: int) -> int:
        total = 0
        for at_ms, amount in events:
            if at_ms // rule.interval_ms == now_ms // rule.interval_ms:
                total = max(0, total + amount)
        return total

    def over(self, kind: str, events: list[tuple[int, int]], now_ms: int) -> list[int]:
        """Return the window ends of the rules of `kind` that are over their limits."""
        return [
            (now_ms // rule.interval_ms + 1) * rule.interval_ms
            for rule in self.of_type(kind)
            if self.count(events, rule, now_ms) > rule.limit
        ]

    def charge(self, ip: str, weight: int, now_ms: int, raw: bool) -> int | None:
        """Return the expected retryAfter, or None when the request passes."""
        self.weight.setdefault(ip, []).append((now_ms, weight))
        ends = self.over("REQUEST_WEIGHT", self.weight[ip], now_ms)
        if raw:
            self.raw.setdefault(ip, []).append((now_ms, 1))
            ends += self.over("RAW_REQUESTS", self.raw[ip], now_ms)
        return max(ends) if ends else None

    def place(self, account_id: int, now_ms: int) -> int | None:
        events = self.orders.setdefault(account_id, [])
        ends = [
            (now_ms // rule.interval_ms + 1) * rule.interval_ms
            for rule in self.of_type("ORDERS")
            if self.count(events, rule, now_ms) + 1 > rule.limit
        ]
        if ends:
            return max(ends)
        events.append((now_ms, 1))
        return None

    def fill(self, account_id: int, now_ms: int, n: int) -> None:
        self.orders.setdefault(account_id, []).append((now_ms, -n))


INTERVALS = st.sampled_from(
    [("SECOND", 1), ("SECOND", 3), ("SECOND", 10), ("MINUTE", 1), ("MINUTE", 2)]
)


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[RateLimitRule, ...]:
    rules = []
    for rate_limit_type in ("REQUEST_WEIGHT", "RAW_REQUESTS", "ORDERS"):
        intervals = draw(st.lists(INTERVALS, min_size=0, max_size=3, unique=True))
        for interval, num in intervals:
            limit = draw(st.integers(min_value=0, max_value=40))
            rules.append(RateLimitRule(rate_limit_type, interval, num, limit))
    return tuple(draw(st.permutations(rules)))


OPERATIONS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4_000),  # ms since the previous operation
        st.sampled_from(["request", "place", "fill"]),
        st.integers(min_value=0, max_value=1),  # which IP / account
        st.integers(min_value=0, max_value=12),  # weight, or orders filled
        st.booleans(),  # raw (REST) request
    ),
    max_size=150,
)


def refusal(call: Callable[[], object], now_ms: int) -> int | None:
    """Run a limiter call; return the 429's retryAfter, or None if the call passed."""
    error: BinanceError | None = None
    try:
        call()
    except BinanceError as err:
        error = err
    if error is None:
        return None
    assert error.status == 429
    assert error.data is not None
    assert error.data["serverTime"] == now_ms
    return int(error.data["retryAfter"])


@settings(max_examples=300, deadline=None)
@given(rules=rule_sets(), start_ms=st.integers(0, 2_000_000_000_000), operations=OPERATIONS)
def test_limiter_counts_and_refuses_like_the_naive_model(
    rules: tuple[RateLimitRule, ...],
    start_ms: int,
    operations: list[tuple[int, str, int, int, bool]],
) -> None:
    limiter = RateLimiter(rules=rules, ban_policy=NO_BANS)
    model = NaiveModel(rules)
    now = start_ms
    for gap, kind, who, amount, raw in operations:
        now += gap
        ip, account = IPS[who], ACCOUNTS[who]
        if kind == "request":
            expected = model.charge(ip, amount, now, raw)
            charge = partial(limiter.charge_request, ip, amount, now, raw=raw)
            assert refusal(charge, now) == expected
        elif kind == "place":
            expected = model.place(account, now)
            assert refusal(partial(limiter.check_order, account, now), now) == expected
            if expected is None:
                limiter.count_order(account, now)
        else:
            model.fill(account, now, amount)
            limiter.decrement_orders(account, now, amount)
        for other_ip in IPS:
            events = model.weight.get(other_ip, [])
            expected_counts = [
                model.count(events, rule, now) for rule in model.of_type("REQUEST_WEIGHT")
            ]
            assert [u.count for u in limiter.weight_usage(other_ip, now)] == expected_counts
        for other_account in ACCOUNTS:
            events = model.orders.get(other_account, [])
            expected_counts = [model.count(events, rule, now) for rule in model.of_type("ORDERS")]
            assert [u.count for u in limiter.order_usage(other_account, now)] == expected_counts
