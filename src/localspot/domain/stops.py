"""Stop and trailing-stop trigger rules (web-socket-api.md "Place new order", trailing-stop-faq.md).

Prices are raw ints (symbols.py). A plain stop order triggers on the first trade at or through
its stop price:

- `STOP_LOSS BUY`, `TAKE_PROFIT SELL` (and the `_LIMIT` variants): last price >= stopPrice
- `STOP_LOSS SELL`, `TAKE_PROFIT BUY`: last price <= stopPrice

A trailing stop (trailingDelta in BIPS) first waits for the stop condition (or, without a stop
price, starts at placement from the last price, else from the next trade), then tracks the best
price since (highest for SELL, lowest for BUY) and triggers once the price has moved back by
`trailingDelta` BIPS from it.
"""

from __future__ import annotations

from typing import Final

from localspot.domain.enums import OrderType
from localspot.domain.orders import Order

_RISING: Final = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT})
_BIPS: Final = 10_000


def triggers_on_rise(order: Order) -> bool:
    """True if the stop condition is "price >= stopPrice"."""
    return (order.type in _RISING) == order.is_buy


def stop_condition_met(order: Order, price_raw: int) -> bool:
    """True if a trade at `price_raw` meets the order's stop price condition."""
    if triggers_on_rise(order):
        return price_raw >= order.stop_raw
    return price_raw <= order.stop_raw


def start_tracking(order: Order, price_raw: int, now_ms: int) -> None:
    """Begin trailing from `price_raw`."""
    order.trailing_time_ms = now_ms
    order.trail_extreme_raw = price_raw


def observe(order: Order, price_raw: int, now_ms: int) -> bool:
    """Feed one trade price to a waiting stop order; return True if it triggers."""
    delta = order.trailing_delta
    if not delta:
        return stop_condition_met(order, price_raw)
    if order.trailing_time_ms < 0:
        if order.stop_raw and not stop_condition_met(order, price_raw):
            return False
        start_tracking(order, price_raw, now_ms)
        return False
    extreme = order.trail_extreme_raw
    if order.is_buy:
        if price_raw < extreme:
            order.trail_extreme_raw = price_raw
            return False
        return price_raw * _BIPS >= extreme * (_BIPS + delta)
    if price_raw > extreme:
        order.trail_extreme_raw = price_raw
        return False
    return price_raw * _BIPS <= extreme * (_BIPS - delta)
