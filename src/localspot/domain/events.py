"""Events: what the engine did, as dataclasses named in the past tense.

Events are never changed once made, but they are not `frozen`: a frozen dataclass's `__init__`
sets each field through `object.__setattr__`, which costs about four times as much, and the
engine makes several per command. `CommandRejected` is frozen (its instances are shared
constants, rejections.py).

Order events reference the live `Order` (orders.py) for its fixed fields (ids, side, type,
prices, STP mode...) and carry a snapshot of what changes (status, executed and quote totals)
as of that event, so execution reports can be rendered in order after `apply` returns.
After `apply` returns, the `Order` object holds the final state for order.place responses
(status, executedQty, cummulativeQuoteQty); the taker's fills are the `TradeExecuted` events
whose `taker` is that order, its preventedMatches the `MatchPrevented` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mypy_extensions import mypyc_attr

from localspot.domain.enums import ExecutionType, ExpiryReason, OrderStatus
from localspot.domain.numbers import from_raw
from localspot.domain.orders import Amendment, Order, PreventedMatch, Trade


@mypyc_attr(acyclic=True)
@dataclass(frozen=True, slots=True)
class AccountCreated:
    """An account was opened."""

    account_id: int


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class BalanceChanged:
    """An asset's free balance changed by `delta` outside trading (deposit, withdrawal, set)."""

    account_id: int
    asset: str
    delta: Decimal
    free: Decimal
    locked: Decimal


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class BalanceLocked:
    """An external lock moved `delta` of an asset from free to locked (or back if negative)."""

    account_id: int
    asset: str
    delta: Decimal
    free: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """The command was refused; `code`/`message` name its catalog entry (errors.py).

    Filter failures are `(-1013, "Filter failure: LOT_SIZE")` etc. (errors.FILTER_FAILURE);
    matching-engine reasons are `(-2010|-2011|-2038, message)` (errors.rejection).
    """

    code: int
    message: str


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class OrderAccepted:
    """An order was accepted (execution type NEW); it is NEW with nothing executed."""

    order: Order
    execution_id: int
    transact_time_ms: int


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class OrderTriggered:
    """A stop order's condition was met: it is now working (as MARKET or LIMIT)."""

    order: Order
    execution_id: int
    transact_time_ms: int


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class TradeExecuted:
    """A maker and a taker order traded; the snapshots are each order's state after it."""

    trade: Trade
    maker: Order
    taker: Order
    maker_status: OrderStatus
    maker_executed_raw: int
    maker_cumulative_quote_raw: int
    maker_execution_id: int
    taker_status: OrderStatus
    taker_executed_raw: int
    taker_cumulative_quote_raw: int
    taker_execution_id: int

    # The totals are kept as the book's scaled integers and made Decimal only when read:
    # most trades are never rendered as execution reports (nobody subscribed).

    @property
    def maker_executed_qty(self) -> Decimal:
        """The maker's executed quantity after this trade."""
        return from_raw(self.maker_executed_raw, self.maker.spec.qty_decimals)

    @property
    def maker_cumulative_quote_qty(self) -> Decimal:
        """The maker's cumulative quote quantity after this trade."""
        return from_raw(self.maker_cumulative_quote_raw, self.maker.spec.quote_decimals)

    @property
    def taker_executed_qty(self) -> Decimal:
        """The taker's executed quantity after this trade."""
        return from_raw(self.taker_executed_raw, self.taker.spec.qty_decimals)

    @property
    def taker_cumulative_quote_qty(self) -> Decimal:
        """The taker's cumulative quote quantity after this trade."""
        return from_raw(self.taker_cumulative_quote_raw, self.taker.spec.quote_decimals)

    @property
    def maker_commission(self) -> tuple[Decimal, str]:
        """(commission, asset) the maker paid."""
        return self.trade.commission_of(self.trade.is_buyer_maker)

    @property
    def taker_commission(self) -> tuple[Decimal, str]:
        """(commission, asset) the taker paid."""
        return self.trade.commission_of(not self.trade.is_buyer_maker)


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class MatchPrevented:
    """STP stopped `taker` from trading with `maker` (stp_faq.md); quantities are this event's."""

    prevented_match: PreventedMatch
    taker: Order
    maker: Order
    taker_last_prevented_qty: Decimal
    maker_last_prevented_qty: Decimal


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class OrderExpired:
    """An order left the book or expired without resting.

    `execution_type` is EXPIRED (IOC/FOK/MARKET remainder, `status` EXPIRED) or
    TRADE_PREVENTION (STP, `status` EXPIRED_IN_MATCH).
    """

    order: Order
    status: OrderStatus
    execution_type: ExecutionType
    expiry_reason: ExpiryReason
    executed_qty: Decimal
    cumulative_quote_qty: Decimal
    prevented_qty: Decimal
    last_prevented_qty: Decimal
    execution_id: int
    transact_time_ms: int


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class OrderCanceled:
    """An order was canceled; `order.client_order_id` is now the cancel's new client id."""

    order: Order
    orig_client_order_id: str
    execution_id: int
    transact_time_ms: int


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class OrderAmended:
    """An order's quantity was reduced in place (execution type REPLACED)."""

    order: Order
    amendment: Amendment
    transact_time_ms: int


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class BalancesUpdated:
    """Trading changed these assets of an account: (asset, free, locked) after the command.

    One per touched account per command, last in the event list (outboundAccountPosition).
    """

    account_id: int
    balances: tuple[tuple[str, Decimal, Decimal], ...]
    update_time_ms: int


Event = (
    AccountCreated
    | BalanceChanged
    | BalanceLocked
    | CommandRejected
    | OrderAccepted
    | OrderTriggered
    | TradeExecuted
    | MatchPrevented
    | OrderExpired
    | OrderCanceled
    | OrderAmended
    | BalancesUpdated
)
