"""One symbol's market: the entry points for placing, canceling and amending, and queries.

`Market` is the last layer of a chain that splits one symbol's matching into concerns
(market_state.py: state and an order's settlement; stp.py: self-trade prevention;
matching.py: trades; stop_orders.py: stop triggers; placing.py: validation and acceptance).

Balances (all via `Ledger`):
- Placing locks what the order could spend: BUY limit-priced orders lock
  trunc(price * qty) of quote, SELL orders lock qty of base, MARKET BUY by quantity locks the
  cost of sweeping the book now, MARKET BUY by quoteOrderQty locks quoteOrderQty.
- Each fill takes the traded amounts out of the two orders' locks; a BUY that fills below its
  limit, or loses quantity to STP, has its lock cut back to trunc(price * remaining). A terminal
  order releases whatever is still locked.
- Commission is charged on the asset received (base for the buyer, quote for the seller) at
  (maker|taker + buyer|seller) rate, truncated to the commission precision (commission_faq.md).
- Per-fill quote amounts are truncated to the quote asset precision; because truncation is
  subadditive the lock always covers the fills.

Ids are per-symbol counters: orderId and tradeId from 1, preventedMatchId from 0, executionId
from 1. Nothing reads a clock; `now_ms` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from localspot.domain import rejections as rj
from localspot.domain.accounts import Account
from localspot.domain.commands import AmendOrder, CancelOrder
from localspot.domain.enums import (
    CancelRestrictions,
    FilterType,
    OrderStatus,
    SymbolStatus,
)
from localspot.domain.events import Event, OrderAmended, OrderCanceled
from localspot.domain.orders import Amendment, Order, is_open
from localspot.domain.placing import Placing

_FILLED: Final = OrderStatus.FILLED
_PARTIAL: Final = OrderStatus.PARTIALLY_FILLED
_NEW: Final = OrderStatus.NEW
_CANCELABLE: Final = frozenset({SymbolStatus.TRADING, SymbolStatus.CANCEL_ONLY})


class Market(Placing):
    """State and matching of one symbol."""

    # -- cancel and amend ------------------------------------------------------------------

    def find(
        self, account_id: int, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        """Find an account's order by id and/or client order id (both must agree)."""
        if order_id is not None:
            order = self.order_by_id(order_id)
            if order is None or order.account_id != account_id:
                return None
            if client_order_id is not None and order.client_order_id != client_order_id:
                return None
            return order
        if client_order_id is not None:
            return self.order_by_client_id(account_id, client_order_id)
        return None

    def cancel(self, cmd: CancelOrder, account: Account, now_ms: int) -> list[Event]:
        """Cancel one open order."""
        if self.spec.status not in _CANCELABLE:
            return [rj.CANCEL_MARKET_CLOSED]
        if not account.can_trade:
            return [rj.CANCEL_ACCOUNT_CANNOT_TRADE]
        order_id, client_order_id = cmd.order_id, cmd.orig_client_order_id
        if order_id is None and client_order_id is None:
            return [rj.CANCEL_INVALID]
        order = self.find(account.account_id, order_id, client_order_id)
        if order is None or not is_open(order.status):
            return [rj.CANCEL_UNKNOWN_ORDER]
        restriction = cmd.cancel_restrictions
        if restriction is not None and (
            (restriction is CancelRestrictions.ONLY_NEW and order.status is not _NEW)
            or (
                restriction is CancelRestrictions.ONLY_PARTIALLY_FILLED
                and order.status is not _PARTIAL
            )
        ):
            return [rj.CANCEL_RESTRICTED]
        events: list[Event] = []
        self._cancel(order, cmd.new_client_order_id, now_ms, events)
        return events

    def cancel_all(self, account: Account, now_ms: int) -> list[Event]:
        """Cancel every open order of the account on this symbol."""
        if self.spec.status not in _CANCELABLE:
            return [rj.CANCEL_MARKET_CLOSED]
        if not account.can_trade:
            return [rj.CANCEL_ACCOUNT_CANNOT_TRADE]
        open_orders = self.open_by_account.get(account.account_id)
        if not open_orders:
            return [rj.CANCEL_UNKNOWN_ORDER]
        events: list[Event] = []
        for order in sorted(open_orders.values(), key=lambda o: o.order_id):
            self._cancel(order, None, now_ms, events)
        return events

    def _cancel(
        self, order: Order, new_client_id: str | None, now_ms: int, events: list[Event]
    ) -> None:
        orig_client_id = order.client_order_id
        self._rename(order, new_client_id)
        order.status = OrderStatus.CANCELED
        order.update_time_ms = now_ms
        if order.in_book:
            self.book.remove(order)
        elif order in self.waiting_stops:
            self.waiting_stops.remove(order)
        self._close(order)
        execution_id = self.next_execution_id
        self.next_execution_id = execution_id + 1
        events.append(OrderCanceled(order, orig_client_id, execution_id, now_ms))

    def amend(self, cmd: AmendOrder, account: Account, now_ms: int) -> list[Event]:
        """Reduce an open order's quantity in place (order_amend_keep_priority.md)."""
        spec = self.spec
        if not spec.amend_allowed:
            return [rj.AMEND_NOT_SUPPORTED]
        if spec.status is not SymbolStatus.TRADING:
            return [rj.AMEND_MARKET_CLOSED]
        if not account.can_trade:
            return [rj.AMEND_ACCOUNT_CANNOT_TRADE]
        order = self.find(account.account_id, cmd.order_id, cmd.orig_client_order_id)
        if order is None or not order.status.is_open:
            return [rj.AMEND_UNKNOWN_ORDER]
        new_raw = cmd.new_qty.raw(self.qd)
        if new_raw is None:
            return [rj.too_much_precision("newQty")]
        if new_raw > order.qty_raw:
            return [rj.AMEND_INCREASE]
        if new_raw == order.qty_raw:
            return [rj.AMEND_NO_CHANGE]
        raw = spec.raw
        if new_raw <= 0 or (
            spec.lot_size is not None
            and (new_raw < raw.min_qty or (raw.step and new_raw % raw.step))
        ):
            return [rj.filter_failure(FilterType.LOT_SIZE)]
        if spec.max_num_order_amends is not None and order.amend_count >= spec.max_num_order_amends:
            return [rj.filter_failure(FilterType.MAX_NUM_ORDER_AMENDS)]
        return self._amend(order, new_raw, cmd.new_client_order_id, now_ms)

    def _amend(
        self, order: Order, new_raw: int, new_client_id: str | None, now_ms: int
    ) -> list[Event]:
        orig_client_id, orig_qty = order.client_order_id, order.orig_qty
        self._rename(order, new_client_id)
        order.qty_raw = new_raw
        order.amend_count += 1
        order.update_time_ms = now_ms
        remaining = order.remaining_raw
        if remaining <= 0:
            # Amended down to (or below) what already executed: nothing is left to trade.
            order.status = _FILLED
            if order.in_book:
                self.book.remove(order)
            elif order in self.waiting_stops:
                self.waiting_stops.remove(order)
            self._close(order)
        else:
            if order.in_book and order.visible_raw > remaining:
                level = self.book.side_of(order).levels[order.price_raw]
                level.total_raw -= order.visible_raw - remaining
                order.visible_raw = remaining
            self._relock(order)
        amendment = Amendment(
            self.spec.symbol,
            order.order_id,
            self._execution_id(),
            orig_client_id,
            order.client_order_id,
            orig_qty,
            order.orig_qty,
            now_ms,
        )
        self.amendments.setdefault(order.order_id, []).append(amendment)
        return [OrderAmended(order, amendment, now_ms)]

    # -- queries ---------------------------------------------------------------------------

    def open_orders(self, account_id: int) -> list[Order]:
        """Open orders of an account, oldest first."""
        return sorted(self.open_by_account.get(account_id, {}).values(), key=lambda o: o.order_id)

    def account_orders(self, account_id: int) -> Iterator[Order]:
        """All orders of an account (open and closed), by orderId."""
        return iter(self.orders_by_account.get(account_id, ()))
