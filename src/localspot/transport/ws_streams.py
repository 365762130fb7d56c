"""Market data streams over WebSocket: `/ws`, `/ws/<s1>/<s2>...` (raw) and
`/stream?streams=<s1>/<s2>` (combined, `{"stream", "data"}`), web-socket-streams.md.

Control messages (`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`,
`GET_PROPERTY`) are answered `{"result": ..., "id": ...}`; errors are
`{"error": {"code", "msg"}, "id": ...}`, error before id as observed on Binance
(binance-observed.md "Market streams"), with the messages of "Error Messages".

Limits ("WebSocket Limits"): more than 5 incoming messages (text, ping or pong frames) in any
second closes the connection; at most 1024 streams per connection (a SUBSCRIBE beyond that is
refused, decision); 300 connection attempts per 5 minutes per IP (HTTP 429, -1034, as on the
WebSocket API). Upkeep as on the WebSocket API: a ping every 20 s, closed after 60 s without
a pong, after 24 h, and `serverShutdown` before the server stops.

Fan-out and back-pressure: the feed hands each event over once per stream (`publish`), which
only appends it to a list and arms a flush timer: no per-subscriber work, no await, no send on
the matching path. The flush runs `flush_interval` (2 ms) later, or later still after a long
flush, so that flushing takes at most `FANOUT_SHARE` (a tenth) of the event loop. Connections
with the same streams, time unit and wrapping form a group and get the same bytes: each
group's frames are encoded and joined once (each payload's JSON is rendered once per time unit
and wrapping), and each connection gets one transport write (one system call) for all the
events since the last flush. Every frame is still one whole WebSocket text frame holding
exactly one message, in publish order per connection; control answers are queued behind the
events published before them. A connection whose socket buffer is above `_HIGH_WATER` keeps
its frames queued (the client reads slowly); one with more than `max_queue` frames queued is
closed (1008), so a slow client never delays the engine or other subscribers.

Decisions where the docs are silent: unparsable names in the URL are ignored (the connection
opens; it may SUBSCRIBE later); a SUBSCRIBE with any invalid name subscribes to nothing and
answers `Invalid request: invalid stream` (observed); a missing or non-list `params` of
SUBSCRIBE/UNSUBSCRIBE is treated the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import struct
import time
from collections import deque
from typing import Any
from urllib.parse import unquote

from aiohttp import WSCloseCode, WSMsgType, web

from localspot import jsonio
from localspot.errors import BinanceError
from localspot.limits.limiter import RateLimiter
from localspot.methods.context import Services
from localspot.pubsub import TICK_MS, MarketFeed, Payload, parse_stream
from localspot.transport.keepalive import Keepalive
from localspot.transport.ws_api import time_unit_is_us

log = logging.getLogger("localspot.ws_streams")

MAX_STREAMS = 1024
MAX_MESSAGES_PER_SECOND = 5
MAX_QUEUE = 10_000
FLUSH_INTERVAL_S = 0.002  # how long frames accumulate before one write per connection
# At most this share of the event loop goes to flushing: after a flush that took t seconds,
# the next one waits at least t * (1 - share) / share (so many subscribers batch more).
FANOUT_SHARE = 0.1
_HIGH_WATER = 256 * 1024  # bytes in a socket's write buffer above which frames stay queued
_HEADER_16 = struct.Struct("!BBH")
_HEADER_64 = struct.Struct("!BBQ")
_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_ID_RE = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1


class ControlError(Exception):
    """A control message refused with a stream error object."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def _invalid(msg: str) -> ControlError:
    return ControlError(2, f"Invalid request: {msg}")


def text_frame(text: str) -> bytes:
    """One unmasked, unfragmented WebSocket text frame (RFC 6455 5.2) holding `text`."""
    data = text.encode()
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 65536:
        return _HEADER_16.pack(0x81, 126, size) + data
    return _HEADER_64.pack(0x81, 127, size) + data


class StreamConnection:
    """One client connection to the market data streams."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        server: StreamServer,
        *,
        transport: asyncio.Transport,
        combined: bool,
        time_unit_us: bool,
    ) -> None:
        self.ws = ws
        self._transport = transport
        self.server = server
        self.combined = combined
        self.time_unit_us = time_unit_us
        self.streams: dict[str, None] = {}
        self._queue: deque[tuple[bytes, int]] = deque()  # (frames, how many)
        self._queued = 0  # frames in `_queue`
        self.group_key: tuple[frozenset[str], bool, bool] | None = None
        self._received: deque[float] = deque()
        services = server.services
        self._keepalive = Keepalive(ws, services.config, services.clock, self._close)
        self._closing = False

    # -- outgoing ------------------------------------------------------------------------------

    def deliver(self, stream: str, payload: Payload) -> None:
        """Queue one event (for a feed without a sink; never blocks)."""
        combined_as = stream if self.combined else None
        self.enqueue(payload.encoded(self.time_unit_us, combined_as, text_frame), 1)

    def enqueue(self, frames: bytes, count: int) -> None:
        """Queue `count` whole frames to write at the next flush (never blocks)."""
        if self._closing:
            return
        if self._queued + count > self.server.max_queue:
            log.info("stream connection too slow (%d queued): disconnecting", self._queued)
            self._closing = True
            self._queue.clear()
            self._queued = 0
            asyncio.get_running_loop().create_task(self._close(WSCloseCode.POLICY_VIOLATION))
            return
        self._queue.append((frames, count))
        self._queued += count
        self.server.mark_dirty(self)

    def reply(self, payload: dict[str, Any]) -> None:
        """Queue a control answer behind the events already published."""
        self.server.collect()
        self.enqueue(text_frame(jsonio.dumps_text(payload)), 1)

    def write_queued(self) -> bool:
        """Write what is queued with one transport write (nothing while the socket buffer is
        over `_HIGH_WATER`); return whether frames are left to write."""
        queue, transport = self._queue, self._transport
        if self.ws.closed or transport.is_closing():
            queue.clear()
            self._queued = 0
            return False
        if not queue or transport.get_write_buffer_size() > _HIGH_WATER:
            return bool(queue)
        if len(queue) == 1:
            frames, _ = queue.popleft()
        else:
            frames = b"".join([f for f, _ in queue])
            queue.clear()
        self._queued = 0
        transport.write(frames)
        return False

    def _flush(self) -> None:
        # Answers already queued go out before a close the client caused.
        self.server.collect()
        self.write_queued()

    async def _close(self, code: int, reason: str = "disconnected") -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=reason.encode())

    async def server_shutdown(self) -> None:
        """Send `serverShutdown` (raw or combined), then close."""
        now_ms = self.server.services.clock.now_ms()
        event = {"e": "serverShutdown", "E": now_ms * 1000 if self.time_unit_us else now_ms}
        body = {"stream": "!serverShutdown", "data": event} if self.combined else event
        self._flush()
        if not self.ws.closed:
            with contextlib.suppress(ConnectionResetError):
                await self.ws.send_str(jsonio.dumps_text(body))
        await self._close(WSCloseCode.GOING_AWAY, "server shutdown")

    # -- incoming ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it ends."""
        keepalive = asyncio.create_task(self._keepalive.run())
        try:
            async for msg in self.ws:
                if not self._count_message():
                    self._flush()
                    await self._close(WSCloseCode.POLICY_VIOLATION, "too many messages")
                    break
                if msg.type is WSMsgType.TEXT:
                    self._on_text(msg.data)
                elif msg.type is WSMsgType.PING:
                    await self.ws.pong(msg.data)
                elif msg.type is WSMsgType.PONG:
                    self._keepalive.on_pong(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    self.reply(
                        _error(
                            None, ControlError(3, "Invalid JSON: expected value at line 1 column 1")
                        )
                    )
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive

    def _count_message(self) -> bool:
        # At most `max_messages_per_second` messages in any second (a sliding window).
        now = time.monotonic()
        received = self._received
        while received and now - received[0] >= 1.0:
            received.popleft()
        if len(received) >= self.server.max_messages_per_second:
            return False
        received.append(now)
        return True

    def _on_text(self, text: str) -> None:
        # Events published so far go to the subscriptions as they were (and before the answer).
        self.server.collect()
        try:
            self._on_control(text)
        finally:
            self.server.regroup(self)

    def _on_control(self, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"Invalid JSON: expected value at line {exc.lineno} column {exc.colno}"
            self.reply(_error(None, ControlError(3, msg)))
            return
        request_id = message.get("id") if isinstance(message, dict) else None
        try:
            if not isinstance(message, dict):
                raise ControlError(3, "Invalid JSON: expected value at line 1 column 1")
            result = self._control(message, text)
        except ControlError as exc:
            self.reply(_error(request_id if _is_valid_id(request_id) else None, exc))
            return
        self.reply({"result": result, "id": request_id})

    def _control(self, message: dict[str, Any], text: str) -> Any:
        method = message.get("method")
        if "method" not in message:
            raise _invalid(f"missing field `method` at line 1 column {len(text)}")
        if not isinstance(method, str) or method not in _METHODS:
            column = _column_after(text, "method")
            raise _invalid(
                f"unknown variant `{method}`, expected one of "
                + ", ".join(f"`{m}`" for m in _METHODS)
                + f" at line 1 column {column}"
            )
        if "id" not in message or not _is_valid_id(message["id"]):
            raise _invalid("request ID must be an unsigned integer")
        params = message.get("params")
        if method == "SUBSCRIBE":
            return self._subscribe(params)
        if method == "UNSUBSCRIBE":
            return self._unsubscribe(params)
        if method == "LIST_SUBSCRIPTIONS":
            if params:
                raise _invalid("too many parameters")
            return list(self.streams)
        if method == "SET_PROPERTY":
            return self._set_property(params)
        return self._get_property(params)

    def _stream_names(self, params: Any) -> list[str]:
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise _invalid("invalid stream")
        return params

    def subscribe_all(self, names: list[str], *, strict: bool) -> None:
        """Subscribe to `names`; invalid ones raise if `strict`, else are skipped."""
        parsed = []
        for name in names:
            stream = parse_stream(name)
            if stream is None:
                if strict:
                    raise _invalid("invalid stream")
                continue
            parsed.append(stream)
        new = {s.name for s in parsed if s.name not in self.streams}
        if len(self.streams) + len(new) > self.server.max_streams:
            raise _invalid("too many streams")
        for stream in parsed:
            self.streams[stream.name] = None
            self.server.feed.subscribe(self, stream)

    def _subscribe(self, params: Any) -> None:
        self.subscribe_all(self._stream_names(params), strict=True)

    def _unsubscribe(self, params: Any) -> None:
        for name in self._stream_names(params):
            if self.streams.pop(name, 0) is None:
                self.server.feed.unsubscribe(self, name)

    def unsubscribe_all(self) -> None:
        """Leave every stream (on close)."""
        self.server.leave(self)
        for name in list(self.streams):
            self.server.feed.unsubscribe(self, name)
        self.streams.clear()

    def _set_property(self, params: Any) -> None:
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            raise _invalid("property name must be a string")
        if len(params) > 2:
            raise _invalid("too many parameters")
        if params[0] != "combined":
            raise ControlError(0, "Unknown property")
        if len(params) < 2 or not isinstance(params[1], bool):
            raise ControlError(1, "Invalid value type: expected Boolean")
        self.combined = params[1]

    def _get_property(self, params: Any) -> bool:
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            raise _invalid("property name must be a string")
        if len(params) > 1:
            raise _invalid("too many parameters")
        if params[0] != "combined":
            raise ControlError(0, "Unknown property")
        return self.combined


def _error(request_id: Any, exc: ControlError) -> dict[str, Any]:
    return {"error": {"code": exc.code, "msg": exc.msg}, "id": request_id}


def _is_valid_id(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _ID_MIN <= value <= _ID_MAX
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def _column_after(text: str, key: str) -> int:
    match = re.search(rf'"{key}"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}}]*)', text)
    return match.end() if match else len(text)


class StreamServer:
    """The stream endpoints' shared state: the feed, the connections and the ticker."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # web-socket-streams.md "WebSocket Limits"; tests may lower or raise them.
        self.max_queue = MAX_QUEUE
        self.max_streams = MAX_STREAMS
        self.max_messages_per_second = MAX_MESSAGES_PER_SECOND
        self.flush_interval = FLUSH_INTERVAL_S
        self._pending: list[tuple[str, Payload]] = []
        self._groups: dict[tuple[frozenset[str], bool, bool], dict[StreamConnection, None]] = {}
        self._dirty: dict[StreamConnection, None] = {}
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flush_cost = 0.0  # seconds the last flush took
        self.feed = MarketFeed(
            services.market_data, lambda name: services.engine.symbol(name), sink=self.publish
        )
        self.connections: set[StreamConnection] = set()
        config = services.config
        self.limiter = RateLimiter(rules=(), connection_rule=config.connection_limit)
        services.subscribers.append(self.feed.on_published)

    async def open(
        self, request: web.Request, names: list[str], combined: bool
    ) -> web.StreamResponse:
        """Accept a stream connection and serve it until it ends."""
        services = self.services
        ip = request.remote or "unknown"
        try:
            time_unit_us = time_unit_is_us(request.query.get("timeUnit"))
            if services.config.rate_limits_enabled:
                self.limiter.charge_connection(ip, services.clock.now_ms())
        except BinanceError as exc:
            return web.json_response(exc.body(), status=exc.status, dumps=jsonio.dumps_text)
        # No permessage-deflate: compressing every frame for every subscriber costs more than
        # the matching itself.
        ws = web.WebSocketResponse(
            autoping=False, max_msg_size=services.config.max_frame_bytes, compress=False
        )
        await ws.prepare(request)
        transport = request.transport
        if transport is None:  # the client left during the handshake
            return ws
        connection = StreamConnection(
            ws, self, transport=transport, combined=combined, time_unit_us=time_unit_us
        )
        self.collect()  # events published before the connection are not its
        try:
            connection.subscribe_all([n for n in names if n], strict=False)
        except ControlError:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many streams")
            return ws
        self.regroup(connection)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
            connection.unsubscribe_all()
        return ws

    # -- fan-out -------------------------------------------------------------------------------

    def publish(self, stream: str, payload: Payload) -> None:
        """The feed's sink: keep one event of `stream` for the next flush (never blocks)."""
        self._pending.append((stream, payload))
        self._arm()

    def regroup(self, connection: StreamConnection) -> None:
        """Put `connection` in the group of its current streams, time unit and wrapping."""
        key = (frozenset(connection.streams), connection.time_unit_us, connection.combined)
        if key == connection.group_key:
            return
        self.leave(connection)
        if connection.streams:
            self._groups.setdefault(key, {})[connection] = None
            connection.group_key = key

    def leave(self, connection: StreamConnection) -> None:
        """Take `connection` out of its group."""
        key, connection.group_key = connection.group_key, None
        members = self._groups.get(key) if key is not None else None
        if members is not None:
            members.pop(connection, None)
            if not members:
                del self._groups[key]

    def collect(self) -> None:
        """Queue the published events on their subscribers' connections: frames are encoded
        and joined once per group, and each member queues the same bytes."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        for (streams, us, combined), members in list(self._groups.items()):
            frames = [
                payload.encoded(us, name if combined else None, text_frame)
                for name, payload in pending
                if name in streams
            ]
            if not frames:
                continue
            data = frames[0] if len(frames) == 1 else b"".join(frames)
            for connection in list(members):
                connection.enqueue(data, len(frames))

    def mark_dirty(self, connection: StreamConnection) -> None:
        """Have `connection`'s queue written at the next flush."""
        self._dirty[connection] = None
        self._arm()

    def _arm(self) -> None:
        if self._flush_timer is None:
            loop = asyncio.get_running_loop()
            pause = self._flush_cost * (1 - FANOUT_SHARE) / FANOUT_SHARE
            self._flush_timer = loop.call_later(max(self.flush_interval, pause), self._flush)

    def _flush(self) -> None:
        started = time.perf_counter()
        self._flush_timer = None
        try:
            self.collect()
        except Exception:  # keep the streams alive; the failure is a bug to read in the log
            log.exception("stream fan-out failed")
            self._pending = []
        dirty, self._dirty = self._dirty, {}
        for connection in dirty:
            try:
                left = connection.write_queued()
            except Exception:  # one broken socket must not stop the others' frames
                log.exception("writing to a stream connection failed")
                continue
            if left:
                self._dirty[connection] = None
        self._flush_cost = time.perf_counter() - started
        if self._dirty:
            self._arm()

    def stop(self) -> None:
        """Cancel the pending flush (the app is stopping)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None

    async def ticker(self) -> None:
        """Drive the periodic streams every 100 ms."""
        clock = self.services.clock
        while True:
            await asyncio.sleep(TICK_MS / 1000)
            if self.feed.topics:
                self.feed.tick(clock.now_ms())

    async def shutdown(self) -> None:
        """Send `serverShutdown` to every connection and close it."""
        for connection in list(self.connections):
            try:
                await connection.server_shutdown()
            except Exception:
                log.exception("serverShutdown to a stream connection failed")


def _streams_query(query: str) -> str:
    # Read `streams=` without form decoding: `+` in `@kline_1m@+08:00` is a plus, not a space.
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "streams":
            return unquote(value)
    return ""


STREAM_SERVER = web.AppKey("stream_server", StreamServer)


def add_routes(app: web.Application, services: Services) -> StreamServer:
    """Serve `/ws`, `/ws/<streams>` and `/stream` and run the periodic streams' ticker."""
    server = app[STREAM_SERVER] = StreamServer(services)

    async def raw(request: web.Request) -> web.StreamResponse:
        tail = request.match_info.get("streams", "")
        return await server.open(request, tail.split("/") if tail else [], combined=False)

    async def combined(request: web.Request) -> web.StreamResponse:
        names = _streams_query(request.rel_url.raw_query_string)
        return await server.open(request, names.split("/") if names else [], combined=True)

    async def lifecycle(app: web.Application) -> Any:
        task = asyncio.create_task(server.ticker())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.stop()

    async def on_shutdown(app: web.Application) -> None:
        await server.shutdown()

    app.router.add_get("/ws", raw)
    app.router.add_get("/ws/{streams:.*}", raw)
    app.router.add_get("/stream", combined)
    app.on_shutdown.append(on_shutdown)
    app.cleanup_ctx.append(lifecycle)
    return server
