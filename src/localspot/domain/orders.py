"""Orders and the records the engine keeps: trades, prevented matches, amendments.

`Order` is mutable engine state: only the engine changes it, during `Engine.apply`. Its amounts
are scaled ints (`*_raw`, see symbols.py); the Decimal properties convert at the edge, so the
renderers never see raw values. Records (`Trade`, `PreventedMatch`, `Amendment`) are immutable.

`price_raw` is the working limit price that the book, matching and locks use. For a pegged order
(pegged_orders.md) it is the pegged price once determined (`pegged_price_raw`, at placement for
LIMIT/LIMIT_MAKER, at trigger for STOP_LOSS_LIMIT/TAKE_PROFIT_LIMIT) and `sent_price_raw` keeps
the `price` as sent (0 if none), which is what responses show as `price`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from mypy_extensions import mypyc_attr

from localspot.domain.enums import (
    ExpiryReason,
    OrderStatus,
    OrderType,
    PegPriceType,
    Side,
    StpMode,
    TimeInForce,
)
from localspot.domain.numbers import from_raw
from localspot.domain.pickling import ByFields, Reduced, by_fields, reduce_with, restore
from localspot.domain.symbols import SymbolSpec

_STOP_TYPES: Final = frozenset(t for t in OrderType if t.is_stop)
_PRICED_TYPES: Final = frozenset(t for t in OrderType if t.has_limit_price)
_MARKET_LIKE_TYPES: Final = frozenset(
    {OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT}
)
_NEW: Final = OrderStatus.NEW
_PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
_PENDING_NEW: Final = OrderStatus.PENDING_NEW


def is_open(status: OrderStatus) -> bool:
    """True while an order in `status` can still trade or be canceled (identity tests, no hash)."""
    return status is _NEW or status is _PARTIALLY_FILLED or status is _PENDING_NEW


_CLIENT_ID_MULTIPLIER: Final = 0x9E3779B97F4A7C15F39CC0605CEDC835
_CLIENT_ID_MASK: Final = (1 << 88) - 1
_CLIENT_ID_INVERSE: Final = pow(_CLIENT_ID_MULTIPLIER, -1, 1 << 88)


def generated_client_id(seq: int) -> str:
    """The client order id generated for the engine's `seq`-th order or cancel sent without one.

    22 hex characters like Binance's generated ids, unique and replayable (a bijection of the
    counter), not random.
    """
    return "%022x" % ((seq * _CLIENT_ID_MULTIPLIER) & _CLIENT_ID_MASK)


def generated_seq(client_order_id: str) -> int | None:
    """The `seq` that `generated_client_id` turns into `client_order_id`, or None if none does."""
    if len(client_order_id) != 22:
        return None
    try:
        value = int(client_order_id, 16)
    except ValueError:
        return None
    seq = (value * _CLIENT_ID_INVERSE) & _CLIENT_ID_MASK
    # Only the generator's own text: no upper case, sign or "_" that int() also reads.
    return seq if generated_client_id(seq) == client_order_id else None


@mypyc_attr(acyclic=True)
class Order:
    """One order: what was asked for, and where it stands now.

    A generated client order id is kept as its counter value (`client_id_seq`, 0 for an id the
    user chose) and made into text when first read: most are never read.
    """

    __slots__ = (
        "_client_order_id",
        "account_id",
        "amend_count",
        "client_id_seq",
        "cum_quote_raw",
        "executed_raw",
        "expiry_reason",
        "has_limit_price",
        "iceberg_raw",
        "in_book",
        "is_buy",
        "is_market_like",
        "is_quote_order",
        "is_stop",
        "is_working",
        "locked_raw",
        "order_id",
        "order_list_id",
        "orig_quote_raw",
        "peg_offset_value",
        "peg_price_type",
        "pegged_price_raw",
        "prevented_match_id",
        "prevented_raw",
        "price_raw",
        "priority",
        "qty_raw",
        "send_iceberg",
        "sent_price_raw",
        "side",
        "spec",
        "status",
        "stop_raw",
        "stp_mode",
        "strategy_id",
        "strategy_type",
        "time_in_force",
        "time_ms",
        "trade_group_id",
        "trail_extreme_raw",
        "trailing_delta",
        "trailing_time_ms",
        "type",
        "update_time_ms",
        "visible_raw",
        "working_time_ms",
    )

    def __reduce__(self) -> Reduced:
        return reduce_with(
            self,
            (self.spec, 0, "", 0, self.side, self.type, self.time_in_force, 0, 0, self.stp_mode, 0),
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(
        self,
        spec: SymbolSpec,
        order_id: int,
        client_order_id: str,
        account_id: int,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        price_raw: int,
        qty_raw: int,
        stp_mode: StpMode,
        time_ms: int,
        trade_group_id: int = -1,
        orig_quote_raw: int = 0,
        stop_raw: int = 0,
        trailing_delta: int = 0,
        iceberg_raw: int = 0,
        send_iceberg: bool = False,
        strategy_id: int | None = None,
        strategy_type: int | None = None,
    ) -> None:
        self.spec = spec
        self.order_id = order_id
        self._client_order_id = client_order_id
        self.client_id_seq = 0
        self.account_id = account_id
        self.trade_group_id = trade_group_id
        self.side = side
        self.is_buy = side is Side.BUY
        self.type = order_type
        # What the type implies, looked up once: the engine asks on every step.
        self.is_stop = order_type in _STOP_TYPES
        self.has_limit_price = order_type in _PRICED_TYPES
        self.is_market_like = order_type in _MARKET_LIKE_TYPES  # executes at market
        self.time_in_force = time_in_force
        self.price_raw = price_raw
        self.sent_price_raw = price_raw
        self.peg_price_type: PegPriceType | None = None
        self.peg_offset_value: int | None = None
        self.pegged_price_raw = 0
        self.qty_raw = qty_raw
        self.stp_mode = stp_mode
        self.time_ms = time_ms
        self.update_time_ms = time_ms
        self.working_time_ms = time_ms
        self.is_working = True
        self.status = OrderStatus.NEW
        self.order_list_id = -1
        self.orig_quote_raw = orig_quote_raw
        self.is_quote_order = orig_quote_raw != 0
        self.stop_raw = stop_raw
        self.trailing_delta = trailing_delta
        self.trailing_time_ms = -1
        self.trail_extreme_raw = 0
        self.iceberg_raw = iceberg_raw
        self.send_iceberg = send_iceberg
        self.strategy_id = strategy_id
        self.strategy_type = strategy_type
        self.executed_raw = 0
        self.cum_quote_raw = 0
        self.prevented_raw = 0
        self.prevented_match_id = -1
        self.visible_raw = qty_raw
        self.locked_raw = 0
        self.in_book = False
        self.priority = 0
        self.amend_count = 0
        self.expiry_reason: ExpiryReason | None = None

    def __repr__(self) -> str:
        return (
            f"Order({self.spec.symbol} #{self.order_id} {self.side} {self.type} "
            f"{self.price} x {self.orig_qty} {self.status} exec={self.executed_qty})"
        )

    @property
    def client_order_id(self) -> str:
        """The client order id, user-chosen or generated."""
        if not self._client_order_id:
            self._client_order_id = generated_client_id(self.client_id_seq)
        return self._client_order_id

    @client_order_id.setter
    def client_order_id(self, value: str) -> None:
        self._client_order_id = value
        self.client_id_seq = 0

    def set_generated_client_id(self, seq: int) -> None:
        """Give the order the `seq`-th generated client order id."""
        self._client_order_id = ""
        self.client_id_seq = seq

    @property
    def symbol(self) -> str:
        """The symbol's name."""
        return self.spec.symbol

    @property
    def remaining_raw(self) -> int:
        """Quantity still available: orig - executed - prevented (stp_faq.md)."""
        return self.qty_raw - self.executed_raw - self.prevented_raw

    @property
    def is_open(self) -> bool:
        """True while the order is on the book or waiting for its trigger."""
        return self.status.is_open

    @property
    def price(self) -> Decimal:
        """Limit price as sent (`price`; 0 for MARKET and for a pegged order sent without one)."""
        return from_raw(self.sent_price_raw, self.spec.price_decimals)

    @property
    def pegged_price(self) -> Decimal | None:
        """The price a pegged order works at (`peggedPrice`), None until determined."""
        if not self.pegged_price_raw:
            return None
        return from_raw(self.pegged_price_raw, self.spec.price_decimals)

    @property
    def orig_qty(self) -> Decimal:
        """Order quantity (`origQty`)."""
        return from_raw(self.qty_raw, self.spec.qty_decimals)

    @property
    def executed_qty(self) -> Decimal:
        """Filled quantity (`executedQty`)."""
        return from_raw(self.executed_raw, self.spec.qty_decimals)

    @property
    def cumulative_quote_qty(self) -> Decimal:
        """Quote transacted so far (`cummulativeQuoteQty`)."""
        return from_raw(self.cum_quote_raw, self.spec.quote_decimals)

    @property
    def orig_quote_order_qty(self) -> Decimal:
        """`quoteOrderQty` as sent (0 when not a quote-quantity order)."""
        return from_raw(self.orig_quote_raw, self.spec.quote_decimals)

    @property
    def stop_price(self) -> Decimal:
        """Stop price (0 when none)."""
        return from_raw(self.stop_raw, self.spec.price_decimals)

    @property
    def iceberg_qty(self) -> Decimal:
        """Iceberg visible size (0 for plain orders)."""
        return from_raw(self.iceberg_raw, self.spec.qty_decimals)

    @property
    def prevented_qty(self) -> Decimal:
        """Quantity expired by STP over the order's life (`preventedQuantity`)."""
        return from_raw(self.prevented_raw, self.spec.qty_decimals)

    @property
    def remaining_qty(self) -> Decimal:
        """Quantity still available for execution."""
        return from_raw(self.remaining_raw, self.spec.qty_decimals)

    @property
    def has_prevented_match(self) -> bool:
        """True if STP touched the order (`preventedMatchId`/`preventedQuantity` appear)."""
        return self.prevented_match_id >= 0


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class Trade:
    """One trade between a maker and a taker order (trade id is per symbol, from 1)."""

    symbol: str
    trade_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time_ms: int
    buyer_order_id: int
    seller_order_id: int
    buyer_account_id: int
    seller_account_id: int
    is_buyer_maker: bool
    buyer_commission: Decimal
    buyer_commission_asset: str
    seller_commission: Decimal
    seller_commission_asset: str

    def __init__(
        self,
        symbol: str,
        trade_id: int,
        price: Decimal,
        qty: Decimal,
        quote_qty: Decimal,
        time_ms: int,
        buyer_order_id: int,
        seller_order_id: int,
        buyer_account_id: int,
        seller_account_id: int,
        is_buyer_maker: bool,
        buyer_commission: Decimal,
        buyer_commission_asset: str,
        seller_commission: Decimal,
        seller_commission_asset: str,
    ) -> None:
        self.symbol = symbol
        self.trade_id = trade_id
        self.price = price
        self.qty = qty
        self.quote_qty = quote_qty
        self.time_ms = time_ms
        self.buyer_order_id = buyer_order_id
        self.seller_order_id = seller_order_id
        self.buyer_account_id = buyer_account_id
        self.seller_account_id = seller_account_id
        self.is_buyer_maker = is_buyer_maker
        self.buyer_commission = buyer_commission
        self.buyer_commission_asset = buyer_commission_asset
        self.seller_commission = seller_commission
        self.seller_commission_asset = seller_commission_asset

    def __reduce__(self) -> ByFields:
        return by_fields(self)

    def order_id_of(self, is_buyer: bool) -> int:
        """Return the buyer's or the seller's order id."""
        return self.buyer_order_id if is_buyer else self.seller_order_id

    def commission_of(self, is_buyer: bool) -> tuple[Decimal, str]:
        """Return (commission, asset) paid by the buyer or by the seller."""
        if is_buyer:
            return self.buyer_commission, self.buyer_commission_asset
        return self.seller_commission, self.seller_commission_asset


@mypyc_attr(acyclic=True)
@dataclass(frozen=True, slots=True)
class AccountTrade:
    """A trade as one account sees it (myTrades)."""

    trade: Trade
    is_buyer: bool

    @property
    def order_id(self) -> int:
        """The account's order in this trade."""
        return self.trade.order_id_of(self.is_buyer)

    @property
    def is_maker(self) -> bool:
        """True if the account's order was the maker."""
        return self.trade.is_buyer_maker == self.is_buyer

    @property
    def commission(self) -> Decimal:
        """Commission the account paid."""
        return self.trade.commission_of(self.is_buyer)[0]

    @property
    def commission_asset(self) -> str:
        """Asset the commission was paid in."""
        return self.trade.commission_of(self.is_buyer)[1]


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class PreventedMatch:
    """A self-trade that STP prevented (stp_faq.md, myPreventedMatches)."""

    symbol: str
    prevented_match_id: int
    taker_order_id: int
    maker_order_id: int
    taker_account_id: int
    maker_account_id: int
    trade_group_id: int
    stp_mode: StpMode
    price: Decimal
    taker_prevented_quantity: Decimal | None
    maker_prevented_quantity: Decimal | None
    transact_time_ms: int

    def __init__(
        self,
        symbol: str,
        prevented_match_id: int,
        taker_order_id: int,
        maker_order_id: int,
        taker_account_id: int,
        maker_account_id: int,
        trade_group_id: int,
        stp_mode: StpMode,
        price: Decimal,
        taker_prevented_quantity: Decimal | None,
        maker_prevented_quantity: Decimal | None,
        transact_time_ms: int,
    ) -> None:
        self.symbol = symbol
        self.prevented_match_id = prevented_match_id
        self.taker_order_id = taker_order_id
        self.maker_order_id = maker_order_id
        self.taker_account_id = taker_account_id
        self.maker_account_id = maker_account_id
        self.trade_group_id = trade_group_id
        self.stp_mode = stp_mode
        self.price = price
        self.taker_prevented_quantity = taker_prevented_quantity
        self.maker_prevented_quantity = maker_prevented_quantity
        self.transact_time_ms = transact_time_ms

    def __reduce__(self) -> ByFields:
        return by_fields(self)

    @property
    def maker_symbol(self) -> str:
        """Symbol of the maker order (always the same symbol here)."""
        return self.symbol


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class Amendment:
    """One keep-priority amendment of an order (order.amendments)."""

    symbol: str
    order_id: int
    execution_id: int
    orig_client_order_id: str
    new_client_order_id: str
    orig_qty: Decimal
    new_qty: Decimal
    time_ms: int

    def __init__(
        self,
        symbol: str,
        order_id: int,
        execution_id: int,
        orig_client_order_id: str,
        new_client_order_id: str,
        orig_qty: Decimal,
        new_qty: Decimal,
        time_ms: int,
    ) -> None:
        self.symbol = symbol
        self.order_id = order_id
        self.execution_id = execution_id
        self.orig_client_order_id = orig_client_order_id
        self.new_client_order_id = new_client_order_id
        self.orig_qty = orig_qty
        self.new_qty = new_qty
        self.time_ms = time_ms

    def __reduce__(self) -> ByFields:
        return by_fields(self)
