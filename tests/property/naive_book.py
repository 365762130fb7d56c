"""A deliberately naive reference order book: Decimal orders in plain lists, sorted on demand.

Used as an oracle by the engine property tests and as the baseline in bench/engine.py. It knows
price-time priority, GTC/IOC/FOK, MARKET by quantity, cancel and amend-down; nothing else (no
balances, no STP, no filters).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

Fill = tuple[int, int, Decimal, Decimal]
"""(maker order id, taker order id, price, quantity)"""


@dataclass
class NaiveOrder:
    """A resting order."""

    order_id: int
    is_buy: bool
    price: Decimal
    qty: Decimal
    executed: Decimal
    seq: int

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.executed


class NaiveBook:
    """Bids and asks as unsorted lists of orders."""

    def __init__(self) -> None:
        self.bids: list[NaiveOrder] = []
        self.asks: list[NaiveOrder] = []
        self.seq = 0

    def sorted_bids(self) -> list[NaiveOrder]:
        return sorted(self.bids, key=lambda o: (-o.price, o.seq))

    def sorted_asks(self) -> list[NaiveOrder]:
        return sorted(self.asks, key=lambda o: (o.price, o.seq))

    def _crossing(self, is_buy: bool, price: Decimal | None) -> list[NaiveOrder]:
        if is_buy:
            return [o for o in self.sorted_asks() if price is None or o.price <= price]
        return [o for o in self.sorted_bids() if price is None or o.price >= price]

    def place(
        self, order_id: int, is_buy: bool, price: Decimal | None, qty: Decimal, tif: str = "GTC"
    ) -> list[Fill]:
        """Match a new order (price None = MARKET) and rest what a GTC limit has left."""
        crossing = self._crossing(is_buy, price)
        if tif == "FOK" and sum(o.remaining for o in crossing) < qty:
            return []
        fills: list[Fill] = []
        left = qty
        for maker in crossing:
            if left <= 0:
                break
            take = min(left, maker.remaining)
            maker.executed += take
            left -= take
            fills.append((maker.order_id, order_id, maker.price, take))
            if maker.remaining == 0:
                (self.asks if is_buy else self.bids).remove(maker)
        if left > 0 and price is not None and tif == "GTC":
            self.seq += 1
            order = NaiveOrder(order_id, is_buy, price, left, Decimal(0), self.seq)
            (self.bids if is_buy else self.asks).append(order)
        return fills

    def find(self, order_id: int) -> NaiveOrder | None:
        for order in self.bids + self.asks:
            if order.order_id == order_id:
                return order
        return None

    def cancel(self, order_id: int) -> bool:
        order = self.find(order_id)
        if order is None:
            return False
        (self.bids if order.is_buy else self.asks).remove(order)
        return True

    def reduce(self, order_id: int, new_remaining: Decimal) -> bool:
        """Lower an order's remaining quantity in place (keeps its priority)."""
        order = self.find(order_id)
        if order is None:
            return False
        if new_remaining <= 0:
            return self.cancel(order_id)
        order.qty = order.executed + new_remaining
        return True

    def levels(
        self,
    ) -> tuple[list[tuple[int, Decimal, Decimal]], list[tuple[int, Decimal, Decimal]]]:
        """(order id, price, remaining) per side in priority order."""
        return (
            [(o.order_id, o.price, o.remaining) for o in self.sorted_bids()],
            [(o.order_id, o.price, o.remaining) for o in self.sorted_asks()],
        )
