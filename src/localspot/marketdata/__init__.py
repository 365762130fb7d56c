"""Market data: what the public sees of the engine -- trades, aggregates, klines, tickers,
average prices and the order book with its update id.

Pure: no I/O and no clock; every function that depends on time takes `now_ms`. The engine is
read through its public queries (`Engine.market(symbol).trades`, `Engine.depth`), never
changed. A symbol's tape catches up with the engine's trade list whenever it is read, so
requests and streams see every trade applied so far, in trade id order, whatever the order in
which commands are published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from localspot.domain.engine import Engine
from localspot.marketdata.book import BookMirror, Level
from localspot.marketdata.tape import Tape

FULL_DEPTH = 1_000_000_000


@dataclass
class SymbolData:
    """One symbol's tape and book mirror."""

    symbol: str
    tape: Tape = field(default_factory=Tape)
    book: BookMirror = field(default_factory=BookMirror)


class MarketData:
    """Market data of every symbol the engine trades."""

    def __init__(self, engine_of: Callable[[], Engine]) -> None:
        self._engine_of = engine_of
        self._engine: Engine | None = None
        self._symbols: dict[str, SymbolData] = {}

    @property
    def engine(self) -> Engine:
        """Return the current engine; a new one (reset, import) starts every tape afresh.

        Book mirrors are kept, so update ids keep increasing across an engine swap.
        """
        engine = self._engine_of()
        if engine is not self._engine:
            self._engine = engine
            for data in self._symbols.values():
                data.tape = Tape()
        return engine

    def symbol(self, name: str) -> SymbolData:
        """Return a symbol's data with its tape caught up with the engine."""
        engine = self.engine
        data = self._symbols.get(name)
        if data is None:
            data = self._symbols[name] = SymbolData(name)
        market = engine.market(name)
        if market is not None:
            trades = market.trades
            known = len(data.tape)
            if len(trades) > known:
                data.tape.extend(trades[known:])
        return data

    def depth(self, name: str, limit: int) -> tuple[int, list[Level], list[Level]]:
        """Return (lastUpdateId, bids, asks) of the top `limit` levels, read consistently."""
        bids, asks = self.engine.depth(name, limit)
        update_id = self.symbol(name).book.observe(bids, asks, limit)
        return update_id, bids, asks

    def full_depth(self, name: str) -> tuple[int, list[Level], list[Level]]:
        """Return the whole book with its update id."""
        return self.depth(name, FULL_DEPTH)

    def best(self, name: str) -> tuple[int, Level | None, Level | None]:
        """Return (update id, best bid, best ask)."""
        update_id, bids, asks = self.depth(name, 1)
        return update_id, bids[0] if bids else None, asks[0] if asks else None

    def last_price(self, name: str) -> Decimal | None:
        """Return the price of the symbol's last trade."""
        trades = self.symbol(name).tape.trades
        return trades[-1].price if trades else None
