"""The order book of one symbol: price levels of FIFO queues, in scaled integers.

Book layout:
- Two `BookSide`s. Each maps a raw price (int, see symbols.py) to a `PriceLevel` and keeps the
  prices in a sorted list `keys` whose *last* element is the best price: bids are stored as
  `price`, asks as `-price`, so taking the best level or dropping it is O(1) at the list's end
  and adding a level is a bisect.
- A `PriceLevel` holds a deque of orders in time priority, the number of live orders and the
  total visible quantity (an iceberg counts its visible part only).
- Removal is lazy: a canceled or expired order is flagged (`in_book = False`) and its level's
  `count`/`total` adjusted at once; the dead entry is dropped when it reaches the head of the
  queue. A level whose `count` reaches zero is removed from the side immediately.

Ordering invariant:
- Within a level, live orders appear in increasing `priority` (a per-book sequence number given
  on entry). An amend that lowers the quantity keeps the number; an iceberg refill takes a new
  one and moves to the back (price-time priority, spot_glossary.md).
- After every command the book is not crossed: best bid < best ask.

Known limitations: the book holds only resting (working) orders; stop orders waiting for their
trigger live in the symbol's market, not here.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from typing import Any

from mypy_extensions import mypyc_attr

from localspot.domain.orders import Order
from localspot.domain.pickling import Reduced, reduce_with, restore


@mypyc_attr(acyclic=True)
class PriceLevel:
    """All resting orders at one price, oldest first."""

    __slots__ = ("count", "orders", "price_raw", "total_raw")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (0,))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, price_raw: int) -> None:
        self.price_raw = price_raw
        self.orders: deque[Order] = deque()
        self.count = 0
        self.total_raw = 0

    def live(self) -> Iterator[Order]:
        """Yield the live orders in priority order."""
        return (order for order in self.orders if order.in_book)

    def head(self) -> Order | None:
        """Return the first live order, dropping dead entries on the way."""
        orders = self.orders
        while orders:
            order = orders[0]
            if order.in_book:
                return order
            orders.popleft()
        return None


class BookSide:
    """One side of the book (bids or asks)."""

    __slots__ = ("is_bid", "keys", "levels")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (False,))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, PriceLevel] = {}
        self.keys: list[int] = []

    def __len__(self) -> int:
        return len(self.levels)

    def _price(self, key: int) -> int:
        # key <-> price (its own inverse). A negation, not `* sign`: compiled code multiplies
        # in machine words only operands below 2**30, and raw prices are larger.
        return key if self.is_bid else -key

    def best(self) -> PriceLevel | None:
        """Return the best level, or None if the side is empty."""
        keys = self.keys
        return self.levels[self._price(keys[-1])] if keys else None

    def best_price_raw(self) -> int | None:
        """Return the best raw price, or None."""
        keys = self.keys
        return self._price(keys[-1]) if keys else None

    def level_for(self, price_raw: int) -> PriceLevel:
        """Return the level at `price_raw`, creating it if needed."""
        level = self.levels.get(price_raw)
        if level is None:
            level = self.levels[price_raw] = PriceLevel(price_raw)
            insort(self.keys, self._price(price_raw))
        return level

    def drop_level(self, level: PriceLevel) -> None:
        """Remove an empty level."""
        key = self._price(level.price_raw)
        keys = self.keys
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]
        del self.levels[level.price_raw]

    def price_at_depth(self, depth: int) -> int | None:
        """Return the raw price `depth` levels behind the best (0 = best), or None."""
        keys = self.keys
        return self._price(keys[-1 - depth]) if depth < len(keys) else None

    def levels_best_first(self) -> Iterator[PriceLevel]:
        """Yield levels from the best price outwards."""
        levels = self.levels
        for key in reversed(self.keys):
            yield levels[self._price(key)]

    def depth(self, limit: int) -> list[tuple[int, int]]:
        """Return up to `limit` (raw price, raw visible quantity) pairs, best first."""
        out: list[tuple[int, int]] = []
        for level in self.levels_best_first():
            if len(out) >= limit:
                break
            out.append((level.price_raw, level.total_raw))
        return out


class OrderBook:
    """Bids and asks of one symbol."""

    __slots__ = ("asks", "bids", "next_priority")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, ())

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self) -> None:
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self.next_priority = 1

    def side_of(self, order: Order) -> BookSide:
        """Return the side the order rests on."""
        return self.bids if order.is_buy else self.asks

    def opposite_of(self, order: Order) -> BookSide:
        """Return the side the order trades against."""
        return self.asks if order.is_buy else self.bids

    def add(self, order: Order) -> None:
        """Put `order` at the back of its price level."""
        level = self.side_of(order).level_for(order.price_raw)
        order.priority = self.next_priority
        self.next_priority += 1
        order.in_book = True
        level.orders.append(order)
        level.count += 1
        level.total_raw += order.visible_raw

    def remove(self, order: Order) -> None:
        """Take `order` off the book (lazily; see module docstring)."""
        side = self.side_of(order)
        level = side.levels[order.price_raw]
        order.in_book = False
        level.count -= 1
        level.total_raw -= order.visible_raw
        if level.count == 0:
            side.drop_level(level)

    def requeue(self, order: Order, level: PriceLevel) -> None:
        """Move the head order `order` to the back of `level` (iceberg refill)."""
        level.orders.popleft()
        order.priority = self.next_priority
        self.next_priority += 1
        level.orders.append(order)

    def is_crossed(self) -> bool:
        """True if best bid >= best ask (never true between commands)."""
        bid, ask = self.bids.best_price_raw(), self.asks.best_price_raw()
        return bid is not None and ask is not None and bid >= ask

    def orders(self) -> Iterator[Order]:
        """Yield every live order, bids then asks, best level first, in priority."""
        for side in (self.bids, self.asks):
            for level in side.levels_best_first():
                yield from level.live()
