"""The WebSocket API transport (`/ws-api/v3`): frames in, envelopes out. Thin by design.

Envelope (web-socket-api.md "Request format", "Response format"): every response is one text
frame `{"id", "status", "result" | "error", "rateLimits"}` with `id` echoed exactly. Bad input
never kills the connection -- malformed JSON, a binary frame, a non-object, a missing or unknown
`method`, wrong params -- each gets its Binance error and the next request works. The one
exception is an invalid `id`: the live testnet answers -1135 with `id: null` and closes the
socket (1008), and so does localspot (binance-observed.md, "WebSocket API framing").

Connection upkeep: a ping every `ping_interval_s` (20 s); a connection whose last pong answering
one of our pings is older than `pong_timeout_s` (60 s) is closed; unsolicited pongs are
accepted but do not count; connections end after `connection_lifetime_s` (24 h); on shutdown
each gets the `serverShutdown` event before it is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from localspot import errors, jsonio
from localspot.errors import BinanceError
from localspot.methods.context import Services, Session
from localspot.pipeline import WS, Pipeline, Reply, Request
from localspot.transport.keepalive import Keepalive

log = logging.getLogger("localspot.ws_api")

_ID_RE = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
_TIME_UNITS = {"MILLISECOND": False, "millisecond": False, "MICROSECOND": True, "microsecond": True}


def time_unit_is_us(value: str | None) -> bool:
    """Return True for a microsecond `timeUnit`; -1194 for an unknown value."""
    if value is None:
        return False
    try:
        return _TIME_UNITS[value]
    except KeyError:
        raise errors.INVALID_TIME_UNIT.error() from None


def _url_bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() != "false"


class WsApiConnection:
    """One client connection to the WebSocket API."""

    def __init__(
        self, ws: web.WebSocketResponse, session: Session, services: Services, pipeline: Pipeline
    ) -> None:
        self.ws = ws
        self.session = session
        self.services = services
        self.pipeline = pipeline
        self._keepalive = Keepalive(ws, services.config, services.clock, self.close)
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        """Serve frames until the connection ends."""
        keepalive = asyncio.create_task(self._keepalive.run())
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._send_error(None, errors.INVALID_JSON.error())
                elif msg.type is WSMsgType.PING:
                    await self.ws.pong(msg.data)
                elif msg.type is WSMsgType.PONG:
                    self._keepalive.on_pong(msg.data)
                elif msg.type is WSMsgType.ERROR:
                    log.info("connection %s error: %s", self.session.connection_id, msg.data)
                    break
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive

    async def send_json(self, payload: dict[str, Any]) -> None:
        """Send one JSON text frame (responses and events share one ordered writer)."""
        if self.ws.closed:
            return
        async with self._send_lock:
            with contextlib.suppress(ConnectionResetError):
                await self.ws.send_str(jsonio.dumps_text(payload))

    async def close(
        self, code: int = WSCloseCode.POLICY_VIOLATION, reason: str = "disconnected"
    ) -> None:
        """Close the connection."""
        await self.ws.close(code=code, message=reason.encode())

    async def server_shutdown(self) -> None:
        """Send the documented `serverShutdown` event, then close."""
        now_ms = self.services.clock.now_ms()
        when = now_ms * 1_000 if self.session.time_unit_us else now_ms
        await self.send_json({"event": {"e": "serverShutdown", "E": when}})
        await self.close(WSCloseCode.GOING_AWAY, "server shutdown")

    async def _on_text(self, text: str) -> None:
        try:
            frame = jsonio.loads(text)
        except ValueError:
            await self._send_error(None, errors.INVALID_JSON.error())
            return
        if not isinstance(frame, dict):
            await self._send_error(None, errors.INVALID_JSON.error())
            return
        request_id = frame.get("id")
        if not _is_valid_id(request_id):
            await self._send_error(None, errors.INVALID_REQUEST_ID.error())
            await self.close()
            return
        params = frame.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            await self._send_error(request_id, errors.INVALID_PARAMS_OBJECT.error())
            return
        method_name = frame.get("method")
        request = Request(
            transport=WS,
            ip=self.session.ip,
            params=params,
            method_name=method_name if isinstance(method_name, str) else None,
            session=self.session,
            time_unit_us=self.session.time_unit_us,
        )
        reply = await self.pipeline.dispatch(request)
        await self.send_json(self._envelope(request_id, reply, params))
        # Events about this request's commands go out only after its response.
        self.services.publish(reply.deferred)
        if self.session.after_reply:
            callbacks, self.session.after_reply = self.session.after_reply, []
            for callback in callbacks:
                callback()
        if reply.close_connection:
            await self.close()

    def _envelope(self, request_id: Any, reply: Reply, params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": request_id, "status": reply.status}
        if reply.error is not None:
            out["error"] = reply.error.body()
        else:
            out["result"] = reply.result
        if self._show_rate_limits(params):
            out["rateLimits"] = reply.rate_limits
        return out

    def _show_rate_limits(self, params: dict[str, Any]) -> bool:
        wanted = params.get("returnRateLimits")
        if isinstance(wanted, bool):
            return wanted
        if isinstance(wanted, str):
            return wanted.lower() != "false"
        return self.session.return_rate_limits

    async def _send_error(self, request_id: Any, error: BinanceError) -> None:
        reply = Reply(status=error.status, error=error)
        now_ms = self.services.clock.now_ms()
        reply.weight_usage = self.services.limiter.weight_usage(self.session.ip, now_ms)
        await self.send_json(self._envelope(request_id, reply, {}))


def _is_valid_id(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


async def open_connection(
    request: web.Request, services: Services, pipeline: Pipeline, connections: set[WsApiConnection]
) -> web.StreamResponse:
    """Accept a WebSocket API connection and serve it until it ends."""
    config = services.config
    ip = request.remote or "unknown"
    now_ms = services.clock.now_ms()
    try:
        time_unit_us = time_unit_is_us(request.query.get("timeUnit"))
        if config.rate_limits_enabled:
            services.limiter.charge_connection(ip, now_ms)
            # web-socket-api.md "IP limits": connecting costs 2 weight.
            services.limiter.charge_request(ip, 2, now_ms)
    except BinanceError as exc:
        return web.json_response(exc.body(), status=exc.status, dumps=jsonio.dumps_text)
    ws = web.WebSocketResponse(autoping=False, max_msg_size=config.max_frame_bytes)
    await ws.prepare(request)
    session = Session(
        ip=ip,
        connected_since_ms=now_ms,
        return_rate_limits=_url_bool(request.query.get("returnRateLimits"), True),
        time_unit_us=time_unit_us,
    )
    connection = WsApiConnection(ws, session, services, pipeline)
    session.sender = connection
    services.sessions.add(session)
    connections.add(connection)
    try:
        await connection.run()
    finally:
        connections.discard(connection)
        services.sessions.discard(session)
        for callback in session.on_close:
            callback()
    return ws
