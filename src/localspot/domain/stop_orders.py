"""Stop orders beside the book: armed at placement, triggered by trades, then worked.

A STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT) order waits in `waiting_stops` (not in the book, not
working, `workingTime` -1) until a trade price meets its rule (stops.py); matching moves it to
`triggered`, and `_run_triggered` works the triggered orders in trigger order once the command's
own matching is done, each as its MARKET or LIMIT counterpart. Their trades may trigger more.
A pegged STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT takes its pegged price at trigger (pegs.py); a BUY
then locks its quote at that price instead of at `price`.

Known limitation (engine.py): a STOP_LOSS / TAKE_PROFIT BUY locks nothing while waiting; at
trigger it locks what sweeping the book costs, up to the free quote balance.
"""

from __future__ import annotations

from localspot.domain import pegs, stops
from localspot.domain.enums import ExpiryReason, OrderStatus
from localspot.domain.events import Event, OrderTriggered
from localspot.domain.matching import Matching
from localspot.domain.orders import Order, is_open


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
            if not is_open(order.status):
                continue
            order.is_working = True
            order.working_time_ms = now_ms
            order.update_time_ms = now_ms
            events.append(OrderTriggered(order, self._execution_id(), now_ms))
            if order.peg_price_type is not None and not self._peg_at_trigger(order, now_ms, events):
                continue
            if order.is_buy and not order.price_raw:
                self._lock_market_buy(order)
            self._work(order, now_ms, events)

    def _peg_at_trigger(self, order: Order, now_ms: int, events: list[Event]) -> bool:
        # pegged_orders.md: a pegged stop-limit order enters at the best price when triggered.
        price = pegs.peg_price(self.book, order)
        if price is None:
            reason = ExpiryReason.INSUFFICIENT_LIQUIDITY
            self._expire(order, OrderStatus.EXPIRED, reason, 0, now_ms, events)
            return False
        if order.is_buy:
            required = self.quote_of(price, order.remaining_raw)
            extra = required - order.locked_raw
            if extra < 0:
                self._unlock(order, -extra)
            elif extra and not self.ledger.lock(
                self._account(order.account_id), self.quote_asset, self.quote_balance(extra)
            ):
                reason = ExpiryReason.REJECTED
                self._expire(order, OrderStatus.EXPIRED, reason, 0, now_ms, events)
                return False
            order.locked_raw = required
        order.price_raw = order.pegged_price_raw = price
        return True

    def _lock_market_buy(self, order: Order) -> None:
        account = self._account(order.account_id)
        cost = self._sweep(order, order.remaining_raw, None)[1]
        balance = account.balances.get(self.quote_asset)
        free = balance.free_raw // self.quote_factor if balance is not None else 0
        amount = min(cost, free)
        if self.ledger.lock(account, self.quote_asset, self.quote_balance(amount)):
            order.locked_raw += amount
