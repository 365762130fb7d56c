"""Pegged orders (pegged_orders.md; web-socket-api.md "Place new order", pegged orders notes).

A pegged order is a limit order whose price comes from the book: `PRIMARY_PEG` takes the best
price on the order's own side, `MARKET_PEG` the best price on the opposite side, and
`pegOffsetValue` N (with `pegOffsetType=PRICE_LEVEL`) the price N existing levels deeper.
LIMIT and LIMIT_MAKER orders are pegged at placement, STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT when
they trigger. Rules, first failure wins:

- the symbol must allow pegs (`pegInstructionsAllowed`);
- MARKET, STOP_LOSS and TAKE_PROFIT cannot be pegged;
- LIMIT_MAKER takes `PRIMARY_PEG` only; LIMIT with `PRIMARY_PEG` takes `timeInForce=GTC` only
  (decision: the message is "This price peg cannot be used with this order type.");
- no level to peg to -> "Order book liquidity is too low for this pegged order."

Known limitations (decisions where the docs are silent): a pegged stop-limit order that finds no
level at trigger time, or whose BUY cannot lock the quote at the pegged price, expires
(`expiryReason` INSUFFICIENT_LIQUIDITY, resp. REJECTED); at trigger the filters are not checked
again. A pegged price never moves once set (the testnet's re-pegging is not modelled).
"""

from __future__ import annotations

from typing import Final

from localspot.domain import rejections as rj
from localspot.domain.book import OrderBook
from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import OrderType, PegPriceType, TimeInForce
from localspot.domain.events import CommandRejected
from localspot.domain.orders import Order
from localspot.domain.symbols import SymbolSpec

_NOT_PEGGABLE: Final = frozenset({OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT})


def peg_rejection(cmd: PlaceOrder, spec: SymbolSpec) -> CommandRejected | None:
    """Return why a pegged order may not be placed on this symbol, or None."""
    peg = cmd.peg_price_type
    if peg is None:
        return None
    if not spec.peg_instructions_allowed:
        return rj.PEG_NOT_SUPPORTED
    order_type = cmd.order_type
    if order_type in _NOT_PEGGABLE:
        return rj.PEG_TYPE_NOT_ALLOWED
    if order_type is OrderType.LIMIT_MAKER and peg is not PegPriceType.PRIMARY_PEG:
        return rj.PEG_NOT_FOR_TYPE
    if (
        order_type is OrderType.LIMIT
        and peg is PegPriceType.PRIMARY_PEG
        and cmd.time_in_force not in (None, TimeInForce.GTC)
    ):
        return rj.PEG_NOT_FOR_TYPE
    return None


def peg_price(book: OrderBook, order: Order) -> int | None:
    """Return the raw price `order` pegs to now, or None if the book has no such level."""
    side = book.side_of(order)
    if order.peg_price_type is PegPriceType.MARKET_PEG:
        side = book.opposite_of(order)
    return side.price_at_depth(order.peg_offset_value or 0)
