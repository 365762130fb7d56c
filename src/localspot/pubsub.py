"""Fans market data out to stream subscribers (web-socket-streams.md, "Detailed Stream
information"): which streams exist, what each sends, and when.

- Real-time streams (`@trade`, `@aggTrade`, `@bookTicker`) are sent from `on_published`, the
  engine door's subscriber: after the command is durable and its response has gone out.
- Periodic streams are sent from `tick`, called every 100 ms by the transport: depth every
  100 ms or 1000 ms, tickers, mini tickers, average price and 1s klines every 1000 ms, other
  klines every 2000 ms.

Nothing here blocks or does I/O: a payload is built once per event (its JSON text, and the
transport's encoded frame, are rendered lazily and cached on the `Payload`, shared by every
subscriber). With a `sink` (the stream server's), each event is handed over once per stream,
whatever the number of subscribers; the sink only appends it to a list and fans it out later
(transport/ws_streams.py). Without one, each subscriber's `deliver` is called, which must only
queue it. Either way fan-out never waits for a socket.

Decisions where the docs are silent (docs/market-data.md):
- Tickers, mini tickers, average price and klines are sent when their content changed since
  the last push (times aside); an idle symbol sends nothing. A kline is sent closed (`x`
  true) once after its bucket ends, if it had trades. Partial depth is sent every period.
- `@blockTrade` and `@referencePrice` are accepted and never send: localspot has neither.
- Symbols in stream names must be lower case; a well-formed name of an unknown symbol is
  accepted and stays silent (as observed on Binance).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from localspot import jsonio
from localspot.domain.commands import Command
from localspot.domain.events import Event, TradeExecuted
from localspot.domain.symbols import SymbolSpec
from localspot.marketdata import MarketData, intervals, klines, tickers
from localspot.methods import render_market as render
from localspot.methods.market import avg_price_mins

log = logging.getLogger("localspot.pubsub")

TICK_MS = 100
_WINDOWS = {"1h": intervals.HOUR_MS, "4h": 4 * intervals.HOUR_MS, "1d": intervals.DAY_MS}
_SYMBOL = r"(?P<symbol>[a-z0-9\-_.]{1,50})"
_STREAM_RES = (
    ("trade", re.compile(_SYMBOL + r"@trade")),
    ("aggTrade", re.compile(_SYMBOL + r"@aggTrade")),
    ("blockTrade", re.compile(_SYMBOL + r"@blockTrade")),
    ("referencePrice", re.compile(_SYMBOL + r"@referencePrice")),
    (
        "kline",
        re.compile(
            _SYMBOL + r"@kline_(?P<interval>[0-9]{1,2}[smhdwM])(?:@(?P<tz>[+-][0-9]{2}:[0-9]{2}))?"
        ),
    ),
    ("miniTicker", re.compile(_SYMBOL + r"@miniTicker")),
    ("allMiniTickers", re.compile(r"!miniTicker@arr")),
    ("ticker", re.compile(_SYMBOL + r"@ticker")),
    ("windowTicker", re.compile(_SYMBOL + r"@ticker_(?P<window>1h|4h|1d)")),
    ("allWindowTickers", re.compile(r"!ticker_(?P<window>1h|4h|1d)@arr")),
    ("bookTicker", re.compile(_SYMBOL + r"@bookTicker")),
    ("avgPrice", re.compile(_SYMBOL + r"@avgPrice")),
    ("partialDepth", re.compile(_SYMBOL + r"@depth(?P<levels>5|10|20)(?P<fast>@100ms)?")),
    ("diffDepth", re.compile(_SYMBOL + r"@depth(?P<fast>@100ms)?")),
)


@dataclass(frozen=True, slots=True)
class Stream:
    """A parsed stream name."""

    name: str
    kind: str
    symbol: str | None = None
    interval: str = ""
    offset_ms: int = 0
    window: str = ""
    levels: int = 0
    fast: bool = False


def parse_stream(name: str) -> Stream | None:
    """Parse a stream name, or return None if it is not one."""
    for kind, pattern in _STREAM_RES:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        groups = match.groupdict()
        symbol = groups.get("symbol")
        offset = 0
        if kind == "kline":
            if not intervals.is_interval(groups["interval"]):
                return None
            if groups.get("tz"):
                parsed = intervals.parse_time_zone(groups["tz"])
                if parsed is None:
                    return None
                offset = parsed
        return Stream(
            name=name,
            kind=kind,
            symbol=symbol.upper() if symbol else None,
            interval=groups.get("interval") or "",
            offset_ms=offset,
            window=groups.get("window") or "",
            levels=int(groups.get("levels") or 0),
            fast=bool(groups.get("fast")),
        )
    return None


Maker = Callable[[render.Ts], Any]


class Subscriber(Protocol):
    """A stream connection as the feed sees it."""

    def deliver(self, stream: str, payload: Payload) -> None:
        """Queue one event of `stream` (never blocks)."""
        ...


class Payload:
    """One event, rendered lazily once per time unit and per wrapping."""

    __slots__ = ("_encoded", "_make", "_texts")

    def __init__(self, make: Callable[[render.Ts], Any]) -> None:
        self._make = make
        self._texts: dict[tuple[bool, str | None], str] = {}
        self._encoded: dict[tuple[bool, str | None], bytes] = {}

    def encoded(self, us: bool, combined_as: str | None, encode: Callable[[str], bytes]) -> bytes:
        """Return `encode(self.text(us, combined_as))`, computed once per key for all
        subscribers (the transport passes its frame encoder)."""
        key = (us, combined_as)
        data = self._encoded.get(key)
        if data is None:
            data = self._encoded[key] = encode(self.text(us, combined_as))
        return data

    def text(self, us: bool, combined_as: str | None = None) -> str:
        """Return the JSON text, raw or wrapped as `{"stream", "data"}` for `combined_as`."""
        key = (us, combined_as)
        text = self._texts.get(key)
        if text is None:
            raw = self._texts.get((us, None))
            if raw is None:
                raw = self._texts[(us, None)] = jsonio.dumps_text(self._make(render.time_unit(us)))
            text = raw
            if combined_as is not None:
                text = '{"stream":' + jsonio.dumps_text(combined_as) + ',"data":' + raw + "}"
                self._texts[key] = text
        return text


@dataclass
class _DiffCursor:
    update_id: int


@dataclass
class _KlineState:
    open_ms: int | None = None
    signature: Any = None


@dataclass
class _Topic:
    stream: Stream
    subscribers: dict[Subscriber, None] = field(default_factory=dict)
    signature: Any = None
    kline: _KlineState = field(default_factory=_KlineState)
    signatures: dict[str, Any] = field(default_factory=dict)


class MarketFeed:
    """Every subscribed stream and what it last sent."""

    def __init__(
        self,
        market_data: MarketData,
        symbols: Callable[[str], SymbolSpec | None],
        sink: Callable[[str, Payload], None] | None = None,
    ):
        self.market = market_data
        self.sink = sink
        self.spec_of = symbols
        self.topics: dict[str, _Topic] = {}
        self._by_symbol_kind: dict[tuple[str | None, str], set[str]] = {}
        self._cursors: dict[tuple[str, bool], _DiffCursor] = {}
        self._ticks = 0

    # -- subscriptions -------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber, stream: Stream) -> None:
        """Add `subscriber` to `stream` (again is fine)."""
        topic = self.topics.get(stream.name)
        if topic is None:
            topic = self.topics[stream.name] = _Topic(stream)
            self._by_symbol_kind.setdefault((stream.symbol, stream.kind), set()).add(stream.name)
            if stream.kind == "diffDepth" and stream.symbol is not None:
                self._open_cursor(stream.symbol, stream.fast)
        topic.subscribers[subscriber] = None

    def unsubscribe(self, subscriber: Subscriber, name: str) -> None:
        """Remove `subscriber` from stream `name`."""
        topic = self.topics.get(name)
        if topic is None:
            return
        topic.subscribers.pop(subscriber, None)
        if not topic.subscribers:
            stream = topic.stream
            del self.topics[name]
            names = self._by_symbol_kind.get((stream.symbol, stream.kind), set())
            names.discard(name)
            if stream.kind == "diffDepth" and stream.symbol is not None and not names:
                self._close_cursor(stream.symbol, stream.fast)

    def _open_cursor(self, symbol: str, fast: bool) -> None:
        key = (symbol, fast)
        if key in self._cursors or self.spec_of(symbol) is None:
            return
        book = self.market.symbol(symbol).book
        update_id, _, _ = self.market.full_depth(symbol)
        book.retain = True
        self._cursors[key] = _DiffCursor(update_id)

    def _close_cursor(self, symbol: str, fast: bool) -> None:
        self._cursors.pop((symbol, fast), None)
        book = self.market.symbol(symbol).book
        remaining = [c.update_id for (s, _), c in self._cursors.items() if s == symbol]
        if remaining:
            book.discard_until(min(remaining))
        else:
            book.retain = False
            book.log = []

    def _topics(self, symbol: str | None, kind: str) -> list[_Topic]:
        names = self._by_symbol_kind.get((symbol, kind))
        return [self.topics[n] for n in names] if names else []

    def _send(self, topic: _Topic, payload: Payload) -> None:
        if self.sink is not None:
            self.sink(topic.stream.name, payload)
            return
        for subscriber in list(topic.subscribers):
            subscriber.deliver(topic.stream.name, payload)

    # -- real-time streams -----------------------------------------------------------------------

    def on_published(self, command: Command, now_ms: int, events: list[Event]) -> None:
        """Send `@trade`, `@aggTrade` and `@bookTicker` events for one executed command."""
        if not self.topics:
            return
        try:
            self._publish(command, now_ms, events)
        except Exception:  # a subscriber must never break the engine door
            log.exception("market data fan-out failed for %r", command)

    def _publish(self, command: Command, now_ms: int, events: list[Event]) -> None:
        symbol = getattr(command, "symbol", None)
        if symbol is None:
            return
        spec = self.spec_of(symbol)
        if spec is None:
            return
        trades = [e.trade for e in events if isinstance(e, TradeExecuted)]
        if trades:
            self._send_trades(spec, trades, now_ms)
        for topic in self._topics(symbol, "bookTicker"):
            self._send_book_ticker(spec, topic)

    def _send_trades(self, spec: SymbolSpec, trades: list[Any], now_ms: int) -> None:
        trade_topics = self._topics(spec.symbol, "trade")
        for trade in trades:
            payload = Payload(lambda ts, t=trade: render.trade_event(spec, t, now_ms, ts))
            for topic in trade_topics:
                self._send(topic, payload)
        agg_topics = self._topics(spec.symbol, "aggTrade")
        if not agg_topics:
            return
        tape = self.market.symbol(spec.symbol).tape
        seen: dict[int, Any] = {}
        for trade in trades:
            agg = tape.agg_of(trade.trade_id)
            seen[agg.agg_id] = agg
        for agg in seen.values():
            payload = Payload(lambda ts, a=agg: render.agg_trade_event(spec, a, now_ms, ts))
            for topic in agg_topics:
                self._send(topic, payload)

    def _send_book_ticker(self, spec: SymbolSpec, topic: _Topic) -> None:
        update_id, bid, ask = self.market.best(spec.symbol)
        signature = (bid, ask)
        if signature == topic.signature:
            return
        topic.signature = signature
        payload = Payload(lambda ts: render.book_ticker_event(spec, update_id, bid, ask))
        self._send(topic, payload)

    # -- periodic streams ------------------------------------------------------------------------

    def tick(self, now_ms: int) -> None:
        """Send what is due every 100 ms (call it every `TICK_MS`)."""
        self._ticks += 1
        try:
            self._tick(now_ms, self._ticks % 10 == 0, self._ticks % 20 == 0)
        except Exception:  # keep the ticker alive; the failure is a bug to read in the log
            log.exception("market data tick failed")

    def _tick(self, now_ms: int, every_second: bool, every_two: bool) -> None:
        for (symbol, fast), cursor in list(self._cursors.items()):
            if fast or every_second:
                self._send_diff(symbol, fast, cursor, now_ms)
        for topic in list(self.topics.values()):
            stream = topic.stream
            kind = stream.kind
            if kind == "partialDepth" and (stream.fast or every_second):
                self._send_partial(topic)
            elif not every_second:
                continue
            elif kind == "kline" and (stream.interval == "1s" or every_two):
                self._send_kline(topic, now_ms)
            elif kind in ("miniTicker", "ticker", "windowTicker", "avgPrice"):
                self._send_symbol_ticker(topic, now_ms)
            elif kind in ("allMiniTickers", "allWindowTickers"):
                self._send_all_tickers(topic, now_ms)
        if self._cursors:
            self._trim_logs()

    def _send_diff(self, symbol: str, fast: bool, cursor: _DiffCursor, now_ms: int) -> None:
        spec = self.spec_of(symbol)
        if spec is None:
            return
        update_id, _, _ = self.market.full_depth(symbol)
        if update_id == cursor.update_id:
            return
        changes = self.market.symbol(symbol).book.changes_since(cursor.update_id)
        bids: dict[Any, Any] = {}
        asks: dict[Any, Any] = {}
        for _, is_bid, price, qty in changes:
            (bids if is_bid else asks)[price] = qty
        first = cursor.update_id + 1
        cursor.update_id = update_id
        bid_levels = sorted(bids.items(), reverse=True)
        ask_levels = sorted(asks.items())
        payload = Payload(
            lambda ts: render.depth_update_event(
                spec, first, update_id, bid_levels, ask_levels, now_ms, ts
            )
        )
        for topic in self._topics(symbol, "diffDepth"):
            if topic.stream.fast == fast:
                self._send(topic, payload)

    def _trim_logs(self) -> None:
        lowest: dict[str, int] = {}
        for (symbol, _), cursor in self._cursors.items():
            lowest[symbol] = min(lowest.get(symbol, cursor.update_id), cursor.update_id)
        for symbol, update_id in lowest.items():
            self.market.symbol(symbol).book.discard_until(update_id)

    def _send_partial(self, topic: _Topic) -> None:
        stream = topic.stream
        spec = self.spec_of(stream.symbol or "")
        if spec is None:
            return
        update_id, bids, asks = self.market.depth(spec.symbol, stream.levels)
        payload = Payload(lambda ts: render.depth(spec, update_id, bids, asks))
        self._send(topic, payload)

    def _send_kline(self, topic: _Topic, now_ms: int) -> None:
        stream = topic.stream
        spec = self.spec_of(stream.symbol or "")
        if spec is None:
            return
        tape = self.market.symbol(spec.symbol).tape
        interval, offset, state = stream.interval, stream.offset_ms, topic.kline
        current = klines.current(tape, interval, now_ms, offset)
        if current is None:
            return
        if state.open_ms is not None and state.open_ms < current.open_ms:
            last = intervals.previous_open(interval, current.open_ms, offset)
            opens = klines.bucket_opens(
                interval, state.open_ms, last, 10, from_start=False, offset_ms=offset
            )
            for closed in klines.build(tape, interval, opens, offset):
                if closed.count:
                    self._send(topic, _kline_payload(spec, closed, interval, True, now_ms))
            state.signature = None
        state.open_ms = current.open_ms
        if current.count and current != state.signature:
            state.signature = current
            self._send(topic, _kline_payload(spec, current, interval, False, now_ms))

    def _ticker(self, stream: Stream, spec: SymbolSpec, now_ms: int) -> tuple[Any, bool, Maker]:
        """Return (signature, is idle, renderer) of a ticker-like stream's current content."""
        tape = self.market.symbol(spec.symbol).tape
        kind = stream.kind
        if kind == "avgPrice":
            mins = avg_price_mins(spec)
            price, last_ms = tickers.average_price(tape, now_ms, mins)
            return (
                (price, last_ms),
                not tape.trades,
                lambda ts: render.avg_price_event(spec, mins, price, last_ms, now_ms, ts),
            )
        if kind in ("windowTicker", "allWindowTickers"):
            open_ms = tickers.rolling_open(now_ms, _WINDOWS[stream.window])
            stats = tickers.stats(tape, open_ms, now_ms)
            window = stream.window
            return (
                _stats_signature(stats),
                not stats.count,
                lambda ts: render.window_ticker_event(spec, stats, window, now_ms, ts),
            )
        stats = tickers.stats(tape, now_ms - intervals.DAY_MS, now_ms)
        if kind == "ticker":
            _, bid, ask = self.market.best(spec.symbol)
            return (
                (_stats_signature(stats), bid, ask),
                not stats.count,
                lambda ts: render.ticker_event(spec, stats, bid, ask, now_ms, ts),
            )
        return (
            _stats_signature(stats),
            not stats.count,
            lambda ts: render.mini_ticker_event(spec, stats, now_ms, ts),
        )

    def _send_symbol_ticker(self, topic: _Topic, now_ms: int) -> None:
        spec = self.spec_of(topic.stream.symbol or "")
        if spec is None:
            return
        signature, idle, make = self._ticker(topic.stream, spec, now_ms)
        if signature == topic.signature or (idle and topic.signature is None):
            return
        topic.signature = signature
        self._send(topic, Payload(make))

    def _send_all_tickers(self, topic: _Topic, now_ms: int) -> None:
        # web-socket-streams.md: "only tickers that have changed will be present in the array".
        changed: list[Maker] = []
        for spec in self._all_specs():
            signature, idle, make = self._ticker(topic.stream, spec, now_ms)
            last = topic.signatures.get(spec.symbol)
            if signature == last or (idle and last is None):
                continue
            topic.signatures[spec.symbol] = signature
            changed.append(make)
        if changed:
            self._send(topic, Payload(lambda ts: [make(ts) for make in changed]))

    def _all_specs(self) -> Iterable[SymbolSpec]:
        engine = self.market.engine
        for name in sorted(engine.markets):
            spec = engine.symbol(name)
            if spec is not None:
                yield spec


def _stats_signature(stats: tickers.Stats) -> Any:
    return (stats.count, stats.first_id, stats.last_id, stats.volume, stats.prev_close)


def _kline_payload(
    spec: SymbolSpec, kline: klines.Kline, interval: str, closed: bool, now_ms: int
) -> Payload:
    return Payload(lambda ts: render.kline_event(spec, kline, interval, closed, now_ms, ts))
