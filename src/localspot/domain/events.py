"""Events: what the engine did, as dataclasses named in the past tense.

Events are never changed once made, but they are not `frozen`: a frozen dataclass's `__init__`
sets each field through `object.__setattr__`, which costs about four times as much, and the
engine makes several per command. `CommandRejected` is frozen (its instances are shared
constants, rejections.py).

The events of trading spell out their `__init__` (`init=False`): compiled by mypyc (setup.py),
a written `__init__` becomes native code, while the one `dataclass` generates stays interpreted
(mypyc/mypyc#817) and costs about 1,500 instructions per event, several times what storing the
fields does. Rare events (accounts, admin balance changes) keep the generated one.

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

from localspot.domain.accounts import balance_decimal
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
@dataclass(slots=True, init=False)
class OrderAccepted:
    """An order was accepted (execution type NEW); it is NEW with nothing executed."""

    order: Order
    execution_id: int
    transact_time_ms: int

    def __init__(self, order: Order, execution_id: int, transact_time_ms: int) -> None:
        self.order = order
        self.execution_id = execution_id
        self.transact_time_ms = transact_time_ms


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class OrderTriggered:
    """A stop order's condition was met: it is now working (as MARKET or LIMIT)."""

    order: Order
    execution_id: int
    transact_time_ms: int

    def __init__(self, order: Order, execution_id: int, transact_time_ms: int) -> None:
        self.order = order
        self.execution_id = execution_id
        self.transact_time_ms = transact_time_ms


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
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

    def __init__(
        self,
        trade: Trade,
        maker: Order,
        taker: Order,
        maker_status: OrderStatus,
        maker_executed_raw: int,
        maker_cumulative_quote_raw: int,
        maker_execution_id: int,
        taker_status: OrderStatus,
        taker_executed_raw: int,
        taker_cumulative_quote_raw: int,
        taker_execution_id: int,
    ) -> None:
        self.trade = trade
        self.maker = maker
        self.taker = taker
        self.maker_status = maker_status
        self.maker_executed_raw = maker_executed_raw
        self.maker_cumulative_quote_raw = maker_cumulative_quote_raw
        self.maker_execution_id = maker_execution_id
        self.taker_status = taker_status
        self.taker_executed_raw = taker_executed_raw
        self.taker_cumulative_quote_raw = taker_cumulative_quote_raw
        self.taker_execution_id = taker_execution_id

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
@dataclass(slots=True, init=False)
class MatchPrevented:
    """STP stopped `taker` from trading with `maker` (stp_faq.md); quantities are this event's."""

    prevented_match: PreventedMatch
    taker: Order
    maker: Order
    taker_last_prevented_qty: Decimal
    maker_last_prevented_qty: Decimal

    def __init__(
        self,
        prevented_match: PreventedMatch,
        taker: Order,
        maker: Order,
        taker_last_prevented_qty: Decimal,
        maker_last_prevented_qty: Decimal,
    ) -> None:
        self.prevented_match = prevented_match
        self.taker = taker
        self.maker = maker
        self.taker_last_prevented_qty = taker_last_prevented_qty
        self.maker_last_prevented_qty = maker_last_prevented_qty


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
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

    def __init__(
        self,
        order: Order,
        status: OrderStatus,
        execution_type: ExecutionType,
        expiry_reason: ExpiryReason,
        executed_qty: Decimal,
        cumulative_quote_qty: Decimal,
        prevented_qty: Decimal,
        last_prevented_qty: Decimal,
        execution_id: int,
        transact_time_ms: int,
    ) -> None:
        self.order = order
        self.status = status
        self.execution_type = execution_type
        self.expiry_reason = expiry_reason
        self.executed_qty = executed_qty
        self.cumulative_quote_qty = cumulative_quote_qty
        self.prevented_qty = prevented_qty
        self.last_prevented_qty = last_prevented_qty
        self.execution_id = execution_id
        self.transact_time_ms = transact_time_ms


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class OrderCanceled:
    """An order was canceled; `order.client_order_id` is now the cancel's new client id."""

    order: Order
    orig_client_order_id: str
    execution_id: int
    transact_time_ms: int

    def __init__(
        self,
        order: Order,
        orig_client_order_id: str,
        execution_id: int,
        transact_time_ms: int,
    ) -> None:
        self.order = order
        self.orig_client_order_id = orig_client_order_id
        self.execution_id = execution_id
        self.transact_time_ms = transact_time_ms


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class OrderAmended:
    """An order's quantity was reduced in place (execution type REPLACED)."""

    order: Order
    amendment: Amendment
    transact_time_ms: int

    def __init__(self, order: Order, amendment: Amendment, transact_time_ms: int) -> None:
        self.order = order
        self.amendment = amendment
        self.transact_time_ms = transact_time_ms


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class BalancesUpdated:
    """Trading changed these assets of an account: (asset, free, locked) after the command.

    One per touched account per command, last in the event list (outboundAccountPosition).
    The amounts are kept raw (accounts.py) and made Decimal when read.
    """

    account_id: int
    raw_balances: tuple[tuple[str, int, int], ...]
    update_time_ms: int

    def __init__(
        self,
        account_id: int,
        raw_balances: tuple[tuple[str, int, int], ...],
        update_time_ms: int,
    ) -> None:
        self.account_id = account_id
        self.raw_balances = raw_balances
        self.update_time_ms = update_time_ms

    @property
    def balances(self) -> tuple[tuple[str, Decimal, Decimal], ...]:
        """(asset, free, locked) per asset, assets sorted."""
        return tuple(
            [
                (a, balance_decimal(free), balance_decimal(locked))
                for a, free, locked in self.raw_balances
            ]
        )


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
