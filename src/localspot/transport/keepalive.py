"""Connection upkeep shared by the WebSocket API and the market data streams.

web-socket-api.md "General API Information" / web-socket-streams.md: the server pings every
`ping_interval_s` (20 s); a connection whose last pong answering one of those pings is older
than `pong_timeout_s` (60 s) is closed (1008); pongs with another payload, unsolicited empty
ones included, are accepted but do not count; a connection ends after `connection_lifetime_s`
(24 h, 1001).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, web

from localspot.clock import Clock
from localspot.config import Config

Close = Callable[[int, str], Awaitable[None]]


class Keepalive:
    """Pings, pong timeout and lifetime of one server-side WebSocket."""

    def __init__(
        self, ws: web.WebSocketResponse, config: Config, clock: Clock, close: Close
    ) -> None:
        self._ws = ws
        self._config = config
        self._clock = clock
        self._close = close
        self._ping_payload = b""
        self._last_pong = time.monotonic()

    def on_pong(self, payload: bytes) -> None:
        """Note a pong; only one answering our last ping counts."""
        if payload == self._ping_payload:
            self._last_pong = time.monotonic()

    async def run(self) -> None:
        """Ping until the connection closes, its pongs stop, or its lifetime ends."""
        config = self._config
        started = time.monotonic()
        while not self._ws.closed:
            await asyncio.sleep(config.ping_interval_s)
            now = time.monotonic()
            if now - started >= config.connection_lifetime_s:
                await self._close(WSCloseCode.GOING_AWAY, "connection lifetime reached")
                return
            if now - self._last_pong > config.pong_timeout_s:
                await self._close(WSCloseCode.POLICY_VIOLATION, "pong timeout")
                return
            self._ping_payload = str(self._clock.now_ms()).encode()
            with contextlib.suppress(ConnectionResetError):
                await self._ws.ping(self._ping_payload)
