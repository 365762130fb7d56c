"""Domain objects -> Binance JSON shapes. Wire names live here (and in params.py) only.

Every amount is a string with the symbol's precision ("0.10000000"): prices and quote amounts
with `quoteAssetPrecision`, quantities with `baseAssetPrecision`, commissions with the
commission precision of their asset's side. Key order follows the docs' examples and the live
captures in binance-observed.md ("Order responses": `fills` before `selfTradePreventionMode`,
`icebergQty` before `fills`).

Conditional fields (web-socket-api.md, "Conditional fields in Order Responses") appear only
when their condition holds: `icebergQty` if sent, `stopPrice` for stop types, `trailingDelta` /
`trailingTime` for trailing stops, `strategyId` / `strategyType` if sent, `preventedMatchId` /
`preventedQuantity` after STP, `expiryReason` once expired, and for pegged orders
`pegPriceType`, `pegOffsetType` / `pegOffsetValue` (if sent) and `peggedPrice` (once determined)
right after `price`, as in pegged_orders.md's sample response (`price` stays as sent, 0 if none).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from localspot.domain.accounts import CommissionRates
from localspot.domain.enums import OrderResponseType, OrderStatus, OrderType, Side
from localspot.domain.numbers import format_decimal
from localspot.domain.orders import Amendment, Order, Trade
from localspot.domain.symbols import SymbolSpec
from localspot.methods.context import Call

STOP_TYPES = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.TAKE_PROFIT_LIMIT,
    }
)


def price_text(spec: SymbolSpec, value: Decimal) -> str:
    """Render a price or quote amount of `spec`."""
    return format_decimal(value, spec.quote_asset_precision)


def qty_text(spec: SymbolSpec, value: Decimal) -> str:
    """Render a base quantity of `spec`."""
    return format_decimal(value, spec.base_asset_precision)


def commission_text(spec: SymbolSpec, asset: str, value: Decimal) -> str:
    """Render a commission in `asset` with that side's commission precision."""
    decimals = (
        spec.base_commission_precision
        if asset == spec.base_asset
        else spec.quote_commission_precision
    )
    return format_decimal(value, decimals)


def order_ack(call: Call, order: Order, transact_time_ms: int) -> dict[str, Any]:
    """The `ACK` response of an order placement."""
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": call.timestamp(transact_time_ms),
    }


def order_result(
    call: Call,
    order: Order,
    transact_time_ms: int,
    fills: Iterable[Trade] | None = None,
) -> dict[str, Any]:
    """The `RESULT` response of an order placement, or `FULL` when `fills` is given."""
    spec = order.spec
    out = order_ack(call, order, transact_time_ms)
    out["price"] = price_text(spec, order.price)
    _add_peg_fields(out, order)
    _add_order_state(call, out, order)
    out["workingTime"] = call.timestamp(order.working_time_ms) if order.is_working else -1
    if fills is not None:
        out["fills"] = [fill_view(order, trade) for trade in fills]
    out["selfTradePreventionMode"] = order.stp_mode.value
    _add_stp_and_expiry(out, order)
    return out


def placement(
    call: Call,
    order: Order,
    transact_time_ms: int,
    response_type: OrderResponseType,
    fills: Iterable[Trade] = (),
) -> dict[str, Any]:
    """An order placement answer in the requested `newOrderRespType` (ACK, RESULT or FULL)."""
    if response_type is OrderResponseType.ACK:
        return order_ack(call, order, transact_time_ms)
    if response_type is OrderResponseType.RESULT:
        return order_result(call, order, transact_time_ms)
    return order_result(call, order, transact_time_ms, list(fills))


def _add_peg_fields(out: dict[str, Any], order: Order) -> None:
    if order.peg_price_type is None:
        return
    out["pegPriceType"] = order.peg_price_type.value
    if order.peg_offset_value is not None:
        out["pegOffsetType"] = "PRICE_LEVEL"
        out["pegOffsetValue"] = order.peg_offset_value
    pegged = order.pegged_price
    if pegged is not None:
        out["peggedPrice"] = price_text(order.spec, pegged)


def _add_order_state(call: Call, out: dict[str, Any], order: Order) -> None:
    """Add quantities, status, time in force, type, side and the conditional order fields."""
    spec = order.spec
    out["origQty"] = qty_text(spec, order.orig_qty)
    out["executedQty"] = qty_text(spec, order.executed_qty)
    out["origQuoteOrderQty"] = price_text(spec, order.orig_quote_order_qty)
    out["cummulativeQuoteQty"] = price_text(spec, order.cumulative_quote_qty)
    out["status"] = order.status.value
    out["timeInForce"] = order.time_in_force.value
    out["type"] = order.type.value
    out["side"] = order.side.value
    _add_order_conditionals(call, out, order)


def _add_order_conditionals(call: Call, out: dict[str, Any], order: Order) -> None:
    spec = order.spec
    if order.type in STOP_TYPES:
        out["stopPrice"] = price_text(spec, order.stop_price)
    if order.trailing_delta:
        out["trailingDelta"] = order.trailing_delta
        out["trailingTime"] = (
            call.timestamp(order.trailing_time_ms) if order.trailing_time_ms >= 0 else -1
        )
    if order.send_iceberg:
        out["icebergQty"] = qty_text(spec, order.iceberg_qty)
    if order.strategy_id is not None:
        out["strategyId"] = order.strategy_id
    if order.strategy_type is not None:
        out["strategyType"] = order.strategy_type


def _add_stp_and_expiry(out: dict[str, Any], order: Order) -> None:
    if order.has_prevented_match:
        out["preventedMatchId"] = order.prevented_match_id
        out["preventedQuantity"] = qty_text(order.spec, order.prevented_qty)
    if order.expiry_reason is not None and order.status in (
        OrderStatus.EXPIRED,
        OrderStatus.EXPIRED_IN_MATCH,
    ):
        out["expiryReason"] = order.expiry_reason.value


def fill_view(order: Order, trade: Trade) -> dict[str, Any]:
    """One entry of a FULL response's `fills` (the taker's view of a trade)."""
    spec = order.spec
    is_buyer = trade.buyer_order_id == order.order_id and trade.buyer_account_id == order.account_id
    commission, asset = trade.commission_of(is_buyer)
    return {
        "price": price_text(spec, trade.price),
        "qty": qty_text(spec, trade.qty),
        "commission": commission_text(spec, asset, commission),
        "commissionAsset": asset,
        "tradeId": trade.trade_id,
    }


def order_view(call: Call, order: Order) -> dict[str, Any]:
    """An order as order.status, openOrders.status and allOrders show it."""
    spec = order.spec
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "price": price_text(spec, order.price),
    }
    _add_peg_fields(out, order)
    out["origQty"] = qty_text(spec, order.orig_qty)
    out["executedQty"] = qty_text(spec, order.executed_qty)
    out["cummulativeQuoteQty"] = price_text(spec, order.cumulative_quote_qty)
    out["status"] = order.status.value
    out["timeInForce"] = order.time_in_force.value
    out["type"] = order.type.value
    out["side"] = order.side.value
    out["stopPrice"] = price_text(spec, order.stop_price)
    if order.trailing_delta:
        out["trailingDelta"] = order.trailing_delta
        out["trailingTime"] = (
            call.timestamp(order.trailing_time_ms) if order.trailing_time_ms >= 0 else -1
        )
    out["icebergQty"] = qty_text(spec, order.iceberg_qty)
    out["time"] = call.timestamp(order.time_ms)
    out["updateTime"] = call.timestamp(order.update_time_ms)
    out["isWorking"] = order.is_working
    out["workingTime"] = call.timestamp(order.working_time_ms) if order.is_working else -1
    out["origQuoteOrderQty"] = price_text(spec, order.orig_quote_order_qty)
    if order.strategy_id is not None:
        out["strategyId"] = order.strategy_id
    if order.strategy_type is not None:
        out["strategyType"] = order.strategy_type
    out["selfTradePreventionMode"] = order.stp_mode.value
    _add_stp_and_expiry(out, order)
    return out


def canceled_view(
    call: Call, order: Order, orig_client_order_id: str, transact_time_ms: int
) -> dict[str, Any]:
    """An order as order.cancel and openOrders.cancelAll answer it."""
    spec = order.spec
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "origClientOrderId": orig_client_order_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": call.timestamp(transact_time_ms),
        "price": price_text(spec, order.price),
    }
    _add_peg_fields(out, order)
    _add_order_state(call, out, order)
    out["selfTradePreventionMode"] = order.stp_mode.value
    _add_stp_and_expiry(out, order)
    return out


def amended(call: Call, order: Order, amendment: Amendment) -> dict[str, Any]:
    """The order.amend.keepPriority answer (web-socket-api.md "Order Amend Keep Priority")."""
    spec = order.spec
    view: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "origClientOrderId": amendment.orig_client_order_id,
        "clientOrderId": amendment.new_client_order_id,
        "price": price_text(spec, order.price),
    }
    _add_peg_fields(view, order)
    view |= {
        "qty": qty_text(spec, order.orig_qty),
        "executedQty": qty_text(spec, order.executed_qty),
        "preventedQty": qty_text(spec, order.prevented_qty),
        "quoteOrderQty": price_text(spec, order.orig_quote_order_qty),
        "cumulativeQuoteQty": price_text(spec, order.cumulative_quote_qty),
        "status": order.status.value,
        "timeInForce": order.time_in_force.value,
        "type": order.type.value,
        "side": order.side.value,
    }
    _add_order_conditionals(call, view, order)
    # The docs' example of a pending (not yet working) order has no workingTime.
    if order.is_working:
        view["workingTime"] = call.timestamp(order.working_time_ms)
    view["selfTradePreventionMode"] = order.stp_mode.value
    return {
        "transactTime": call.timestamp(amendment.time_ms),
        "executionId": amendment.execution_id,
        "amendedOrder": view,
    }


def commission_for_order(
    rates: CommissionRates, side: Side, discount: dict[str, Any]
) -> dict[str, Any]:
    """The order.test answer with `computeCommissionRates` (commission_faq.md).

    Buyer/seller rates are already added in by side, as the FAQ says. localspot has one
    (standard) commission: special and tax rates are zero; `discount` is what
    account.commission shows.
    """
    side_rate = rates.buyer if side is Side.BUY else rates.seller
    zero = format_decimal(Decimal(0), 8)
    return {
        "standardCommissionForOrder": {
            "maker": format_decimal(rates.maker + side_rate, 8),
            "taker": format_decimal(rates.taker + side_rate, 8),
        },
        "specialCommissionForOrder": {"maker": zero, "taker": zero},
        "taxCommissionForOrder": {"maker": zero, "taker": zero},
        "discount": discount,
    }
