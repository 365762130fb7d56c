"""A symbol's trade tape: its trades in id order and the aggregate trades built from them.

Aggregation (web-socket-api.md "Aggregate trades"): trades that fill at the same time, from the
same taker order, at the same price form one aggregate trade whose quantity is their sum. Only
consecutive trades can share an aggregate: a taker's fills are consecutive in the tape, and a
new price or a new time starts a new aggregate.

Invariants: `trades` are in increasing, contiguous trade id order (the engine's per-symbol
counter); aggregate ids are contiguous from 0 (decision: Binance's first aggTrade id on a
symbol is 0, while localspot's trade ids start at 1, as the engine numbers them); every trade
belongs to exactly one aggregate, and `agg_index[i]` names the aggregate of `trades[i]`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from localspot.domain.orders import Trade


@dataclass(slots=True)
class AggTrade:
    """One aggregate trade; `qty` and `last_id` grow while the same taker keeps filling."""

    agg_id: int
    price: Decimal
    qty: Decimal
    first_id: int
    last_id: int
    time_ms: int
    is_buyer_maker: bool
    taker_order_id: int


def taker_order_id(trade: Trade) -> int:
    """Return the order id of the trade's taker."""
    return trade.seller_order_id if trade.is_buyer_maker else trade.buyer_order_id


class Tape:
    """The trades of one symbol with indexes for id, time and aggregate lookups."""

    __slots__ = ("agg_index", "agg_times", "aggs", "times", "trades")

    def __init__(self) -> None:
        self.trades: list[Trade] = []
        self.times: list[int] = []
        self.aggs: list[AggTrade] = []
        self.agg_times: list[int] = []
        self.agg_index: list[int] = []

    def __len__(self) -> int:
        return len(self.trades)

    def extend(self, trades: Iterable[Trade]) -> None:
        """Append trades (newer than every trade already on the tape)."""
        for trade in trades:
            self._append(trade)

    def _append(self, trade: Trade) -> None:
        self.trades.append(trade)
        self.times.append(trade.time_ms)
        last = self.aggs[-1] if self.aggs else None
        taker = taker_order_id(trade)
        if (
            last is not None
            and last.taker_order_id == taker
            and last.price == trade.price
            and last.time_ms == trade.time_ms
            and last.is_buyer_maker == trade.is_buyer_maker
        ):
            last.qty += trade.qty
            last.last_id = trade.trade_id
        else:
            last = AggTrade(
                len(self.aggs),
                trade.price,
                trade.qty,
                trade.trade_id,
                trade.trade_id,
                trade.time_ms,
                trade.is_buyer_maker,
                taker,
            )
            self.aggs.append(last)
            self.agg_times.append(trade.time_ms)
        self.agg_index.append(last.agg_id)

    # -- trades ------------------------------------------------------------------------------

    def _index_of_id(self, trade_id: int) -> int:
        if not self.trades:
            return 0
        return min(max(trade_id - self.trades[0].trade_id, 0), len(self.trades))

    def recent(self, limit: int) -> list[Trade]:
        """Return the last `limit` trades, oldest first."""
        return self.trades[-limit:] if limit else []

    def from_id(self, trade_id: int, limit: int) -> list[Trade]:
        """Return up to `limit` trades with id >= `trade_id`, oldest first."""
        start = self._index_of_id(trade_id)
        return self.trades[start : start + limit]

    def between(self, start_ms: int, end_ms: int) -> list[Trade]:
        """Return the trades with start_ms <= time <= end_ms."""
        times = self.times
        return self.trades[bisect_left(times, start_ms) : bisect_right(times, end_ms)]

    def index_range(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """Return [lo, hi) indexes of the trades with start_ms <= time <= end_ms."""
        times = self.times
        return bisect_left(times, start_ms), bisect_right(times, end_ms)

    def last_before(self, time_ms: int) -> Trade | None:
        """Return the last trade strictly before `time_ms`."""
        index = bisect_left(self.times, time_ms)
        return self.trades[index - 1] if index else None

    # -- aggregate trades --------------------------------------------------------------------

    def agg_of(self, trade_id: int) -> AggTrade:
        """Return the aggregate trade holding trade `trade_id` (which must be on the tape)."""
        return self.aggs[self.agg_index[self._index_of_id(trade_id)]]

    def aggregates(
        self,
        limit: int,
        from_id: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[AggTrade]:
        """Return aggregate trades as `trades.aggregate` selects them, oldest first.

        `from_id`: ids >= from_id. `start_ms`: the first `limit` from that time on (up to
        `end_ms` if given). Only `end_ms`: the last `limit` up to that time. Nothing: the most
        recent `limit`.
        """
        aggs = self.aggs
        if from_id is not None:
            start = min(max(from_id, 0), len(aggs))
            return aggs[start : start + limit]
        hi = len(aggs) if end_ms is None else bisect_right(self.agg_times, end_ms)
        if start_ms is not None:
            lo = bisect_left(self.agg_times, start_ms)
            return aggs[lo : min(hi, lo + limit)]
        return aggs[max(0, hi - limit) : hi] if limit else []
