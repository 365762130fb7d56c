"""Placing an order: validation in Binance's order, then acceptance, locking and working it.

Checks, first failure wins (the order of the real testnet where binance-observed.md saw it):
1. `_check_allowed`: market open, account may trade and holds the symbol's permissions, the
   type and features (iceberg, quoteOrderQty, trailing, peg (pegs.py), STP mode) are allowed,
   mandatory parameters are present (`price` is optional with a peg).
2. `_build`: values fit the symbol's precision (-1111), then the `Order` is built (a client
   order id is generated here when none was sent, even if a later check rejects the order); a
   pegged LIMIT/LIMIT_MAKER takes its pegged price here or is refused for lack of a level.
3. The symbol's filters (filters.py), -1013, at the pegged price and also at `price` if sent.
4. `_check_engine`: the matching engine's rejections (-2010): zero price, iceberg size,
   duplicate client id, stop that would trigger now, LIMIT_MAKER that would take, quote-order
   liquidity, and finally the balance lock.

Locks (market.py "Balances"): a SELL locks its quantity of base; a priced BUY locks
trunc(price * qty) of quote, a MARKET BUY by quantity what sweeping the book costs now, by
quoteOrderQty that amount; a STOP_LOSS/TAKE_PROFIT BUY locks at trigger time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from localspot.domain import pegs, stops
from localspot.domain import rejections as rj
from localspot.domain.accounts import Account
from localspot.domain.book import PriceLevel
from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import FilterType, OrderType, TimeInForce
from localspot.domain.events import CommandRejected, Event, OrderAccepted
from localspot.domain.filters import OpenCounts
from localspot.domain.numbers import to_raw
from localspot.domain.orders import Order, is_open
from localspot.domain.stop_orders import StopOrders

_REQUIRED: Final = {
    OrderType.LIMIT: (True, True, True),
    OrderType.LIMIT_MAKER: (False, True, True),
    OrderType.MARKET: (False, False, False),
    OrderType.STOP_LOSS: (False, False, True),
    OrderType.STOP_LOSS_LIMIT: (True, True, True),
    OrderType.TAKE_PROFIT: (False, False, True),
    OrderType.TAKE_PROFIT_LIMIT: (True, True, True),
}
"""Mandatory parameters per type: (timeInForce, price, quantity), checked in that order (-1102)."""

_STOPS: Final = frozenset(t for t in OrderType if t.is_stop)
_PRICED: Final = frozenset(t for t in OrderType if t.has_limit_price)
_GTC: Final = TimeInForce.GTC


def _level_remaining(level: PriceLevel) -> int:
    return sum(order.remaining_raw for order in level.live())


class Placing(StopOrders):
    """Validating, accepting and starting new orders."""

    def place(self, cmd: PlaceOrder, account: Account, now_ms: int) -> list[Event]:
        """Validate, accept and work a new order."""
        rejected = self._check_allowed(cmd, account)
        if rejected is not None:
            return [rejected]
        order = self._build(cmd, account, now_ms)
        if type(order) is CommandRejected:
            return [order]
        assert isinstance(order, Order)
        failed = self._filter_failure(order, account, now_ms)
        if failed is not None:
            return [rj.filter_failure(failed)]
        rejected = self._check_engine(order, account)
        if rejected is not None:
            return [rejected]
        order_id = order.order_id = self.next_order_id
        self.next_order_id = order_id + 1
        self._register(order)
        execution_id = self.next_execution_id
        self.next_execution_id = execution_id + 1
        events: list[Event] = [OrderAccepted(order, execution_id, now_ms)]
        if order.is_stop:
            self._arm_stop(order, now_ms)
        else:
            self._work(order, now_ms, events)
        if self.triggered:
            self._run_triggered(now_ms, events)
        return events

    def check(self, cmd: PlaceOrder, account: Account, now_ms: int) -> CommandRejected | None:
        """Run the checks `place` starts with (1 to 3 above) and change nothing (order.test).

        The matching engine's own checks (4) are left out: they need the order in the book's
        context (duplicates, would-trigger, would-take, the balance lock). A generated client
        order id would use up a number, so the dry run never generates one.
        """
        rejected = self._check_allowed(cmd, account)
        if rejected is not None:
            return rejected
        if cmd.client_order_id is None:
            cmd = replace(cmd, client_order_id="dryRun")
        order = self._build(cmd, account, now_ms)
        if type(order) is CommandRejected:
            return order
        assert isinstance(order, Order)
        failed = self._filter_failure(order, account, now_ms)
        return None if failed is None else rj.filter_failure(failed)

    def _filter_failure(self, order: Order, account: Account, now_ms: int) -> FilterType | None:
        counts = self._counts(account)
        failed = self.rules.first_failure(order, counts, now_ms)
        if failed is None and order.pegged_price_raw and order.sent_price_raw:
            # pegged_orders.md: a pegged order that sends `price` must pass at both prices.
            order.price_raw = order.sent_price_raw
            failed = self.rules.first_failure(order, counts, now_ms)
            order.price_raw = order.pegged_price_raw
        return failed

    def _check_allowed(self, cmd: PlaceOrder, account: Account) -> CommandRejected | None:
        spec = self.spec
        if not self.is_trading:
            return rj.MARKET_CLOSED
        if not account.can_trade:
            return rj.ACCOUNT_CANNOT_TRADE
        permitted = self.permitted.get(account.permissions)
        if permitted is None:
            permitted = self._is_permitted(account.permissions)
        if not permitted:
            return rj.SYMBOL_NOT_PERMITTED
        order_type = cmd.order_type
        if order_type not in spec.order_types:
            return rj.TYPE_NOT_SUPPORTED.get(order_type, rj.UNSUPPORTED_COMBINATION)
        if cmd.iceberg_qty is not None and not spec.iceberg_allowed:
            return rj.ICEBERG_NOT_SUPPORTED
        if cmd.quote_order_qty is not None and not spec.quote_order_qty_market_allowed:
            return rj.QUOTE_QTY_NOT_SUPPORTED
        if cmd.trailing_delta is not None and not spec.allow_trailing_stop:
            return rj.TRAILING_NOT_SUPPORTED
        rejected = pegs.peg_rejection(cmd, spec)
        if rejected is not None:
            return rejected
        if cmd.stp_mode is not None and cmd.stp_mode not in spec.allowed_stp_modes:
            return rj.STP_MODE_NOT_ALLOWED
        needs_tif, needs_price, needs_qty = _REQUIRED[order_type]
        if needs_tif and cmd.time_in_force is None:
            return rj.mandatory("timeInForce")
        # web-socket-api.md, pegged orders notes: with `pegPriceType`, `price` is optional.
        if needs_price and cmd.price is None and cmd.peg_price_type is None:
            return rj.mandatory("price")
        if needs_qty and cmd.quantity is None:
            return rj.mandatory("quantity")
        if order_type is OrderType.MARKET and cmd.quantity is None and cmd.quote_order_qty is None:
            return rj.mandatory("quantity")
        if order_type in _STOPS and cmd.stop_price is None and cmd.trailing_delta is None:
            return rj.mandatory("stopPrice")
        return None

    def _is_permitted(self, permissions: tuple[str, ...]) -> bool:
        known = self.permitted.get(permissions)
        if known is None:
            held, sets = set(permissions), self.spec.permission_sets
            known = self.permitted[permissions] = not sets or any(set(s) <= held for s in sets)
        return known

    def _build(self, cmd: PlaceOrder, account: Account, now_ms: int) -> Order | CommandRejected:
        order_type = cmd.order_type
        price_raw = qty_raw = quote_raw = stop_raw = iceberg_raw = 0
        has_limit_price = order_type in _PRICED
        if has_limit_price and cmd.price is not None:
            raw = cmd.price.raw(self.pd)
            if raw is None:
                return rj.too_much_precision("price")
            price_raw = raw
        if cmd.quantity is not None:
            raw = cmd.quantity.raw(self.qd)
            if raw is None:
                return rj.too_much_precision("quantity")
            qty_raw = raw
        elif cmd.quote_order_qty is not None:
            raw = cmd.quote_order_qty.raw(self.ad)
            if raw is None:
                return rj.too_much_precision("quoteOrderQty")
            quote_raw = raw
        if cmd.stop_price is not None:
            raw = cmd.stop_price.raw(self.pd)
            if raw is None:
                return rj.too_much_precision("stopPrice")
            stop_raw = raw
        if cmd.iceberg_qty is not None:
            raw = cmd.iceberg_qty.raw(self.qd)
            if raw is None:
                return rj.too_much_precision("icebergQty")
            iceberg_raw = raw
            if cmd.time_in_force not in (None, _GTC):
                return rj.UNSUPPORTED_COMBINATION
        tif = cmd.time_in_force if has_limit_price and cmd.time_in_force else _GTC
        order = Order(
            self.spec,
            0,
            cmd.client_order_id or "",
            account.account_id,
            cmd.side,
            order_type,
            tif,
            price_raw,
            qty_raw,
            cmd.stp_mode or self.spec.default_stp_mode,
            now_ms,
            account.trade_group_id,
            quote_raw,
            stop_raw,
            cmd.trailing_delta or 0,
            iceberg_raw,
            cmd.iceberg_qty is not None,
            cmd.strategy_id,
            cmd.strategy_type,
        )
        if not cmd.client_order_id:
            order.set_generated_client_id(self.new_client_seq())
        if cmd.peg_price_type is None:
            return order
        order.peg_price_type = cmd.peg_price_type
        order.peg_offset_value = cmd.peg_offset_value
        if order.is_stop:
            return order  # pegged when triggered (stop_orders.py)
        pegged = pegs.peg_price(self.book, order)
        if pegged is None:
            return rj.PEG_NO_LIQUIDITY
        order.price_raw = order.pegged_price_raw = pegged
        return order

    def _counts(self, account: Account) -> OpenCounts:
        account_id = account.account_id
        open_orders = self.open_by_account.get(account_id)
        counts = OpenCounts(
            len(open_orders) if open_orders else 0,
            self.open_algo.get(account_id, 0),
            self.open_iceberg.get(account_id, 0),
        )
        if self.spec.max_position is not None:
            if open_orders:
                counts.buy_qty_raw = sum(o.remaining_raw for o in open_orders.values() if o.is_buy)
            base = account.balances.get(self.base_asset)
            counts.base_total_raw = to_raw(base.total, self.qd) or 0 if base is not None else 0
        return counts

    def _check_engine(self, order: Order, account: Account) -> CommandRejected | None:
        order_type = order.type
        if (
            order.has_limit_price
            and order.qty_raw
            and not order.price_raw
            and order.peg_price_type is None
        ):
            return rj.PRICE_QTY_ZERO
        if order.iceberg_raw and order.iceberg_raw >= order.qty_raw:
            return rj.ICEBERG_EXCEEDS_QTY
        if not order.client_id_seq:  # a generated id is new by construction
            previous = self.order_by_client_id(order.account_id, order.client_order_id)
            if previous is not None and is_open(previous.status):
                return rj.DUPLICATE_ORDER
        if order.is_stop:
            last = self.last_price_raw
            if (
                not order.trailing_delta
                and last is not None
                and stops.stop_condition_met(order, last)
            ):
                return rj.WOULD_TRIGGER
        elif order_type is OrderType.LIMIT_MAKER and self._crosses(order):
            return rj.WOULD_TAKE
        if order.is_quote_order:
            rejected = self._size_quote_order(order)
            if rejected is not None:
                return rejected
        return None if self._lock_for(order, account) else rj.INSUFFICIENT_BALANCE

    def _crosses(self, order: Order) -> bool:
        best = self.book.opposite_of(order).best_price_raw()
        if best is None:
            return False
        return best <= order.price_raw if order.is_buy else best >= order.price_raw

    def _size_quote_order(self, order: Order) -> CommandRejected | None:
        # market_orders_faq.md / errors.md: quote-quantity MARKET orders need liquidity; the
        # quantity is what the quote buys (or must sell) at today's book, in LOT_SIZE steps.
        opposite = self.book.opposite_of(order)
        if not len(opposite):
            return rj.NO_LIQUIDITY
        available = sum(
            level.count and _level_remaining(level) for level in opposite.levels.values()
        )
        if available < self.spec.raw.min_qty:
            return rj.LIQUIDITY_BELOW_LOT_SIZE
        qty, _ = self._sweep(order, None, order.orig_quote_raw)
        order.qty_raw = order.visible_raw = qty
        return None

    def _lock_for(self, order: Order, account: Account) -> bool:
        if not order.is_buy:
            amount = order.qty_raw
            asset, amount_b = self.base_asset, self.base_balance(amount)
        else:
            if order.price_raw:
                amount = self.quote_of(order.price_raw, order.qty_raw)
            elif order.is_quote_order:
                amount = order.orig_quote_raw
            elif order.type is OrderType.MARKET:
                amount = self._sweep(order, order.qty_raw, None)[1]
            else:
                amount = 0  # STOP_LOSS/TAKE_PROFIT BUY: funds are taken at trigger time
            asset, amount_b = self.quote_asset, self.quote_balance(amount)
        # Ledger.lock, written out.
        balance = account.balances.get(asset)
        if balance is None or balance.free_raw < amount_b:
            if amount_b != 0:
                return False
        elif amount_b:
            balance = self.ledger.touch(account, asset)
            balance.free_raw -= amount_b
            balance.locked_raw += amount_b
        order.locked_raw = amount
        return True

    def _register(self, order: Order) -> None:
        account_id = order.account_id
        self.orders.append(order)  # order ids are handed out in order, from 1
        history = self.orders_by_account.get(account_id)
        if history is None:
            history = self.orders_by_account[account_id] = []
        history.append(order)
        if order.client_id_seq:
            self.generated_ids[order.client_id_seq] = order
        else:
            self.client_ids[(account_id, order.client_order_id)] = order
        by_account = self.open_by_account.get(account_id)
        if by_account is None:
            by_account = self.open_by_account[account_id] = {}
        by_account[order.order_id] = order
        if order.is_stop:
            self.open_algo[account_id] = self.open_algo.get(account_id, 0) + 1
        if order.iceberg_raw:
            self.open_iceberg[account_id] = self.open_iceberg.get(account_id, 0) + 1
