"""Stop orders beside the book: armed at placement, triggered by trades, then worked.

A STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT) order waits in `waiting_stops` (not in the book, not
working, `workingTime` -1) until a trade price meets its rule (stops.py); matching moves it to
`triggered`, and `_run_triggered` works the triggered orders in trigger order once the command's
own matching is done, each as its MARKET or LIMIT counterpart. Their trades may trigger more.

Known limitation (engine.py): a STOP_LOSS / TAKE_PROFIT BUY locks nothing while waiting; at
trigger it locks what sweeping the book costs, up to the free quote balance.
"""

from __future__ import annotations

from decimal import Decimal

from localspot.domain import stops
from localspot.domain.enums import OrderStatus
from localspot.domain.events import Event, OrderTriggered
from localspot.domain.matching import Matching
from localspot.domain.numbers import to_raw
from localspot.domain.orders import Order

_OPEN = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_NEW})


class StopOrders(Matching):
    """Arming, triggering and working stop orders."""

    def _arm_stop(self, order: Order, now_ms: int) -> None:
        order.is_working = False
        order.working_time_ms = -1
        if order.trailing_delta and not order.stop_raw and self.last_price_raw is not None:
            stops.start_tracking(order, self.last_price_raw, now_ms)
        self.waiting_stops.append(order)

    def _run_triggered(self, now_ms: int, events: list[Event]) -> None:
        while self.triggered:
            order = self.triggered.pop(0)
            if order.status not in _OPEN:
                continue
            order.is_working = True
            order.working_time_ms = now_ms
            order.update_time_ms = now_ms
            events.append(OrderTriggered(order, self._execution_id(), now_ms))
            if order.is_buy and not order.price_raw:
                self._lock_market_buy(order)
            self._work(order, now_ms, events)

    def _lock_market_buy(self, order: Order) -> None:
        account = self._account(order.account_id)
        cost = self._sweep(order, order.remaining_raw, None)[1]
        balance = account.balances.get(self.quote_asset)
        free = to_raw(balance.free, self.ad) or 0 if balance is not None else 0
        amount = min(cost, free)
        if self.ledger.lock(account, self.quote_asset, Decimal(amount) * self.quote_unit):
            order.locked_raw += amount
