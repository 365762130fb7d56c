"""The engine's rejections, each built from its errors.py catalog entry (never spelled by hand).

Module import fails if a message is missing from the catalog, so a typo cannot ship.
"""

from __future__ import annotations

from localspot import errors
from localspot.domain.enums import FilterType
from localspot.domain.events import CommandRejected


def _engine(code: int, message: str) -> CommandRejected:
    entry = errors.rejection(code, message)
    return CommandRejected(entry.code, entry.message)


def filter_failure(name: FilterType) -> CommandRejected:
    """Return `-1013 "Filter failure: <name>"`."""
    return CommandRejected(errors.FILTER_FAILURE.code, errors.FILTER_FAILURE.message % name)


def mandatory(param: str) -> CommandRejected:
    """Return -1102 for a parameter the order type needs."""
    spec = errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED
    return CommandRejected(spec.code, spec.message % param)


def too_much_precision(param: str) -> CommandRejected:
    """Return -1111 for a value with more decimals than the symbol supports."""
    return CommandRejected(errors.BAD_PRECISION.code, errors.BAD_PRECISION.message % param)


_NEW = errors.NEW_ORDER_REJECTED
_CANCEL = errors.CANCEL_REJECTED
_AMEND = errors.ORDER_AMEND_REJECTED

BAD_SYMBOL = CommandRejected(errors.BAD_SYMBOL.code, errors.BAD_SYMBOL.message)
UNKNOWN_ACCOUNT = CommandRejected(errors.REJECTED_MBX_KEY.code, errors.REJECTED_MBX_KEY.message)
STP_MODE_NOT_ALLOWED = CommandRejected(
    errors.STP_MODE_NOT_ALLOWED.code, errors.STP_MODE_NOT_ALLOWED.message
)

MARKET_CLOSED = _engine(_NEW, "Market is closed.")
INSUFFICIENT_BALANCE = _engine(_NEW, "Account has insufficient balance for requested action.")
DUPLICATE_ORDER = _engine(_NEW, "Duplicate order sent.")
ACCOUNT_CANNOT_TRADE = _engine(_NEW, "This account may not place or cancel orders.")
SYMBOL_NOT_PERMITTED = _engine(_NEW, "This symbol is not permitted for this account.")
UNSUPPORTED_COMBINATION = _engine(_NEW, "Unsupported order combination")
PRICE_QTY_ZERO = _engine(_NEW, "Price * QTY is zero or less.")
ICEBERG_EXCEEDS_QTY = _engine(_NEW, "IcebergQty exceeds QTY.")
WOULD_TRIGGER = _engine(_NEW, "Order would trigger immediately.")
WOULD_TAKE = _engine(_NEW, "Order would immediately match and take.")
ICEBERG_NOT_SUPPORTED = _engine(_NEW, "Iceberg orders are not supported for this symbol.")
QUOTE_QTY_NOT_SUPPORTED = _engine(
    _NEW, "Quote order qty market orders are not support for this symbol."
)
TRAILING_NOT_SUPPORTED = _engine(_NEW, "Trailing stop orders are not supported for this symbol.")
PEG_NOT_SUPPORTED = _engine(_NEW, "Pegged orders are not supported for this symbol.")
PEG_TYPE_NOT_ALLOWED = _engine(_NEW, "This order type may not use pegged price.")
PEG_NOT_FOR_TYPE = _engine(_NEW, "This price peg cannot be used with this order type.")
PEG_NO_LIQUIDITY = _engine(_NEW, "Order book liquidity is too low for this pegged order.")
NO_LIQUIDITY = _engine(_NEW, "Order book liquidity is less than symbol minimum quantity.")
LIQUIDITY_BELOW_LOT_SIZE = _engine(
    _NEW, "Order book liquidity is less than `LOT_SIZE` filter minimum quantity."
)
TYPE_NOT_SUPPORTED = {
    "MARKET": _engine(_NEW, "Market orders are not supported for this symbol."),
    "STOP_LOSS": _engine(_NEW, "Stop loss orders are not supported for this symbol."),
    "STOP_LOSS_LIMIT": _engine(_NEW, "Stop loss limit orders are not supported for this symbol."),
    "TAKE_PROFIT": _engine(_NEW, "Take profit orders are not supported for this symbol."),
    "TAKE_PROFIT_LIMIT": _engine(
        _NEW, "Take profit limit orders are not supported for this symbol."
    ),
}

CANCEL_UNKNOWN_ORDER = _engine(_CANCEL, "Unknown order sent.")
CANCEL_MARKET_CLOSED = _engine(_CANCEL, "Market is closed.")
CANCEL_ACCOUNT_CANNOT_TRADE = _engine(_CANCEL, "This account may not place or cancel orders.")
CANCEL_INVALID = _engine(_CANCEL, "Cancel order is invalid. Check origClOrdId and orderId.")
CANCEL_RESTRICTED = _engine(_CANCEL, "Order was not canceled due to cancel restrictions.")

AMEND_NOT_SUPPORTED = _engine(_AMEND, "Order amend is not supported for this symbol.")
AMEND_UNKNOWN_ORDER = _engine(_AMEND, "Unknown order sent.")
AMEND_MARKET_CLOSED = _engine(_AMEND, "Market is closed.")
AMEND_ACCOUNT_CANNOT_TRADE = _engine(_AMEND, "This account may not place or cancel orders.")
AMEND_INCREASE = _engine(_AMEND, "Order amend (quantity increase) is not supported.")
AMEND_NO_CHANGE = _engine(_AMEND, "The requested action would change no state; rejecting")
