"""Connection upkeep: server pings, pong timeout, unsolicited pongs, lifetime, attempt limits."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from localspot.config import Config
from localspot.limits.limiter import RateLimitRule
from support import refused_upgrade


def _fast(**changes) -> Config:
    settings = {"ping_interval_s": 0.05, "pong_timeout_s": 0.3, **changes}
    return replace(Config(), **settings)


async def test_client_answering_pings_stays_connected(start_server):
    server = await start_server(_fast())
    ws = await server.session.ws_connect(server.ws_api_url, autoping=False)
    for _ in range(10):  # 10 pings = 0.5 s, longer than the pong timeout
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.PING
        await ws.pong(msg.data)
    await ws.send_str('{"id":1,"method":"ping"}')
    while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.PING:
        await ws.pong(msg.data)
    assert msg.type is aiohttp.WSMsgType.TEXT
    assert '"status":200' in msg.data
    await ws.close()


async def test_silent_client_is_disconnected_and_unsolicited_pongs_do_not_help(start_server):
    server = await start_server(_fast())
    ws = await server.session.ws_connect(server.ws_api_url, autoping=False)
    await ws.pong(b"")  # unsolicited, empty: accepted, but it answers no ping
    while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.PING:
        await ws.pong(b"not the payload")
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 1008


async def test_client_pings_are_answered(server):
    ws = await server.session.ws_connect(server.ws_api_url, autoping=False)
    await ws.ping(b"hello")
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.PONG
    assert msg.data == b"hello"
    await ws.close()


async def test_connection_lifetime(start_server):
    server = await start_server(_fast(connection_lifetime_s=0.2, pong_timeout_s=60))
    ws = await server.session.ws_connect(server.ws_api_url, autoping=True)
    msg = await ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 1001


async def test_connection_attempts_per_ip_are_limited(start_server):
    server = await start_server(connection_limit=RateLimitRule("CONNECTIONS", "MINUTE", 5, 2))
    first = await server.ws()
    second = await server.ws()
    status, body = await refused_upgrade(server)
    assert status == 429
    assert body["code"] == -1034
    assert body["msg"] == "Too many connection attempts from IP; current limit is 2 per '5 MINUTE'."
    assert (await first.call("ping"))["status"] == 200
    assert (await second.call("ping"))["status"] == 200
