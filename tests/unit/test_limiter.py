"""Rate limiter: aligned windows, -1003/-1015/-1034 errors, bans, unfilled order count."""

from __future__ import annotations

import json

import pytest

from localspot.clock import FakeClock
from localspot.errors import (
    IP_BANNED,
    TOO_MANY_CONNECTION_ATTEMPTS_IP,
    TOO_MANY_ORDERS,
    TOO_MANY_RAW_REQUESTS,
    TOO_MUCH_REQUEST_WEIGHT,
    BinanceError,
)
from localspot.limits.limiter import (
    DEFAULT_CONNECTION_RULE,
    DEFAULT_RULES,
    BanPolicy,
    RateLimiter,
    RateLimitRule,
    RateLimitUsage,
)

DAY = 86_400_000
MINUTE = 60_000
MIDNIGHT = 1_704_153_600_000  # 2024-01-02 00:00:00.000 UTC
IP = "10.0.0.1"
OTHER_IP = "10.0.0.2"

WEIGHT_MESSAGE = (
    "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)


def at(hours: int = 0, minutes: int = 0, seconds: int = 0, ms: int = 0) -> int:
    """Return a timestamp on 2024-01-02 UTC."""
    return MIDNIGHT + ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms


def banned_message(until_ms: int) -> str:
    return (
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )


def retry_after(err: BinanceError) -> int:
    assert err.data is not None
    return int(err.data["retryAfter"])


def counts(usages: list[RateLimitUsage]) -> list[int]:
    return [usage.count for usage in usages]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(0, 1, 23, 456))


@pytest.fixture
def limiter() -> RateLimiter:
    return RateLimiter()


def fill_weight(limiter: RateLimiter, ip: str, now_ms: int, weight: int = 6000) -> None:
    limiter.charge_request(ip, weight, now_ms)


# -- rules ------------------------------------------------------------------------------------


def test_default_rules_are_the_testnet_exchange_info_rate_limits() -> None:
    expected = [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
    ]
    assert [rule.exchange_info() for rule in DEFAULT_RULES] == expected
    assert RateLimiter().exchange_info() == expected
    assert DEFAULT_CONNECTION_RULE.exchange_info() == {
        "rateLimitType": "CONNECTIONS",
        "interval": "MINUTE",
        "intervalNum": 5,
        "limit": 300,
    }


def test_rule_exchange_info_key_order() -> None:
    rule = RateLimitRule("ORDERS", "SECOND", 10, 50)
    assert list(rule.exchange_info()) == ["rateLimitType", "interval", "intervalNum", "limit"]
    assert RateLimitRule.from_exchange_info(rule.exchange_info()) == rule


@pytest.mark.parametrize(
    ("rule", "interval_ms", "suffix", "text"),
    [
        (RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 6000), 60_000, "1M", "1 MINUTE"),
        (RateLimitRule("ORDERS", "SECOND", 10, 50), 10_000, "10S", "10 SECOND"),
        (RateLimitRule("ORDERS", "DAY", 1, 160000), DAY, "1D", "1 DAY"),
        (RateLimitRule("RAW_REQUESTS", "MINUTE", 5, 300000), 300_000, "5M", "5 MINUTE"),
        (RateLimitRule("REQUEST_WEIGHT", "HOUR", 2, 1), 7_200_000, "2H", "2 HOUR"),
    ],
)
def test_rule_interval_ms_header_suffix_and_text(
    rule: RateLimitRule, interval_ms: int, suffix: str, text: str
) -> None:
    assert rule.interval_ms == interval_ms
    assert rule.header_suffix == suffix
    assert rule.interval_text == text


def test_usage_as_json_key_order_and_int_values() -> None:
    usage = RateLimitUsage(RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 6000), 70)
    assert json.dumps(usage.as_json()) == (
        '{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, '
        '"limit": 6000, "count": 70}'
    )


@pytest.mark.parametrize(
    "args",
    [
        ("WEIGHT", "MINUTE", 1, 10),
        ("ORDERS", "WEEK", 1, 10),
        ("ORDERS", "SECOND", 0, 10),
        ("ORDERS", "SECOND", 1, -1),
    ],
)
def test_bad_rule_is_refused(args: tuple[str, str, int, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        RateLimitRule(*args)


def test_duplicate_or_misplaced_rules_are_refused() -> None:
    weight = RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 10)
    with pytest.raises(ValueError, match="duplicate"):
        RateLimiter(rules=(weight, RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 20)))
    with pytest.raises(ValueError, match="connection_rule"):
        RateLimiter(rules=(weight, DEFAULT_CONNECTION_RULE))
    with pytest.raises(ValueError, match="connection_rule"):
        RateLimiter(rules=(weight,), connection_rule=weight)


# -- window alignment -------------------------------------------------------------------------


def test_request_counts_toward_its_minute_and_resets_at_next_minute(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    usage = limiter.charge_request(IP, 70, clock.now_ms())  # 00:01:23.456
    assert [u.as_json() for u in usage] == [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": 6000,
            "count": 70,
        }
    ]
    clock.set_ms(at(0, 1, 0))  # the same minute, from its first millisecond...
    assert counts(limiter.weight_usage(IP, clock.now_ms())) == [70]
    clock.set_ms(at(0, 1, 59, 999))  # ...to its last
    assert counts(limiter.weight_usage(IP, clock.now_ms())) == [70]
    clock.set_ms(at(0, 2, 0))
    assert counts(limiter.weight_usage(IP, clock.now_ms())) == [0]
    assert counts(limiter.charge_request(IP, 1, clock.now_ms())) == [1]


def test_ten_second_window_resets_at_multiples_of_ten_seconds(limiter: RateLimiter) -> None:
    limiter.count_order(1, at(0, 0, 19, 999))
    limiter.count_order(1, at(0, 0, 10))
    assert counts(limiter.order_usage(1, at(0, 0, 19, 999))) == [2, 2]
    assert counts(limiter.order_usage(1, at(0, 0, 20))) == [0, 2]
    limiter.count_order(1, at(0, 0, 25))
    assert counts(limiter.order_usage(1, at(0, 0, 29, 999))) == [1, 3]


def test_day_window_resets_at_midnight_utc(limiter: RateLimiter) -> None:
    limiter.count_order(1, at(23, 59, 59, 999))
    assert counts(limiter.order_usage(1, at(23, 59, 59, 999))) == [1, 1]
    assert counts(limiter.order_usage(1, MIDNIGHT + DAY)) == [0, 0]


def test_five_minute_window_starts_at_multiples_of_five_minutes() -> None:
    rule = RateLimitRule("REQUEST_WEIGHT", "MINUTE", 5, 100)
    limiter = RateLimiter(rules=(rule,))
    limiter.charge_request(IP, 7, at(0, 5, 0))
    assert counts(limiter.weight_usage(IP, at(0, 9, 59, 999))) == [7]
    assert counts(limiter.weight_usage(IP, at(0, 10, 0))) == [0]


# -- REQUEST_WEIGHT 429 ------------------------------------------------------------------------


def test_request_reaching_the_limit_exactly_passes(limiter: RateLimiter) -> None:
    limiter.charge_request(IP, 5999, at(0, 1))
    assert counts(limiter.charge_request(IP, 1, at(0, 1, 1))) == [6000]


def test_over_weight_is_429_with_exact_message_and_retry_after_next_minute(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    fill_weight(limiter, IP, clock.now_ms(), 5990)
    with pytest.raises(BinanceError) as caught:
        limiter.charge_request(IP, 20, clock.now_ms())
    err = caught.value
    assert err.spec is TOO_MUCH_REQUEST_WEIGHT
    assert (err.code, err.status) == (-1003, 429)
    assert err.msg == WEIGHT_MESSAGE
    assert err.data == {"serverTime": at(0, 1, 23, 456), "retryAfter": at(0, 2)}
    assert list(err.body()) == ["code", "msg", "data"]


def test_refused_request_still_adds_its_weight(limiter: RateLimiter) -> None:
    fill_weight(limiter, IP, at(0, 1))
    for expected in (6010, 6020):
        with pytest.raises(BinanceError):
            limiter.charge_request(IP, 10, at(0, 1, 30))
        assert counts(limiter.weight_usage(IP, at(0, 1, 30))) == [expected]


def test_weight_zero_request_is_refused_once_the_window_is_over(limiter: RateLimiter) -> None:
    limiter.charge_request(IP, 0, at(0, 1))
    fill_weight(limiter, IP, at(0, 1), 6000)
    limiter.charge_request(IP, 0, at(0, 1, 1))  # at the limit, not over it
    with pytest.raises(BinanceError):
        limiter.charge_request(IP, 1, at(0, 1, 2))
    with pytest.raises(BinanceError):
        limiter.charge_request(IP, 0, at(0, 1, 3))


def test_weight_is_tracked_per_ip(limiter: RateLimiter) -> None:
    fill_weight(limiter, IP, at(0, 1))
    with pytest.raises(BinanceError):
        limiter.charge_request(IP, 1, at(0, 1, 1))
    assert counts(limiter.charge_request(OTHER_IP, 1, at(0, 1, 1))) == [1]


def test_retry_after_is_the_end_of_the_window_that_resets_last() -> None:
    rules = (
        RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 100),
        RateLimitRule("REQUEST_WEIGHT", "HOUR", 1, 150),
    )
    limiter = RateLimiter(rules=rules)
    limiter.charge_request(IP, 100, at(0, 1))
    with pytest.raises(BinanceError) as caught:  # only the minute is over
        limiter.charge_request(IP, 1, at(0, 1, 5))
    assert caught.value.data == {"serverTime": at(0, 1, 5), "retryAfter": at(0, 2)}
    limiter.charge_request(IP, 48, at(0, 2))  # hour: 149
    with pytest.raises(BinanceError) as caught:  # minute fine, hour over
        limiter.charge_request(IP, 2, at(0, 3))
    assert "per 1 HOUR." in caught.value.msg
    assert caught.value.data == {"serverTime": at(0, 3), "retryAfter": at(1)}


# -- RAW_REQUESTS -----------------------------------------------------------------------------


def test_raw_requests_count_only_rest_requests() -> None:
    rules = (
        RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 6000),
        RateLimitRule("RAW_REQUESTS", "MINUTE", 5, 3),
    )
    limiter = RateLimiter(rules=rules)
    for second in range(3):
        limiter.charge_request(IP, 1, at(0, 5, second), raw=True)
    limiter.charge_request(IP, 1, at(0, 5, 10))  # WebSocket API: not a raw request
    with pytest.raises(BinanceError) as caught:
        limiter.charge_request(IP, 1, at(0, 6), raw=True)
    err = caught.value
    assert err.spec is TOO_MANY_RAW_REQUESTS
    assert err.status == 429
    assert err.msg == "Too many requests; current limit is 3 requests per 5 MINUTE."
    assert err.data == {"serverTime": at(0, 6), "retryAfter": at(0, 10)}
    limiter.charge_request(IP, 1, at(0, 6, 1))  # WebSocket API is not refused by it
    limiter.charge_request(IP, 1, at(0, 10), raw=True)


# -- bans -------------------------------------------------------------------------------------


def over_limit_ban_limiter(violations_before_ban: int = 3) -> RateLimiter:
    return RateLimiter(ban_policy=BanPolicy(violations_before_ban=violations_before_ban))


def provoke_ban(limiter: RateLimiter, ip: str, now_ms: int) -> BinanceError:
    """Go over the weight limit and keep going until answered 418; return that error."""
    limiter.charge_request(ip, 6000, now_ms)
    for _ in range(limiter.ban_policy.violations_before_ban):
        with pytest.raises(BinanceError) as caught:
            limiter.charge_request(ip, 1, now_ms)
        assert caught.value.status == 429
    with pytest.raises(BinanceError) as caught:
        limiter.charge_request(ip, 1, now_ms)
    assert caught.value.status == 418
    return caught.value


def test_repeated_429s_lead_to_418_with_exact_message_and_data() -> None:
    limiter = over_limit_ban_limiter(3)
    now = at(0, 1, 23, 456)
    err = provoke_ban(limiter, IP, now)
    until = now + 2 * MINUTE
    assert err.spec is IP_BANNED
    assert (err.code, err.status) == (-1003, 418)
    assert err.msg == banned_message(until)
    assert err.data == {"serverTime": now, "retryAfter": until}
    assert limiter.banned_until(IP, now) == until


def test_banned_ip_gets_418_for_any_request_until_the_ban_lifts() -> None:
    limiter = over_limit_ban_limiter(0)
    err = provoke_ban(limiter, IP, at(0, 1))
    until = at(0, 3)
    assert err.data == {"serverTime": at(0, 1), "retryAfter": until}
    with pytest.raises(BinanceError) as caught:  # a fresh minute, weight 0: still banned
        limiter.charge_request(IP, 0, at(0, 2, 59, 999))
    assert caught.value.status == 418
    assert caught.value.data == {"serverTime": at(0, 2, 59, 999), "retryAfter": until}
    assert limiter.banned_until(IP, until) is None
    assert counts(limiter.charge_request(IP, 1, until)) == [1]
    limiter.charge_request(OTHER_IP, 1, at(0, 2))  # other IPs were never banned


def test_requests_during_a_ban_add_weight_but_do_not_extend_it() -> None:
    limiter = over_limit_ban_limiter(0)
    provoke_ban(limiter, IP, at(0, 1))
    for _ in range(5):
        with pytest.raises(BinanceError):
            limiter.charge_request(IP, 100, at(0, 2, 30))
    assert counts(limiter.weight_usage(IP, at(0, 2, 30))) == [500]
    assert limiter.banned_until(IP, at(0, 2, 30)) == at(0, 3)


def test_client_that_backs_off_after_429s_is_not_banned() -> None:
    limiter = over_limit_ban_limiter(3)
    for minute in range(1, 10):
        fill_weight(limiter, IP, at(0, minute))
        for _ in range(3):
            with pytest.raises(BinanceError) as caught:
                limiter.charge_request(IP, 1, at(0, minute, 30))
            assert caught.value.status == 429
    assert limiter.banned_until(IP, at(0, 10)) is None


def test_ban_durations_double_from_two_minutes_up_to_three_days() -> None:
    limiter = over_limit_ban_limiter(0)
    now = at(0, 0, 0)
    durations = []
    for _ in range(14):
        until = retry_after(provoke_ban(limiter, IP, now))
        durations.append(until - now)
        now = until  # the moment the ban lifts
        now = now - now % MINUTE + MINUTE  # and a fresh minute
    expected = [min(2 * MINUTE * 2**n, 3 * DAY) for n in range(14)]
    assert durations == expected
    assert durations[:3] == [2 * MINUTE, 4 * MINUTE, 8 * MINUTE]
    assert durations[-2:] == [3 * DAY, 3 * DAY]


def test_ban_policy_durations() -> None:
    policy = BanPolicy()
    assert policy.ban_duration_ms(1) == 120_000
    assert policy.ban_duration_ms(2) == 240_000
    assert policy.ban_duration_ms(12) == 120_000 * 2048
    assert policy.ban_duration_ms(13) == 3 * DAY
    assert policy.ban_duration_ms(10_000) == 3 * DAY


def test_offences_are_tracked_per_ip_and_forgiven_after_a_quiet_period() -> None:
    policy = BanPolicy(violations_before_ban=0, forgive_after_ms=DAY)
    limiter = RateLimiter(ban_policy=policy)
    assert retry_after(provoke_ban(limiter, IP, at(0, 1))) == at(0, 3)
    second = provoke_ban(limiter, IP, at(0, 10))
    assert retry_after(second) == at(0, 14)
    assert retry_after(provoke_ban(limiter, OTHER_IP, at(0, 10))) == at(0, 12)
    almost = retry_after(second) + DAY - 1  # still remembered: third offence
    assert retry_after(provoke_ban(limiter, IP, almost)) == almost + 8 * MINUTE
    late = almost + 8 * MINUTE + DAY  # a quiet day after that ban: back to 2 minutes
    assert retry_after(provoke_ban(limiter, IP, late)) == late + 2 * MINUTE


def test_custom_ban_policy() -> None:
    policy = BanPolicy(violations_before_ban=1, first_ban_ms=1_000, max_ban_ms=3_000)
    limiter = RateLimiter(ban_policy=policy)
    assert [policy.ban_duration_ms(n) for n in (1, 2, 3, 4)] == [1_000, 2_000, 3_000, 3_000]
    err = provoke_ban(limiter, IP, at(0, 1))
    assert err.data == {"serverTime": at(0, 1), "retryAfter": at(0, 1, 1)}


@pytest.mark.parametrize(
    "kwargs",
    [{"violations_before_ban": -1}, {"first_ban_ms": 0}, {"first_ban_ms": 10, "max_ban_ms": 5}],
)
def test_bad_ban_policy_is_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="ban policy"):
        BanPolicy(**kwargs)


# -- ORDERS -----------------------------------------------------------------------------------


def place(limiter: RateLimiter, account_id: int, now_ms: int) -> None:
    limiter.check_order(account_id, now_ms)
    limiter.count_order(account_id, now_ms)


def test_fiftieth_order_passes_fifty_first_is_429(limiter: RateLimiter) -> None:
    for ms in range(50):
        place(limiter, 1, at(0, 0, 10, ms))
    assert counts(limiter.order_usage(1, at(0, 0, 15))) == [50, 50]
    with pytest.raises(BinanceError) as caught:
        limiter.check_order(1, at(0, 0, 15))
    err = caught.value
    assert err.spec is TOO_MANY_ORDERS
    assert (err.code, err.status) == (-1015, 429)
    assert err.msg == "Too many new orders; current limit is 50 orders per 10 SECOND."
    assert err.data == {"serverTime": at(0, 0, 15), "retryAfter": at(0, 0, 20)}
    assert counts(limiter.order_usage(1, at(0, 0, 15))) == [50, 50]  # check counts nothing
    place(limiter, 1, at(0, 0, 20))
    assert counts(limiter.order_usage(1, at(0, 0, 20))) == [1, 51]


def test_order_count_is_per_account_and_not_per_ip(limiter: RateLimiter) -> None:
    for _ in range(50):
        place(limiter, 1, at(0, 0, 1))
    place(limiter, 2, at(0, 0, 1))
    with pytest.raises(BinanceError):
        limiter.check_order(1, at(0, 0, 1))
    assert limiter.weight_usage(IP, at(0, 0, 1))[0].count == 0


def test_day_limit_needs_the_day_to_reset_even_with_ten_seconds_free() -> None:
    rules = (RateLimitRule("ORDERS", "SECOND", 10, 5), RateLimitRule("ORDERS", "DAY", 1, 7))
    limiter = RateLimiter(rules=rules)
    for second in (0, 0, 0, 10, 10, 10, 20):
        place(limiter, 1, at(8, 0, second))
    with pytest.raises(BinanceError) as caught:
        limiter.check_order(1, at(9))
    assert caught.value.msg == "Too many new orders; current limit is 7 orders per 1 DAY."
    assert caught.value.data == {"serverTime": at(9), "retryAfter": MIDNIGHT + DAY}
    place(limiter, 1, MIDNIGHT + DAY)


def test_order_usage_lists_second_window_before_day_window_whatever_the_config() -> None:
    rules = (RateLimitRule("ORDERS", "DAY", 1, 100), RateLimitRule("ORDERS", "SECOND", 10, 5))
    limiter = RateLimiter(rules=rules)
    place(limiter, 1, at(1))
    assert [u.as_json() for u in limiter.order_usage(1, at(1))] == [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 5,
            "count": 1,
        },
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 100, "count": 1},
    ]


def test_order_decrement_taker_example(limiter: RateLimiter) -> None:
    # faqs/order_count_decrement.md, Example 1 -- taker.
    acct = 7
    place(limiter, acct, at(0, 0, 1))  # A
    place(limiter, acct, at(0, 0, 2))  # B
    limiter.decrement_orders(acct, at(0, 0, 2))  # B's first fill as taker
    assert counts(limiter.order_usage(acct, at(0, 0, 2))) == [1, 1]
    place(limiter, acct, at(0, 0, 3))  # C
    place(limiter, acct, at(0, 0, 5))  # D
    limiter.decrement_orders(acct, at(0, 0, 5))  # D fully filled
    assert counts(limiter.order_usage(acct, at(0, 0, 5))) == [2, 2]


def test_order_decrement_maker_example(limiter: RateLimiter) -> None:
    # faqs/order_count_decrement.md, Example 2 -- maker: a first fill as maker takes off 5.
    acct = 7
    for second in (1, 1, 2, 2, 2):
        place(limiter, acct, at(0, 0, second))
    limiter.decrement_orders(acct, at(0, 0, 3), 5)
    assert counts(limiter.order_usage(acct, at(0, 0, 3))) == [0, 0]
    place(limiter, acct, at(0, 0, 4))
    place(limiter, acct, at(0, 0, 4))
    limiter.decrement_orders(acct, at(0, 0, 5), 5)
    place(limiter, acct, at(0, 0, 6))
    assert counts(limiter.order_usage(acct, at(0, 0, 6))) == [1, 1]


def test_fills_let_a_full_account_keep_placing(limiter: RateLimiter) -> None:
    for _ in range(50):
        place(limiter, 1, at(0, 0, 1))
    limiter.decrement_orders(1, at(0, 0, 2))
    place(limiter, 1, at(0, 0, 2))
    with pytest.raises(BinanceError):
        limiter.check_order(1, at(0, 0, 2))


def test_order_decrement_applies_to_current_windows_and_never_below_zero(
    limiter: RateLimiter,
) -> None:
    # faqs/order_count_decrement.md, "What happens if I placed an order yesterday...".
    acct = 3
    for _ in range(5):
        place(limiter, acct, at(9) - DAY)  # 2024-01-01 09:00, orders 1..5
    assert counts(limiter.order_usage(acct, MIDNIGHT)) == [0, 0]
    for _ in range(10):
        place(limiter, acct, at(9))  # orders 6..15
    limiter.decrement_orders(acct, at(12), 5)  # orders 1..5 filled
    assert counts(limiter.order_usage(acct, at(12))) == [0, 5]
    limiter.decrement_orders(acct, at(13), 5)  # orders 6..10
    assert counts(limiter.order_usage(acct, at(13))) == [0, 0]
    place(limiter, acct, at(14))
    place(limiter, acct, at(14))
    limiter.decrement_orders(acct, at(15), 5)  # orders 11..15: no credit below zero
    assert counts(limiter.order_usage(acct, at(15))) == [0, 0]
    place(limiter, acct, at(15))
    assert counts(limiter.order_usage(acct, at(15))) == [1, 1]


def test_decrement_for_an_unknown_account_is_a_no_op(limiter: RateLimiter) -> None:
    limiter.decrement_orders(99, at(1))
    assert counts(limiter.order_usage(99, at(1))) == [0, 0]


def test_order_429_never_bans_the_ip() -> None:
    limiter = over_limit_ban_limiter(0)
    for _ in range(50):
        place(limiter, 1, at(0, 0, 1))
    for _ in range(10):
        with pytest.raises(BinanceError) as caught:
            limiter.check_order(1, at(0, 0, 1))
        assert caught.value.status == 429
    assert limiter.banned_until(IP, at(0, 0, 1)) is None


# -- CONNECTIONS ------------------------------------------------------------------------------


def test_three_hundred_connection_attempts_per_five_minutes(limiter: RateLimiter) -> None:
    for ms in range(300):
        limiter.charge_connection(IP, at(0, 5, 0, ms))
    with pytest.raises(BinanceError) as caught:
        limiter.charge_connection(IP, at(0, 9))
    err = caught.value
    assert err.spec is TOO_MANY_CONNECTION_ATTEMPTS_IP
    assert (err.code, err.status) == (-1034, 429)
    assert err.msg == "Too many connection attempts from IP; current limit is 300 per '5 MINUTE'."
    assert err.data == {"serverTime": at(0, 9), "retryAfter": at(0, 10)}
    limiter.charge_connection(OTHER_IP, at(0, 9))
    limiter.charge_connection(IP, at(0, 10))


def test_connection_limit_is_configurable_or_off() -> None:
    rule = RateLimitRule("CONNECTIONS", "SECOND", 1, 2)
    limiter = RateLimiter(connection_rule=rule)
    limiter.charge_connection(IP, at(1))
    limiter.charge_connection(IP, at(1))
    with pytest.raises(BinanceError):
        limiter.charge_connection(IP, at(1))
    limiter.charge_connection(IP, at(1, 0, 1))
    unlimited = RateLimiter(connection_rule=None)
    for _ in range(1000):
        unlimited.charge_connection(IP, at(1))


# -- REST headers and Retry-After -------------------------------------------------------------


def test_headers_report_weight_and_optionally_order_counts(limiter: RateLimiter) -> None:
    limiter.charge_request(IP, 21, at(0, 1))
    place(limiter, 1, at(0, 1))
    assert limiter.headers(IP, 1, at(0, 1, 5), include_orders=False) == {
        "X-MBX-USED-WEIGHT": "21",
        "X-MBX-USED-WEIGHT-1M": "21",
    }
    assert limiter.headers(IP, 1, at(0, 1, 5), include_orders=True) == {
        "X-MBX-USED-WEIGHT": "21",
        "X-MBX-USED-WEIGHT-1M": "21",
        "X-MBX-ORDER-COUNT-10S": "1",
        "X-MBX-ORDER-COUNT-1D": "1",
    }
    assert limiter.headers(IP, None, at(0, 1, 5), include_orders=True) == {
        "X-MBX-USED-WEIGHT": "21",
        "X-MBX-USED-WEIGHT-1M": "21",
    }
    assert limiter.headers(IP, 1, at(0, 2), include_orders=True) == {
        "X-MBX-USED-WEIGHT": "0",
        "X-MBX-USED-WEIGHT-1M": "0",
        "X-MBX-ORDER-COUNT-10S": "0",
        "X-MBX-ORDER-COUNT-1D": "1",
    }


def test_headers_follow_configured_weight_rules() -> None:
    rules = (
        RateLimitRule("REQUEST_WEIGHT", "SECOND", 10, 100),
        RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, 1000),
        RateLimitRule("REQUEST_WEIGHT", "DAY", 1, 100000),
    )
    limiter = RateLimiter(rules=rules)
    limiter.charge_request(IP, 5, at(0, 1, 5))
    limiter.charge_request(IP, 3, at(0, 1, 10))
    assert limiter.headers(IP, None, at(0, 1, 10), include_orders=True) == {
        "X-MBX-USED-WEIGHT": "8",
        "X-MBX-USED-WEIGHT-10S": "3",
        "X-MBX-USED-WEIGHT-1M": "8",
        "X-MBX-USED-WEIGHT-1D": "8",
    }
    no_minute = RateLimiter(rules=(RateLimitRule("REQUEST_WEIGHT", "HOUR", 1, 10),))
    no_minute.charge_request(IP, 4, at(1))
    assert no_minute.headers(IP, None, at(1), include_orders=False) == {
        "X-MBX-USED-WEIGHT": "4",
        "X-MBX-USED-WEIGHT-1H": "4",
    }


@pytest.mark.parametrize(
    ("retry_after", "now", "seconds"),
    [(10_000, 0, 10), (10_001, 0, 11), (10_000, 9_999, 1), (10_000, 10_000, 1), (5, 7, 1)],
)
def test_retry_after_seconds_rounds_up_and_is_at_least_one(
    retry_after: int, now: int, seconds: int
) -> None:
    data = {"serverTime": now, "retryAfter": retry_after}
    assert RateLimiter.retry_after_seconds(data, now) == seconds


def test_retry_after_seconds_for_a_real_429(limiter: RateLimiter) -> None:
    fill_weight(limiter, IP, at(0, 1, 23, 456), 6001 - 1)
    with pytest.raises(BinanceError) as caught:
        limiter.charge_request(IP, 1, at(0, 1, 23, 456))
    assert caught.value.data is not None
    assert limiter.retry_after_seconds(caught.value.data, at(0, 1, 23, 456)) == 37


# -- configuration, reset, memory -------------------------------------------------------------


def test_limits_come_from_the_rules_given() -> None:
    rules = (
        RateLimitRule("REQUEST_WEIGHT", "SECOND", 1, 10),
        RateLimitRule("ORDERS", "MINUTE", 1, 2),
    )
    limiter = RateLimiter(rules=rules)
    assert limiter.exchange_info() == [rule.exchange_info() for rule in rules]
    limiter.charge_request(IP, 10, at(1))
    with pytest.raises(BinanceError) as caught:
        limiter.charge_request(IP, 1, at(1, 0, 0, 999))
    assert caught.value.msg == (
        "Too much request weight used; current limit is 10 request weight per 1 SECOND. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )
    place(limiter, 1, at(1))
    place(limiter, 1, at(1))
    with pytest.raises(BinanceError) as caught:
        limiter.check_order(1, at(1))
    assert caught.value.msg == "Too many new orders; current limit is 2 orders per 1 MINUTE."
    assert limiter.headers(IP, 1, at(1), include_orders=True)["X-MBX-ORDER-COUNT-1M"] == "2"


def test_no_weight_rules_means_no_weight_limit() -> None:
    limiter = RateLimiter(rules=(RateLimitRule("ORDERS", "SECOND", 10, 1),))
    assert limiter.charge_request(IP, 10**9, at(1), raw=True) == []
    assert limiter.headers(IP, 1, at(1), include_orders=True) == {"X-MBX-ORDER-COUNT-10S": "0"}


def test_reset_forgets_counts_and_bans() -> None:
    limiter = over_limit_ban_limiter(0)
    provoke_ban(limiter, IP, at(0, 1))
    place(limiter, 1, at(0, 1))
    limiter.charge_connection(IP, at(0, 1))
    limiter.reset()
    assert limiter.banned_until(IP, at(0, 1)) is None
    assert counts(limiter.charge_request(IP, 1, at(0, 1))) == [1]
    assert counts(limiter.order_usage(1, at(0, 1))) == [0, 0]


def test_memory_stays_bounded_as_ips_come_and_go(limiter: RateLimiter) -> None:
    now = at(0)
    for i in range(20_000):
        limiter.charge_request(f"ip{i}", 1, now + i * 100)  # ~600 IPs per minute
    assert len(limiter._weight) < 2_048
    assert counts(limiter.weight_usage("ip19999", now + 19_999 * 100)) == [1]


def test_offenders_are_forgotten_after_the_quiet_period() -> None:
    limiter = over_limit_ban_limiter(0)
    now = at(0)
    for i in range(1_000):
        provoke_ban(limiter, f"ip{i}", now + i * DAY)
    assert len(limiter._offenders) < 300
