"""Rate limits end to end: 429 with retryAfter, 418 ban and disconnect, REST headers, config."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from localspot.clock import FakeClock
from localspot.config import Config
from localspot.limits.limiter import RateLimitRule

START_MS = 1_700_000_040_000  # exactly at the start of a minute


def _config(weight_limit: int) -> Config:
    base = Config()
    rules = tuple(
        RateLimitRule("REQUEST_WEIGHT", "MINUTE", 1, weight_limit)
        if r.rate_limit_type == "REQUEST_WEIGHT"
        else r
        for r in base.rate_limits
    )
    return replace(base, rate_limits=rules)


async def test_over_the_weight_limit_is_429_with_retry_after(start_server):
    clock = FakeClock(START_MS)
    server = await start_server(_config(10), clock)
    ws = await server.ws()  # costs 2
    for _ in range(8):
        assert (await ws.call("ping"))["status"] == 200
    response = await ws.call("ping")
    assert response["status"] == 429
    assert response["error"]["code"] == -1003
    assert response["error"]["msg"] == (
        "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )
    assert response["error"]["data"] == {"serverTime": START_MS, "retryAfter": 1_700_000_100_000}
    assert response["rateLimits"][0]["limit"] == 10
    # the next minute starts at zero again
    clock.set_ms(1_700_000_100_000)
    response = await ws.call("ping")
    assert response["status"] == 200
    assert response["rateLimits"][0]["count"] == 1


async def test_repeated_violation_is_418_then_disconnect(start_server):
    clock = FakeClock(START_MS)
    server = await start_server(_config(3), clock)
    ws = await server.ws()
    statuses = []
    for _ in range(30):
        response = await ws.call("ping")
        statuses.append(response["status"])
        if response["status"] == 418:
            break
    assert statuses[0] == 200
    assert 429 in statuses
    assert statuses[-1] == 418
    error = response["error"]
    until = error["data"]["retryAfter"]
    assert error["msg"] == (
        f"Way too much request weight used; IP banned until {until}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )
    assert until - START_MS == 2 * 60 * 1000
    msg = await ws.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.ws.close_code == 1008
    # REST from the banned IP: 418 with Retry-After in seconds
    async with server.session.get(server.base + "/api/v3/ping") as resp:
        assert resp.status == 418
        assert resp.headers["Retry-After"] == "120"
        assert (await resp.json())["code"] == -1003


async def test_rest_429_has_retry_after_and_weight_header(start_server):
    clock = FakeClock(START_MS)
    server = await start_server(_config(2), clock)
    for _ in range(2):
        async with server.session.get(server.base + "/api/v3/ping") as resp:
            assert resp.status == 200
    async with server.session.get(server.base + "/api/v3/ping") as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "60"
        assert resp.headers["X-MBX-USED-WEIGHT-1M"] == "3"
        body = await resp.json()
        assert set(body) == {"code", "msg"}


async def test_rate_limits_can_be_disabled(start_server):
    server = await start_server(replace(_config(1), rate_limits_enabled=False))
    ws = await server.ws()
    for _ in range(5):
        assert (await ws.call("ping"))["status"] == 200


async def test_exchange_info_lists_the_enforced_limits(start_server):
    server = await start_server(_config(1234))
    ws = await server.ws("?returnRateLimits=false")
    result = (await ws.call("exchangeInfo"))["result"]
    assert result["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 1234,
    }
