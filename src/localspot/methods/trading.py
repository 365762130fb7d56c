"""Trading requests: place, test, cancel, cancel all, cancel-replace, amend keep priority.

web-socket-api.md "Trading requests" (and rest-api.md "Trading endpoints"): `order.place`,
`order.test`, `order.cancel`, `openOrders.cancelAll`, `order.cancelReplace`,
`order.amend.keepPriority` and their REST twins. Every state change goes through
`Services.execute`; a `CommandRejected` from the engine becomes its catalog error
(`errors.rejection_error`). Order methods cost no weight when they succeed (CHANGELOG
2026-03-27, `free_on_success`); `order.test` always costs 1, or 20 with `computeCommissionRates`.

Unfilled order count (faqs/order_count_decrement.md): every placed order counts 1 in each ORDERS
window of its account; `order.cancelReplace` counts 1 even when the new order is not attempted
or fails. An order's first fill takes 1 off as taker, `MAKER_FILL_CREDIT` off as maker (the
FAQ's example 2), for whichever account owns it; counts never go below 0.

Known differences from the testnet:
- Fills decrement the unfilled order count at once (the FAQ mentions a short delay), and there
  is no extra credit for large fills (the FAQ gives no numbers).
- `order.test` checks what the engine checks before matching (symbol, order type, parameters,
  precision, filters) but not balances; `computeCommissionRates` answers the account's
  standard rates, zero special and tax rates, and account.commission's informative discount.
- `order.cancelReplace` checks the new order (parameters and filters) before canceling: a new
  order that fails those is refused as a whole (400, no `data`), nothing canceled. With
  `orderRateLimitExceededMode=CANCEL_ONLY` over the limit, a canceled order gives 409 -2021
  with the -1015 as `newOrderResponse`; a failed cancel gives 429 -1015 (STOP_ON_FAILURE) or
  400 -2022 with both errors (ALLOW_FAILURE), after the docs' table; nothing is counted.
- No order lists or SOR. Pegged orders: see domain/pegs.py for the decisions.
"""

from __future__ import annotations

from typing import Any

from localspot import errors
from localspot.auth.keys import Security
from localspot.domain.commands import CancelOpenOrders, CancelOrder, PlaceOrder
from localspot.domain.enums import OrderResponseType
from localspot.domain.events import (
    CommandRejected,
    Event,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    TradeExecuted,
)
from localspot.domain.orders import Order, Trade
from localspot.errors import BinanceError
from localspot.limits.limiter import RateLimiter
from localspot.methods import order_params, render, render_account
from localspot.methods.context import Call
from localspot.methods.order_params import CancelReplaceMode, RateLimitExceededMode
from localspot.methods.params import Params
from localspot.methods.registry import Registry, method

# order_count_decrement.md: a taker's first fill gives 1 back; a maker's gives more (example 2).
TAKER_FILL_CREDIT = 1
MAKER_FILL_CREDIT = 5
SUCCESS, FAILURE, NOT_ATTEMPTED = "SUCCESS", "FAILURE", "NOT_ATTEMPTED"
CANCEL_REPLACE_NOT_SUPPORTED = "Order cancel-replace is not supported for this symbol."
# One half of a cancel-replace: (succeeded, its response or its error body).
Half = tuple[bool, dict[str, Any]]


def register(registry: Registry) -> None:
    """Add the trading methods to `registry`."""
    trade = Security.TRADE
    method(
        registry,
        "order.place",
        weight=1,
        security=trade,
        params=order_params.PLACE_PARAMS,
        rest=[("POST", "/api/v3/order")],
        places_orders=1,
        free_on_success=True,
    )(order_place)
    method(
        registry,
        "order.test",
        weight=order_test_weight,
        security=trade,
        params=(*order_params.PLACE_PARAMS, "computeCommissionRates"),
        rest=[("POST", "/api/v3/order/test")],
    )(order_test)
    method(
        registry,
        "order.cancel",
        weight=1,
        security=trade,
        params=order_params.CANCEL_PARAMS,
        rest=[("DELETE", "/api/v3/order")],
        free_on_success=True,
    )(order_cancel)
    method(
        registry,
        "openOrders.cancelAll",
        weight=1,
        security=trade,
        params=("symbol",),
        rest=[("DELETE", "/api/v3/openOrders")],
        free_on_success=True,
    )(open_orders_cancel_all)
    method(
        registry,
        "order.cancelReplace",
        weight=1,
        security=trade,
        params=order_params.CANCEL_REPLACE_PARAMS,
        rest=[("POST", "/api/v3/order/cancelReplace")],
        places_orders=1,
        free_on_success=True,
    )(order_cancel_replace)
    method(
        registry,
        "order.amend.keepPriority",
        weight=4,
        security=trade,
        params=order_params.AMEND_PARAMS,
        rest=[("PUT", "/api/v3/order/amend/keepPriority")],
        free_on_success=True,
    )(order_amend_keep_priority)


# --- handlers ---------------------------------------------------------------------------------


async def order_place(call: Call) -> dict[str, Any]:
    """Place a new order."""
    command = order_params.place_order(call.params, call.account.account_id)
    response_type = order_params.response_type(call.params, command.order_type)

    def view(events: list[Event]) -> dict[str, Any]:
        count_orders(call, accepted(events))
        return _placement(call, events, response_type)

    return await call.services.execute_view(command, view)


def order_test_weight(p: Params) -> int:
    """Return the documented weight: 20 with computeCommissionRates, else 1."""
    return 20 if p.boolean("computeCommissionRates") else 1


def order_test(call: Call) -> dict[str, Any]:
    """Validate a new order without placing it."""
    command = order_params.place_order(call.params, call.account.account_id)
    order_params.response_type(call.params, command.order_type)
    compute = call.params.boolean("computeCommissionRates")
    check_new_order(call, command)
    if not compute:
        return {}
    # The same (informative) BNB discount as account.commission.
    discount = dict(render_account.BNB_DISCOUNT)
    return render.commission_for_order(call.account.commission, command.side, discount)


async def order_cancel(call: Call) -> dict[str, Any]:
    """Cancel one open order."""
    command = order_params.cancel_order(call.params, call.account.account_id)
    views = await call.services.execute_view(command, lambda e: _canceled_views(call, accepted(e)))
    return views[0]


async def open_orders_cancel_all(call: Call) -> list[dict[str, Any]]:
    """Cancel every open order of the account on a symbol."""
    symbol = call.params.symbol("symbol")
    assert symbol is not None
    command = CancelOpenOrders(call.account.account_id, symbol)
    return await call.services.execute_view(command, lambda e: _canceled_views(call, accepted(e)))


async def order_cancel_replace(call: Call) -> dict[str, Any]:
    """Cancel an order and place a new one (not transactional)."""
    p, account_id = call.params, call.account.account_id
    mode, exceeded_mode = order_params.cancel_replace_modes(p)
    cancel = order_params.cancel_order(
        p, account_id, "cancelOrderId", "cancelOrigClientOrderId", "cancelNewClientOrderId"
    )
    place = order_params.place_order(p, account_id)
    response_type = order_params.response_type(p, place.order_type)
    # "Filters and order count limits are evaluated before cancellation and order placement."
    check_new_order(call, place, cancel_replace=True)
    over_limit = None
    if exceeded_mode is RateLimitExceededMode.CANCEL_ONLY:
        over_limit = _order_limit_error(call)
    if over_limit is None:  # counted even when the new order is not attempted
        call.services.limiter.count_order(account_id, call.now_ms)
    cancel_half = await _cancel_half(call, cancel)
    if not cancel_half[0] and mode is CancelReplaceMode.STOP_ON_FAILURE:
        if over_limit is not None:
            raise over_limit  # the docs' table: 429 for STOP_ON_FAILURE over the limit
        raise _cancel_replace_error(cancel_half, None)
    if over_limit is not None:
        new_half = (False, _error_body(over_limit))
    else:
        new_half = await _new_order_half(call, place, response_type)
    if cancel_half[0] and new_half[0]:
        return _cancel_replace_body(cancel_half, new_half)
    raise _cancel_replace_error(cancel_half, new_half)


async def order_amend_keep_priority(call: Call) -> dict[str, Any]:
    """Reduce an open order's quantity, keeping its place in the book."""
    command = order_params.amend_order(call.params, call.account.account_id)

    def view(events: list[Event]) -> dict[str, Any]:
        amended = next(e for e in accepted(events) if isinstance(e, OrderAmended))
        return render.amended(call, amended.order, amended.amendment)

    return await call.services.execute_view(command, view)


# --- engine outcomes --------------------------------------------------------------------------


def accepted(events: list[Event]) -> list[Event]:
    """Return `events`, or raise the catalog error of the engine's rejection."""
    for event in events:
        if isinstance(event, CommandRejected):
            raise errors.rejection_error(event.code, event.message)
    return events


def placed_order(events: list[Event]) -> tuple[Order, int, list[Trade]]:
    """Return the placed order, its transaction time and its fills as taker."""
    accepted_event = next(e for e in events if isinstance(e, OrderAccepted))
    order = accepted_event.order
    fills = [e.trade for e in events if isinstance(e, TradeExecuted) and e.taker is order]
    return order, accepted_event.transact_time_ms, fills


def _placement(call: Call, events: list[Event], response_type: OrderResponseType) -> dict[str, Any]:
    order, transact_time_ms, fills = placed_order(events)
    return render.placement(call, order, transact_time_ms, response_type, fills)


def _canceled_views(call: Call, events: list[Event]) -> list[dict[str, Any]]:
    return [
        render.canceled_view(call, e.order, e.orig_client_order_id, e.transact_time_ms)
        for e in events
        if isinstance(e, OrderCanceled)
    ]


def check_new_order(call: Call, command: PlaceOrder, *, cancel_replace: bool = False) -> None:
    """Run the engine's checks that come before matching, changing nothing (order.test)."""
    engine = call.services.engine
    spec = engine.symbol(command.symbol)
    if spec is None:
        raise errors.BAD_SYMBOL.error()
    if cancel_replace and not spec.cancel_replace_allowed:
        raise errors.rejection(errors.NEW_ORDER_REJECTED, CANCEL_REPLACE_NOT_SUPPORTED).error()
    rejected = engine.check(command, call.now_ms)
    if rejected is not None:
        raise errors.rejection_error(rejected.code, rejected.message)


# --- unfilled order count ---------------------------------------------------------------------


def count_orders(call: Call, events: list[Event]) -> None:
    """Count one placed order for the caller, then credit the fills in `events`."""
    limiter = call.services.limiter
    limiter.count_order(call.account.account_id, call.now_ms)
    credit_fills(limiter, events, call.now_ms)


def credit_fills(limiter: RateLimiter, events: list[Event], now_ms: int) -> None:
    """Take first fills off the unfilled order count of each order's account."""
    for event in events:
        if not isinstance(event, TradeExecuted):
            continue
        qty = event.trade.qty
        if event.taker_executed_qty == qty:
            limiter.decrement_orders(event.taker.account_id, now_ms, TAKER_FILL_CREDIT)
        if event.maker_executed_qty == qty:
            limiter.decrement_orders(event.maker.account_id, now_ms, MAKER_FILL_CREDIT)


def _order_limit_error(call: Call) -> BinanceError | None:
    services = call.services
    if not services.config.rate_limits_enabled:
        return None
    try:
        services.limiter.check_order(call.account.account_id, call.now_ms)
    except BinanceError as exc:
        return exc
    return None


# --- cancel-replace ---------------------------------------------------------------------------


async def _cancel_half(call: Call, command: CancelOrder) -> Half:
    try:
        views = await call.services.execute_view(
            command, lambda e: _canceled_views(call, accepted(e))
        )
    except BinanceError as exc:
        return False, _error_body(exc)
    return True, views[0]


async def _new_order_half(
    call: Call, command: PlaceOrder, response_type: OrderResponseType
) -> Half:
    def view(events: list[Event]) -> dict[str, Any]:
        credit_fills(call.services.limiter, accepted(events), call.now_ms)
        return _placement(call, events, response_type)

    try:
        return True, await call.services.execute_view(command, view)
    except BinanceError as exc:
        return False, _error_body(exc)


def _error_body(exc: BinanceError) -> dict[str, Any]:
    return {"code": exc.code, "msg": exc.msg}


def _cancel_replace_body(cancel: Half, new_order: Half | None) -> dict[str, Any]:
    if new_order is None:
        new_result, new_response = NOT_ATTEMPTED, None
    else:
        new_result, new_response = (SUCCESS if new_order[0] else FAILURE), new_order[1]
    return {
        "cancelResult": SUCCESS if cancel[0] else FAILURE,
        "newOrderResult": new_result,
        "cancelResponse": cancel[1],
        "newOrderResponse": new_response,
    }


def _cancel_replace_error(cancel: Half, new_order: Half | None) -> BinanceError:
    """-2022 (400) when nothing succeeded, else -2021 (409), both halves in `data`."""
    succeeded = cancel[0] or (new_order is not None and new_order[0])
    spec = errors.CANCEL_REPLACE_PARTIALLY_FAILED if succeeded else errors.CANCEL_REPLACE_FAILED
    return spec.error(data=_cancel_replace_body(cancel, new_order))
