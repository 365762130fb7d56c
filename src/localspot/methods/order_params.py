"""Wire parameters of the trading methods -> domain commands, with Binance's parameter errors.

web-socket-api.md "Place new order", "Cancel order", "Cancel and replace order", "Order Amend
Keep Priority". What is checked here and what the engine checks, so nothing is checked twice:

- here: the shape of each value (-1100 and friends, via params.py), unknown enum values (-1117
  side, -1116 type, -1115 timeInForce, -1145 cancelRestrictions, -1210/-1211 pegs),
  `strategyType` below 1000000 (-1134), parameters the order type does not take (-1106), and
  "orderId or origClientOrderId" (-1102);
- the engine: the symbol (-1121), the parameters each order type needs (-1102), too many
  decimals (-1111), filters (-1013), and the matching-engine reasons (-2010/-2011/-2038).

Decision where the docs are silent: a parameter the order type does not take is refused with
`-1106 Parameter '%s' sent when not required.` (seen live for `timeInForce` on MARKET and
LIMIT_MAKER orders); with both `quantity` and `quoteOrderQty` on a MARKET order the one named is
`quoteOrderQty`. Pegs: only one of `pegOffsetType`/`pegOffsetValue` -> -1102 naming the missing
one; `pegOffsetValue` above 100 -> -1130; an offset without `pegPriceType` -> -1106 naming
`pegOffsetType`.
"""

from __future__ import annotations

import enum

from localspot import errors
from localspot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from localspot.domain.enums import (
    CancelRestrictions,
    OrderResponseType,
    OrderType,
    PegPriceType,
    Side,
    StpMode,
    TimeInForce,
)
from localspot.methods.params import Params

# Parameters of order.place besides the SIGNED ones, in the docs' order.
PLACE_PARAMS = (
    "symbol",
    "side",
    "type",
    "timeInForce",
    "price",
    "quantity",
    "quoteOrderQty",
    "newClientOrderId",
    "newOrderRespType",
    "stopPrice",
    "trailingDelta",
    "icebergQty",
    "strategyId",
    "strategyType",
    "selfTradePreventionMode",
    "pegPriceType",
    "pegOffsetValue",
    "pegOffsetType",
)
CANCEL_PARAMS = ("symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions")
CANCEL_REPLACE_PARAMS = (
    *PLACE_PARAMS,
    "cancelReplaceMode",
    "cancelOrderId",
    "cancelOrigClientOrderId",
    "cancelNewClientOrderId",
    "cancelRestrictions",
    "orderRateLimitExceededMode",
)
AMEND_PARAMS = ("symbol", "orderId", "origClientOrderId", "newClientOrderId", "newQty")

MIN_STRATEGY_TYPE = 1_000_000
PEG_OFFSET_TYPE = "PRICE_LEVEL"
MAX_PEG_OFFSET_VALUE = 100
_MARKET_LIKE = frozenset({OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT})
_NOT_STOP = frozenset({OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET})
# Parameter -> order types that do not take it (the docs' table of mandatory parameters).
_NOT_TAKEN = {
    "timeInForce": _MARKET_LIKE | {OrderType.LIMIT_MAKER},
    "price": _MARKET_LIKE,
    "stopPrice": _NOT_STOP,
    "trailingDelta": _NOT_STOP,
    "icebergQty": _MARKET_LIKE,
    "quoteOrderQty": frozenset(OrderType) - {OrderType.MARKET},
}
_FULL_BY_DEFAULT = frozenset({OrderType.LIMIT, OrderType.MARKET})


class CancelReplaceMode(enum.StrEnum):
    """`cancelReplaceMode` of order.cancelReplace."""

    STOP_ON_FAILURE = "STOP_ON_FAILURE"
    ALLOW_FAILURE = "ALLOW_FAILURE"


class RateLimitExceededMode(enum.StrEnum):
    """`orderRateLimitExceededMode` of order.cancelReplace."""

    DO_NOTHING = "DO_NOTHING"
    CANCEL_ONLY = "CANCEL_ONLY"


def place_order(p: Params, account_id: int) -> PlaceOrder:
    """Parse the parameters of a new order (order.place, order.test, order.cancelReplace)."""
    symbol = p.symbol("symbol")
    side = p.enum("side", Side, invalid=errors.INVALID_SIDE, required=True)
    order_type = p.enum("type", OrderType, invalid=errors.INVALID_ORDER_TYPE, required=True)
    assert symbol is not None
    assert side is not None
    assert order_type is not None
    time_in_force = p.enum("timeInForce", TimeInForce, invalid=errors.INVALID_TIF)
    _refuse_not_taken(p, order_type)
    peg_price_type = p.enum("pegPriceType", PegPriceType, invalid=errors.INVALID_PEG_PRICE_TYPE)
    peg_offset_value, peg_offset_type = _peg_offset(p, peg_price_type is not None)
    return PlaceOrder(
        account_id=account_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        time_in_force=time_in_force,
        quantity=p.scaled("quantity"),
        quote_order_qty=p.scaled("quoteOrderQty"),
        price=p.scaled("price"),
        stop_price=p.scaled("stopPrice"),
        trailing_delta=p.integer("trailingDelta"),
        iceberg_qty=p.scaled("icebergQty"),
        client_order_id=_new_client_id(p, "newClientOrderId"),
        strategy_id=p.integer("strategyId"),
        strategy_type=_strategy_type(p),
        stp_mode=p.enum("selfTradePreventionMode", StpMode),
        peg_price_type=peg_price_type,
        peg_offset_value=peg_offset_value,
        peg_offset_type=peg_offset_type,
    )


def response_type(p: Params, order_type: OrderType) -> OrderResponseType:
    """Return `newOrderRespType`: FULL by default for LIMIT and MARKET, ACK for the others."""
    chosen = p.enum("newOrderRespType", OrderResponseType)
    if chosen is not None:
        return chosen
    return OrderResponseType.FULL if order_type in _FULL_BY_DEFAULT else OrderResponseType.ACK


def cancel_order(
    p: Params,
    account_id: int,
    id_name: str = "orderId",
    client_id_name: str = "origClientOrderId",
    new_id_name: str = "newClientOrderId",
) -> CancelOrder:
    """Parse the order to cancel (order.cancel; the `cancel*` names of order.cancelReplace)."""
    symbol = p.symbol("symbol")
    assert symbol is not None
    order_id, orig_client_id = _order_ref(p, id_name, client_id_name)
    return CancelOrder(
        account_id=account_id,
        symbol=symbol,
        order_id=order_id,
        orig_client_order_id=orig_client_id,
        new_client_order_id=_new_client_id(p, new_id_name),
        cancel_restrictions=p.enum(
            "cancelRestrictions", CancelRestrictions, invalid=errors.INVALID_CANCEL_RESTRICTIONS
        ),
    )


def amend_order(p: Params, account_id: int) -> AmendOrder:
    """Parse order.amend.keepPriority."""
    symbol = p.symbol("symbol")
    order_id, orig_client_id = _order_ref(p, "orderId", "origClientOrderId")
    new_qty = p.scaled("newQty", required=True)
    assert symbol is not None
    assert new_qty is not None
    return AmendOrder(
        account_id=account_id,
        symbol=symbol,
        new_qty=new_qty,
        order_id=order_id,
        orig_client_order_id=orig_client_id,
        new_client_order_id=_new_client_id(p, "newClientOrderId"),
    )


def cancel_replace_modes(p: Params) -> tuple[CancelReplaceMode, RateLimitExceededMode]:
    """Return (`cancelReplaceMode`, `orderRateLimitExceededMode`, default DO_NOTHING)."""
    mode = p.enum("cancelReplaceMode", CancelReplaceMode, required=True)
    exceeded = p.enum("orderRateLimitExceededMode", RateLimitExceededMode)
    assert mode is not None
    return mode, exceeded or RateLimitExceededMode.DO_NOTHING


def _refuse_not_taken(p: Params, order_type: OrderType) -> None:
    for name, types in _NOT_TAKEN.items():
        if order_type in types and p.has(name):
            raise errors.PARAM_NOT_REQUIRED.error(name)
    if order_type is OrderType.MARKET and p.has("quantity") and p.has("quoteOrderQty"):
        raise errors.PARAM_NOT_REQUIRED.error("quoteOrderQty")


def _order_ref(p: Params, id_name: str, client_id_name: str) -> tuple[int | None, str | None]:
    order_id = p.integer(id_name)
    orig_client_id = p.string(client_id_name, max_length=36)
    if order_id is None and orig_client_id is None:
        raise errors.EITHER_PARAM_REQUIRED.error(id_name, client_id_name)
    return order_id, orig_client_id


def _new_client_id(p: Params, name: str) -> str | None:
    if p.get(name) == "":
        raise errors.EMPTY_NEW_CL_ORD_ID.error()
    return p.client_id(name)


def _strategy_type(p: Params) -> int | None:
    value = p.integer("strategyType", signed=True)
    if value is not None and value < MIN_STRATEGY_TYPE:
        raise errors.BAD_STRATEGY_TYPE.error()
    return value


def _peg_offset(p: Params, is_pegged: bool) -> tuple[int | None, str | None]:
    # web-socket-api.md, pegged orders notes: offset type and value go together, PRICE_LEVEL only,
    # value at most 100.
    offset_type = p.string("pegOffsetType")
    if offset_type is not None and offset_type != PEG_OFFSET_TYPE:
        raise errors.INVALID_PEG_OFFSET_TYPE.error()
    value = p.integer("pegOffsetValue")
    if value is not None and value > MAX_PEG_OFFSET_VALUE:
        raise errors.INVALID_PARAMETER.error("pegOffsetValue")
    if (value is None) != (offset_type is None):
        missing = "pegOffsetType" if offset_type is None else "pegOffsetValue"
        raise errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED.error(missing)
    if value is not None and not is_pegged:
        raise errors.PARAM_NOT_REQUIRED.error("pegOffsetType")
    return value, offset_type
