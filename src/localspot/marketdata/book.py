"""The order book as market data sees it: price levels, a book update id and a change log.

The engine's book has no update id, so market data keeps a mirror of its levels and numbers
what it sees change. Every time someone looks at the book (a `depth` request, a depth or
bookTicker stream), the levels looked at are compared with the mirror; if any differs, the
update id goes up by one and the changed levels (new quantity, 0 for a removed level) are
logged under that id. Hence:

- `lastUpdateId` of a snapshot describes exactly the levels in it: the snapshot and the mirror
  agree at that id, because the comparison and the snapshot are the same reading.
- Diff depth events carry every logged change with ids in [U, u]; replaying them on a snapshot
  by web-socket-streams.md "How to manage a local order book correctly" gives the book at `u`.
- The id increases whenever a look finds the book changed. Changes nobody looked at in between
  share one id (a cancel undone by an identical new order is never seen at all); Binance's ids
  count every engine update, so localspot's ids grow more slowly (documented difference).

A partial look (the top N levels of a side) compares only the price range it covers: mirror
levels inside it that the look did not see are gone, levels beyond it are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from localspot.domain.numbers import ZERO

Level = tuple[Decimal, Decimal]
# (update id, is bid, price, quantity); quantity 0 removes the level.
Change = tuple[int, bool, Decimal, Decimal]


class BookMirror:
    """One symbol's levels as last seen, the update id and (while someone reads it) the log."""

    __slots__ = ("asks", "bids", "log", "retain", "update_id")

    def __init__(self, update_id: int = 0) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.update_id = update_id
        self.log: list[Change] = []
        self.retain = False

    def observe(
        self, bids: Sequence[Level], asks: Sequence[Level], depth: int | None = None
    ) -> int:
        """Compare a reading of the book (best first, at most `depth` levels a side, None for
        all) with the mirror; return the update id that describes it."""
        changes: list[tuple[bool, Decimal, Decimal]] = []
        _compare(self.bids, bids, depth, True, changes)
        _compare(self.asks, asks, depth, False, changes)
        if changes:
            self.update_id += 1
            if self.retain:
                uid = self.update_id
                self.log.extend((uid, is_bid, price, qty) for is_bid, price, qty in changes)
        return self.update_id

    def changes_since(self, update_id: int) -> list[Change]:
        """Return the logged changes with ids > `update_id`, oldest first."""
        log = self.log
        lo, hi = 0, len(log)
        while lo < hi:
            mid = (lo + hi) // 2
            if log[mid][0] <= update_id:
                lo = mid + 1
            else:
                hi = mid
        return log[lo:]

    def discard_until(self, update_id: int) -> None:
        """Forget logged changes with ids <= `update_id` (every reader has them)."""
        if self.log and self.log[0][0] <= update_id:
            self.log = self.changes_since(update_id)


def _compare(
    mirror: dict[Decimal, Decimal],
    seen: Sequence[Level],
    depth: int | None,
    is_bid: bool,
    changes: list[tuple[bool, Decimal, Decimal]],
) -> None:
    if depth == 0:
        return
    seen_prices = set()
    for price, qty in seen:
        seen_prices.add(price)
        if mirror.get(price) != qty:
            mirror[price] = qty
            changes.append((is_bid, price, qty))
    complete = depth is None or len(seen) < depth
    if complete:
        gone = [p for p in mirror if p not in seen_prices]
    else:
        edge = seen[-1][0]
        if is_bid:
            gone = [p for p in mirror if p >= edge and p not in seen_prices]
        else:
            gone = [p for p in mirror if p <= edge and p not in seen_prices]
    for price in gone:
        del mirror[price]
        changes.append((is_bid, price, ZERO))
