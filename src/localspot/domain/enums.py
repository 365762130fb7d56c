"""Binance's enums (testnet/enums.md), spelled exactly as on the wire.

Every value is Binance's own string, so rendering an enum is `str(value)` and parsing one is
`Enum(text)`; no lookup tables.
"""

from __future__ import annotations

from enum import StrEnum


class SymbolStatus(StrEnum):
    """Symbol status (`status` in exchangeInfo)."""

    TRADING = "TRADING"
    END_OF_DAY = "END_OF_DAY"
    HALT = "HALT"
    BREAK = "BREAK"
    CANCEL_ONLY = "CANCEL_ONLY"


class OrderStatus(StrEnum):
    """Order status (`status`)."""

    NEW = "NEW"
    PENDING_NEW = "PENDING_NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PENDING_CANCEL = "PENDING_CANCEL"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"

    @property
    def is_open(self) -> bool:
        """True while the order can still trade or be canceled."""
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_NEW})


class OrderType(StrEnum):
    """Order types (`orderTypes`, `type`)."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"

    @property
    def is_stop(self) -> bool:
        """True for the "algo" types that wait for a stop price (MAX_NUM_ALGO_ORDERS)."""
        return self in _STOP_TYPES

    @property
    def has_limit_price(self) -> bool:
        """True for types that carry a limit `price`."""
        return self in _PRICED_TYPES


_STOP_TYPES = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)
_PRICED_TYPES = frozenset(
    {
        OrderType.LIMIT,
        OrderType.LIMIT_MAKER,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


class OrderResponseType(StrEnum):
    """Order response type (`newOrderRespType`)."""

    ACK = "ACK"
    RESULT = "RESULT"
    FULL = "FULL"


class Side(StrEnum):
    """Order side."""

    BUY = "BUY"
    SELL = "SELL"


class TimeInForce(StrEnum):
    """Time in force."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class StpMode(StrEnum):
    """Self-trade prevention modes (enums.md "STP Modes", faqs/stp_faq.md)."""

    NONE = "NONE"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"
    DECREMENT = "DECREMENT"
    TRANSFER = "TRANSFER"


class ExecutionType(StrEnum):
    """Execution types of execution reports (`x`)."""

    NEW = "NEW"
    CANCELED = "CANCELED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    TRADE = "TRADE"
    EXPIRED = "EXPIRED"
    TRADE_PREVENTION = "TRADE_PREVENTION"


class ExpiryReason(StrEnum):
    """Why an order expired (`expiryReason`)."""

    NONE = "NONE"
    REJECTED = "REJECTED"
    EXCHANGE_CANCELED = "EXCHANGE_CANCELED"
    OCO_TRIGGER = "OCO_TRIGGER"
    OTO_PHASE_ONE_EXPIRED = "OTO_PHASE_ONE_EXPIRED"
    UNFILLED_IOC_QUANTITY_EXPIRED = "UNFILLED_IOC_QUANTITY_EXPIRED"
    UNFILLED_FOK_ORDER_EXPIRED = "UNFILLED_FOK_ORDER_EXPIRED"
    INSUFFICIENT_LIQUIDITY = "INSUFFICIENT_LIQUIDITY"
    EXECUTION_RULE_PRICE_RANGE_EXCEEDED = "EXECUTION_RULE_PRICE_RANGE_EXCEEDED"


class CancelRestrictions(StrEnum):
    """`cancelRestrictions` of order.cancel."""

    ONLY_NEW = "ONLY_NEW"
    ONLY_PARTIALLY_FILLED = "ONLY_PARTIALLY_FILLED"


class PegPriceType(StrEnum):
    """`pegPriceType` (pegged_orders.md)."""

    PRIMARY_PEG = "PRIMARY_PEG"
    MARKET_PEG = "MARKET_PEG"


class FilterType(StrEnum):
    """Symbol filter types (filters.md)."""

    PRICE_FILTER = "PRICE_FILTER"
    PERCENT_PRICE = "PERCENT_PRICE"
    PERCENT_PRICE_BY_SIDE = "PERCENT_PRICE_BY_SIDE"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    NOTIONAL = "NOTIONAL"
    ICEBERG_PARTS = "ICEBERG_PARTS"
    MARKET_LOT_SIZE = "MARKET_LOT_SIZE"
    MAX_NUM_ORDERS = "MAX_NUM_ORDERS"
    MAX_NUM_ALGO_ORDERS = "MAX_NUM_ALGO_ORDERS"
    MAX_NUM_ICEBERG_ORDERS = "MAX_NUM_ICEBERG_ORDERS"
    MAX_POSITION = "MAX_POSITION"
    TRAILING_DELTA = "TRAILING_DELTA"
    MAX_NUM_ORDER_AMENDS = "MAX_NUM_ORDER_AMENDS"
    MAX_NUM_ORDER_LISTS = "MAX_NUM_ORDER_LISTS"
