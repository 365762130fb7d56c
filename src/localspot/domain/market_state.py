"""One symbol's market state, and how a single order's lock and open status are settled.

`MarketState` holds everything a symbol's market remembers: its `OrderBook` (book.py), every
order by id and by client id, the open orders per account, trades, prevented matches,
amendments, waiting stop orders and the per-symbol id counters. The behaviour is layered on top,
one concern per module (the class chain is `MarketState` <- `SelfTradePrevention` (stp.py) <-
`Matching` (matching.py) <- `StopOrders` (stop_orders.py) <- `Placing` (placing.py) <- `Market`
(market.py)); each layer only calls down the chain.

Invariants kept here:
- An open order's `locked_raw` is exactly what it may still spend (`_relock`), and a terminal
  order holds no lock and is not in `open_by_account` (`_close`).
- Amounts are raw ints (symbols.py) inside; a balance move converts once, at the ledger, with
  `Decimal(raw) * unit` (numbers.py: the same Decimal as `from_raw`).

Ids are per-symbol counters: orderId and tradeId from 1, preventedMatchId from 0, executionId
from 1. Nothing reads a clock; `now_ms` is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from math import gcd
from typing import Any, Final

from localspot.domain.accounts import (
    BALANCE_DECIMALS,
    Account,
    Accounts,
    Balance,
    CommissionRates,
    Ledger,
)
from localspot.domain.book import OrderBook
from localspot.domain.enums import ExecutionType, ExpiryReason, OrderStatus, OrderType, SymbolStatus
from localspot.domain.events import Event, OrderExpired
from localspot.domain.filters import FilterRules
from localspot.domain.numbers import unit
from localspot.domain.orders import Amendment, Order, PreventedMatch, Trade, generated_seq
from localspot.domain.pickling import Reduced, reduce_with, restore
from localspot.domain.symbols import SymbolSpec

_EXPIRED_IN_MATCH: Final = OrderStatus.EXPIRED_IN_MATCH
_PRICE_CACHE_SIZE: Final = 4096
_STOPS: Final = frozenset(t for t in OrderType if t.is_stop)

FeeRates = list[int]
"""Commission rates as fractions, flat: numerator at 4 * is_maker + 2 * is_buyer, then the
denominator (a list of ints reads without boxing, compiled)."""


class MarketState:
    """State of one symbol, and the balance moves of one order."""

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (self.spec, Accounts(), Ledger(Accounts()), int))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(
        self,
        spec: SymbolSpec,
        accounts: Accounts,
        ledger: Ledger,
        new_client_seq: Callable[[], int],
    ) -> None:
        self.spec = spec
        self.accounts = accounts
        self.account_by_id = accounts.by_id
        self.ledger = ledger
        self.new_client_seq = new_client_seq
        self.book = OrderBook()
        self.rules = FilterRules(spec)
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_prevented_match_id = 0
        self.next_execution_id = 1
        self.orders: list[Order] = []  # by orderId: orders[order_id - 1]
        self.orders_by_account: dict[int, list[Order]] = {}  # each by orderId (allOrders)
        self.open_by_account: dict[int, dict[int, Order]] = {}
        self.open_algo: dict[int, int] = {}
        self.open_iceberg: dict[int, int] = {}
        self.permitted: dict[tuple[str, ...], bool] = {}
        self.client_ids: dict[tuple[int, str], Order] = {}  # user-chosen client order ids
        self.generated_ids: dict[int, Order] = {}  # by generated id's counter value
        self.trades: list[Trade] = []
        # Per account, its trades as 2 * (index in `trades`) + (1 if it bought else 0);
        # engine.my_trades builds the AccountTrade views on demand.
        self.trade_refs: dict[int, list[int]] = {}
        self.prevented: list[PreventedMatch] = []
        self.amendments: dict[int, list[Amendment]] = {}
        self.waiting_stops: list[Order] = []
        self.triggered: list[Order] = []
        self.last_price_raw: int | None = None
        nd, qd = spec.notional_decimals, spec.quote_decimals
        # Annotated: `10 ** n` is not known to be an int, and compiled code does arithmetic on
        # an attribute of unknown type through the generic (slow) number protocol.
        self.quote_mul: int = 10 ** (qd - nd) if qd > nd else 1
        self.quote_div: int = 10 ** (nd - qd) if nd >= qd else 1
        # A price on the tick grid is ticks * tick, and its quote ticks * qty * tick_mul //
        # tick_div: the same value from products that stay within machine words (price_raw *
        # qty_raw outgrows them, which compiled code handles on a slow path).
        self.tick_raw = spec.raw.price_step
        shared = gcd(self.tick_raw * self.quote_mul, self.quote_div)
        self.tick_mul: int = self.tick_raw * self.quote_mul // shared
        self.tick_div: int = self.quote_div // shared
        self.qd, self.pd, self.ad = spec.qty_decimals, spec.price_decimals, qd
        # Decimal(raw) * unit == from_raw(raw, decimals), with the same exponent.
        self.qty_unit, self.price_unit, self.quote_unit = unit(self.qd), unit(self.pd), unit(qd)
        self.lot_step = spec.raw.step or 1
        self.base_asset, self.quote_asset = spec.base_asset, spec.quote_asset
        if self.qd > BALANCE_DECIMALS or qd > BALANCE_DECIMALS:
            raise ValueError(
                f"{spec.symbol}: quantities and quote amounts may have at most "
                f"{BALANCE_DECIMALS} decimals, as balances do"
            )
        # A raw quantity (quote amount) times its factor is a raw balance amount (accounts.py).
        self.base_factor: int = 10 ** (BALANCE_DECIMALS - self.qd)
        self.quote_factor: int = 10 ** (BALANCE_DECIMALS - qd)
        # Commissions are truncated to these multiples of a raw balance unit.
        self.base_quantum: int = 10 ** max(0, BALANCE_DECIMALS - spec.base_commission_precision)
        self.quote_quantum: int = 10 ** max(0, BALANCE_DECIMALS - spec.quote_commission_precision)
        self.is_trading = spec.status is SymbolStatus.TRADING
        self.fee_rates: dict[int, tuple[CommissionRates, FeeRates]] = {}
        self.price_cache: dict[int, Decimal] = {}

    # -- amounts ---------------------------------------------------------------------------

    def quote_of(self, price_raw: int, qty_raw: int) -> int:
        """Quote amount (raw, truncated) of `qty_raw` at `price_raw`."""
        ticks = price_raw // self.tick_raw
        if ticks * self.tick_raw == price_raw:
            return ticks * (qty_raw * self.tick_mul) // self.tick_div
        return price_raw * qty_raw * self.quote_mul // self.quote_div

    def base_balance(self, qty_raw: int) -> int:
        """A raw quantity as a raw balance amount (accounts.py)."""
        factor = self.base_factor
        return qty_raw if factor == 1 else qty_raw * factor

    def quote_balance(self, quote_raw: int) -> int:
        """A raw quote amount as a raw balance amount.

        The factor is usually 1, and compiled code multiplies in machine words only operands
        below 2**30, which quote amounts in units of 1E-8 rarely are: the product is skipped.
        """
        factor = self.quote_factor
        return quote_raw if factor == 1 else quote_raw * factor

    def affordable(self, price_raw: int, quote_raw: int, cap: int) -> int:
        """Largest lot-step multiple <= cap whose quote at `price_raw` is <= quote_raw."""
        most = ((quote_raw + 1) * self.quote_div - 1) // (price_raw * self.quote_mul)
        most -= most % self.lot_step
        return min(cap, most)

    def price_decimal(self, price_raw: int) -> Decimal:
        """Return a raw price as a Decimal (memoised: trades repeat a few price levels)."""
        cache = self.price_cache
        found = cache.get(price_raw)
        if found is None:
            if len(cache) >= _PRICE_CACHE_SIZE:
                cache.clear()
            found = cache[price_raw] = Decimal(price_raw) * self.price_unit
        return found

    def _execution_id(self) -> int:
        value = self.next_execution_id
        self.next_execution_id = value + 1
        return value

    def _account(self, account_id: int) -> Account:
        account = self.accounts.get(account_id)
        assert account is not None, account_id
        return account

    def _fee(self, account: Account, is_maker: bool, is_buyer: bool, received: int) -> int:
        """Commission on `received` (commission_faq.md): (maker|taker + buyer|seller) rate.

        Amounts are raw balance integers; the commission is truncated to the commission
        precision, as `(received * rate).quantize(quantum, ROUND_DOWN)` would.
        """
        rates = account.commission
        known = self.fee_rates.get(account.account_id)
        if known is None or known[0] is not rates:
            table: FeeRates = []
            for rate in (
                rates.taker + rates.seller,
                rates.taker + rates.buyer,
                rates.maker + rates.seller,
                rates.maker + rates.buyer,
            ):
                table.extend(rate.as_integer_ratio())
            known = self.fee_rates[account.account_id] = (rates, table)
        table = known[1]
        at = 4 * is_maker + 2 * is_buyer
        num = table[at]
        if not num:
            return 0
        fee = received * num // table[at + 1]
        return fee - fee % (self.base_quantum if is_buyer else self.quote_quantum)

    # -- one order's lock and open status --------------------------------------------------

    def _balance(self, order: Order) -> Balance:
        """The balance an order locks (quote for a BUY, base for a SELL), marked as moved."""
        asset = self.quote_asset if order.is_buy else self.base_asset
        return self.ledger.touch(self.account_by_id[order.account_id], asset)

    def _relock(self, order: Order) -> None:
        # Keep exactly what the rest of the order may still spend locked (market.py docstring).
        if order.is_buy:
            if not order.price_raw:
                return
            required = self.quote_of(
                order.price_raw, order.qty_raw - order.executed_raw - order.prevented_raw
            )
        else:
            required = order.qty_raw - order.executed_raw - order.prevented_raw
        excess = order.locked_raw - required
        if excess > 0:
            order.locked_raw = required
            self._unlock(order, excess)

    def _unlock(self, order: Order, amount_raw: int) -> None:
        if amount_raw:
            amount = (
                self.quote_balance(amount_raw) if order.is_buy else self.base_balance(amount_raw)
            )
            balance = self._balance(order)
            balance.locked_raw -= amount
            balance.free_raw += amount

    def _close(self, order: Order) -> None:
        """Finish a terminal order: release its lock and forget it as open."""
        if order.locked_raw:
            self._unlock(order, order.locked_raw)
            order.locked_raw = 0
        account_id = order.account_id
        by_account = self.open_by_account.get(account_id)
        if by_account is None or by_account.pop(order.order_id, None) is None:
            return
        if not by_account:
            del self.open_by_account[account_id]
        if order.is_stop:
            self.open_algo[account_id] -= 1
        if order.iceberg_raw:
            self.open_iceberg[account_id] -= 1

    def _expire(
        self,
        order: Order,
        status: OrderStatus,
        reason: ExpiryReason,
        last_prevented_raw: int,
        now_ms: int,
        events: list[Event],
    ) -> None:
        order.status = status
        order.expiry_reason = reason
        order.update_time_ms = now_ms
        if order.in_book:
            self.book.remove(order)
        self._close(order)
        qty_unit = self.qty_unit
        execution_id = self.next_execution_id
        self.next_execution_id = execution_id + 1
        events.append(
            OrderExpired(
                order,
                status,
                ExecutionType.TRADE_PREVENTION
                if status is _EXPIRED_IN_MATCH
                else ExecutionType.EXPIRED,
                reason,
                Decimal(order.executed_raw) * qty_unit,
                Decimal(order.cum_quote_raw) * self.quote_unit,
                Decimal(order.prevented_raw) * qty_unit,
                Decimal(last_prevented_raw) * qty_unit,
                execution_id,
                now_ms,
            )
        )

    def order_by_id(self, order_id: int) -> Order | None:
        """The order with this orderId (any account, open or not), or None."""
        orders = self.orders
        return orders[order_id - 1] if 0 < order_id <= len(orders) else None

    def order_by_client_id(self, account_id: int, client_order_id: str) -> Order | None:
        """The account's order whose client order id is (now) `client_order_id`, or None."""
        found = self.client_ids.get((account_id, client_order_id))
        if found is None:
            seq = generated_seq(client_order_id)
            if seq is not None:
                found = self.generated_ids.get(seq)
                if found is not None and (
                    found.account_id != account_id or found.client_id_seq != seq
                ):
                    found = None
        return found

    def _rename(self, order: Order, new_client_id: str | None) -> None:
        """Give the order a new client order id: `new_client_id`, or a generated one."""
        if not order.client_id_seq:
            key = (order.account_id, order.client_order_id)
            if self.client_ids.get(key) is order:
                del self.client_ids[key]
        if new_client_id:
            order.client_order_id = new_client_id
            self.client_ids[(order.account_id, new_client_id)] = order
        else:
            seq = self.new_client_seq()
            order.set_generated_client_id(seq)
            self.generated_ids[seq] = order
