"""Engine events -> User Data Stream event payloads (user-data-stream.md). Wire names live here.

`render_batch(now_ms, events, wanted)` turns the events of one command into
`(account_id, event)` pairs, in the engine's order, for the accounts `wanted` says someone is
subscribed to. It must run right after the engine applied the command (userdata.py calls it from
`Services.observers`): fields the events do not snapshot (client order id, quantity, working
flags) are read from the live `Order`, which later commands may change.

Execution reports (`executionReport`), one per order per event:
- keys in the order of the docs' payload; `v` (prevented match id) sits after `t` as there;
  conditional fields ("Conditional Fields in Execution Report") follow `V` in the table's
  order: `d`/`D` (trailing stops), `j`/`J` (strategy id/type if sent), `A`/`B`/`u`/`U`/`Cs`/
  `pl`/`pL`/`pY` (STP reports), `gP`/`gOT`/`gOV`/`gp` (pegged orders; `gOT`/`gOV` only if
  sent, `gp` "0.00000000" while a pegged stop-limit order waits for its trigger), `eR` (expired
  orders);
- a `TradeExecuted` gives the maker and the taker each their own `TRADE` report;
- `w` ("on the book") follows the docs' captures (market_orders_faq.md): true on a working
  order's `NEW`, false on a taker's fills and on terminal reports, true on a maker fill that
  leaves it resting; `M` is true on trades; `W` appears once the order is working (a stop
  order only after its trigger, which is reported as `NEW` again with `w` true);
- `C` is the original client order id on `CANCELED` and `REPLACED`, "" otherwise.

STP (stp_faq.md): an order whose remaining quantity an STP event cuts gets a `TRADE_PREVENTION`
report with `B` (this event's prevented quantity) and `A` (over the order's life); it is
`EXPIRED_IN_MATCH` unless quantity is left (DECREMENT/TRANSFER). `pl` is the quantity the two
orders would have traded (the smaller remaining quantity), `pL` the maker's price, `pY` their
product; `u` the taker's trade group (-1 for none).

Balances: `BalancesUpdated` -> `outboundAccountPosition`; an admin `BalanceChanged` ->
`balanceUpdate` then `outboundAccountPosition`; an admin `BalanceLocked` -> `externalLockUpdate`
(its `BalancesUpdated` follows). Balances print with 8 decimals, as account.status.

Known limits: no `REJECTED` execution type (the engine never accepts an order it then rejects;
rejected orders answer the request with an error and produce no event, so `r` is always
"NONE"), no `listStatus` (no order lists yet), no allocation/SOR fields (`b`, `a`, `k`, `uS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from localspot.domain.enums import ExecutionType, OrderStatus
from localspot.domain.events import (
    BalanceChanged,
    BalanceLocked,
    BalancesUpdated,
    Event,
    MatchPrevented,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    TradeExecuted,
)
from localspot.domain.numbers import ZERO, format_decimal
from localspot.domain.orders import Order
from localspot.methods.render import commission_text, price_text, qty_text

BALANCE_DECIMALS = 8

# Timestamp fields of each event type, for connections with timeUnit=MICROSECOND.
TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "executionReport": ("E", "T", "O", "W", "D"),
    "outboundAccountPosition": ("E", "u"),
    "balanceUpdate": ("E", "T"),
    "eventStreamTerminated": ("E",),
    "listStatus": ("E", "T"),
    "externalLockUpdate": ("E", "T"),
}

Rendered = tuple[int, dict[str, Any]]


def in_time_unit(event: dict[str, Any], microseconds: bool) -> dict[str, Any]:
    """Return `event` with its timestamps in microseconds if asked (negative ones stay)."""
    if not microseconds:
        return event
    out = dict(event)
    for name in TIME_FIELDS.get(event["e"], ()):
        value = out.get(name)
        if isinstance(value, int) and value >= 0:
            out[name] = value * 1_000
    return out


def event_stream_terminated(now_ms: int) -> dict[str, Any]:
    """The `eventStreamTerminated` event."""
    return {"e": "eventStreamTerminated", "E": now_ms}


def account_position(
    now_ms: int, update_time_ms: int, balances: Iterable[tuple[str, Decimal, Decimal]]
) -> dict[str, Any]:
    """The `outboundAccountPosition` event for (asset, free, locked) rows."""
    return {
        "e": "outboundAccountPosition",
        "E": now_ms,
        "u": update_time_ms,
        "B": [
            {
                "a": asset,
                "f": format_decimal(free, BALANCE_DECIMALS),
                "l": format_decimal(locked, BALANCE_DECIMALS),
            }
            for asset, free, locked in balances
        ],
    }


def balance_update(now_ms: int, asset: str, delta: Decimal) -> dict[str, Any]:
    """The `balanceUpdate` event of a deposit (delta > 0) or withdrawal."""
    return {
        "e": "balanceUpdate",
        "E": now_ms,
        "a": asset,
        "d": format_decimal(delta, BALANCE_DECIMALS),
        "T": now_ms,
    }


def external_lock_update(now_ms: int, asset: str, delta: Decimal) -> dict[str, Any]:
    """The `externalLockUpdate` event of an external lock (delta > 0) or unlock."""
    return {
        "e": "externalLockUpdate",
        "E": now_ms,
        "a": asset,
        "d": format_decimal(delta, BALANCE_DECIMALS),
        "T": now_ms,
    }


@dataclass(frozen=True, slots=True)
class Progress:
    """An order's status and amounts as of one event."""

    status: OrderStatus
    executed_qty: Decimal
    cumulative_quote_qty: Decimal


@dataclass(frozen=True, slots=True)
class Fill:
    """The `TRADE` part of a report: last fill and commission."""

    trade_id: int
    qty: Decimal
    price: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool


@dataclass(frozen=True, slots=True)
class Prevention:
    """The STP part of a `TRADE_PREVENTION` report."""

    prevented_match_id: int
    prevented_qty: Decimal
    last_prevented_qty: Decimal
    trade_group_id: int
    counter_order_id: int
    counter_symbol: str
    execution_qty: Decimal
    execution_price: Decimal


def execution_report(
    order: Order,
    *,
    now_ms: int,
    execution_type: ExecutionType,
    progress: Progress,
    transact_time_ms: int,
    execution_id: int,
    on_book: bool,
    working: bool,
    orig_client_order_id: str = "",
    fill: Fill | None = None,
    prevention: Prevention | None = None,
    expired: bool = False,
) -> dict[str, Any]:
    """One `executionReport` (user-data-stream.md "Order Update")."""
    spec = order.spec
    out: dict[str, Any] = {
        "e": "executionReport",
        "E": now_ms,
        "s": order.symbol,
        "c": order.client_order_id,
        "S": order.side.value,
        "o": order.type.value,
        "f": order.time_in_force.value,
        "q": qty_text(spec, order.orig_qty),
        "p": price_text(spec, order.price),
        "P": price_text(spec, order.stop_price),
        "F": qty_text(spec, order.iceberg_qty),
        "g": order.order_list_id,
        "C": orig_client_order_id,
        "x": execution_type.value,
        "X": progress.status.value,
        "r": "NONE",
        "i": order.order_id,
        "l": qty_text(spec, fill.qty if fill else ZERO),
        "z": qty_text(spec, progress.executed_qty),
        "L": price_text(spec, fill.price if fill else ZERO),
        "n": commission_text(spec, fill.commission_asset, fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": transact_time_ms,
        "t": fill.trade_id if fill else -1,
    }
    if prevention is not None:
        out["v"] = prevention.prevented_match_id
    out["I"] = execution_id
    out["w"] = on_book
    out["m"] = fill.is_maker if fill else False
    out["M"] = fill is not None
    out["O"] = order.time_ms
    out["Z"] = price_text(spec, progress.cumulative_quote_qty)
    out["Y"] = price_text(spec, fill.quote_qty if fill else ZERO)
    out["Q"] = price_text(spec, order.orig_quote_order_qty)
    if working:
        out["W"] = order.working_time_ms
    out["V"] = order.stp_mode.value
    _add_conditionals(out, order, prevention, expired)
    return out


def _add_conditionals(
    out: dict[str, Any], order: Order, prevention: Prevention | None, expired: bool
) -> None:
    if order.trailing_delta:
        out["d"] = order.trailing_delta
        out["D"] = order.trailing_time_ms if order.trailing_time_ms >= 0 else -1
    if order.strategy_id is not None:
        out["j"] = order.strategy_id
    if order.strategy_type is not None:
        out["J"] = order.strategy_type
    if prevention is not None:
        spec = order.spec
        out["A"] = qty_text(spec, prevention.prevented_qty)
        out["B"] = qty_text(spec, prevention.last_prevented_qty)
        out["u"] = prevention.trade_group_id
        out["U"] = prevention.counter_order_id
        out["Cs"] = prevention.counter_symbol
        out["pl"] = qty_text(spec, prevention.execution_qty)
        out["pL"] = price_text(spec, prevention.execution_price)
        out["pY"] = price_text(spec, prevention.execution_qty * prevention.execution_price)
    if order.peg_price_type is not None:
        out["gP"] = order.peg_price_type.value
        if order.peg_offset_value is not None:
            out["gOT"] = "PRICE_LEVEL"
            out["gOV"] = order.peg_offset_value
        out["gp"] = price_text(order.spec, order.pegged_price or ZERO)
    if expired and order.expiry_reason is not None:
        out["eR"] = order.expiry_reason.value


def render_batch(now_ms: int, events: list[Event], wanted: Callable[[int], bool]) -> list[Rendered]:
    """Render one command's events for the accounts `wanted` accepts, in the engine's order."""
    return _Batch(now_ms, events, wanted).render()


class _Batch:
    """Walks one command's events, tracking each order's progress from event to event."""

    def __init__(self, now_ms: int, events: list[Event], wanted: Callable[[int], bool]) -> None:
        self.now_ms = now_ms
        self.events = events
        self.wanted = wanted
        self.out: list[Rendered] = []
        self.progress: dict[int, Progress] = {}
        self.prevented: dict[int, Decimal] = {}
        self.last_prevention: dict[int, Prevention] = {}

    def render(self) -> list[Rendered]:
        if any(isinstance(e, MatchPrevented) for e in self.events):
            self._count_prevented()
        for event in self.events:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event)
        return self.out

    def _emit(self, account_id: int, payload: dict[str, Any]) -> None:
        self.out.append((account_id, payload))

    def _progress_of(self, order: Order) -> Progress:
        known = self.progress.get(id(order))
        if known is not None:
            return known
        return Progress(order.status, order.executed_qty, order.cumulative_quote_qty)

    # -- order events ---------------------------------------------------------------------

    def accepted(self, event: OrderAccepted) -> None:
        self._new(event, working=not event.order.type.is_stop)

    def triggered(self, event: OrderTriggered) -> None:
        # A triggered stop is reported as NEW again, now working on the book.
        self._new(event, working=True)

    def _new(self, event: OrderAccepted | OrderTriggered, *, working: bool) -> None:
        order = event.order
        progress = Progress(OrderStatus.NEW, ZERO, ZERO)
        self.progress[id(order)] = progress
        if not self.wanted(order.account_id):
            return
        self._emit(
            order.account_id,
            execution_report(
                order,
                now_ms=self.now_ms,
                execution_type=ExecutionType.NEW,
                progress=progress,
                transact_time_ms=event.transact_time_ms,
                execution_id=event.execution_id,
                on_book=working,
                working=working,
            ),
        )

    def traded(self, event: TradeExecuted) -> None:
        trade = event.trade
        for is_maker in (True, False):
            order = event.maker if is_maker else event.taker
            if is_maker:
                progress = Progress(
                    event.maker_status,
                    event.maker_executed_qty,
                    event.maker_cumulative_quote_qty,
                )
                commission, asset = event.maker_commission
                execution_id = event.maker_execution_id
            else:
                progress = Progress(
                    event.taker_status,
                    event.taker_executed_qty,
                    event.taker_cumulative_quote_qty,
                )
                commission, asset = event.taker_commission
                execution_id = event.taker_execution_id
            self.progress[id(order)] = progress
            if not self.wanted(order.account_id):
                continue
            fill = Fill(
                trade.trade_id, trade.qty, trade.price, trade.quote_qty, commission, asset, is_maker
            )
            self._emit(
                order.account_id,
                execution_report(
                    order,
                    now_ms=self.now_ms,
                    execution_type=ExecutionType.TRADE,
                    progress=progress,
                    transact_time_ms=trade.time_ms,
                    execution_id=execution_id,
                    on_book=is_maker and progress.status.is_open,
                    working=order.is_working,
                    fill=fill,
                ),
            )

    def canceled(self, event: OrderCanceled) -> None:
        order = event.order
        if not self.wanted(order.account_id):
            return
        self._emit(
            order.account_id,
            execution_report(
                order,
                now_ms=self.now_ms,
                execution_type=ExecutionType.CANCELED,
                progress=Progress(
                    OrderStatus.CANCELED, order.executed_qty, order.cumulative_quote_qty
                ),
                transact_time_ms=event.transact_time_ms,
                execution_id=event.execution_id,
                on_book=False,
                working=order.is_working,
                orig_client_order_id=event.orig_client_order_id,
            ),
        )

    def amended(self, event: OrderAmended) -> None:
        order = event.order
        if not self.wanted(order.account_id):
            return
        amendment = event.amendment
        self._emit(
            order.account_id,
            execution_report(
                order,
                now_ms=self.now_ms,
                execution_type=ExecutionType.REPLACED,
                progress=self._progress_of(order),
                transact_time_ms=event.transact_time_ms,
                execution_id=amendment.execution_id,
                on_book=order.in_book,
                working=order.is_working,
                orig_client_order_id=amendment.orig_client_order_id,
            ),
        )

    def expired(self, event: OrderExpired) -> None:
        order = event.order
        progress = Progress(event.status, event.executed_qty, event.cumulative_quote_qty)
        self.progress[id(order)] = progress
        if not self.wanted(order.account_id):
            return
        prevention = None
        if event.execution_type is ExecutionType.TRADE_PREVENTION:
            last = self.last_prevention.get(id(order))
            if last is not None:
                prevention = replace(
                    last,
                    prevented_qty=event.prevented_qty,
                    last_prevented_qty=event.last_prevented_qty,
                )
        self._emit(
            order.account_id,
            execution_report(
                order,
                now_ms=self.now_ms,
                execution_type=event.execution_type,
                progress=progress,
                transact_time_ms=event.transact_time_ms,
                execution_id=event.execution_id,
                on_book=False,
                working=order.is_working,
                prevention=prevention,
                expired=True,
            ),
        )

    # -- self-trade prevention ------------------------------------------------------------

    def _count_prevented(self) -> None:
        # An order's prevented quantity before this command: what it ends with minus what this
        # command's STP events cut (MatchPrevented snapshots only the cut itself).
        cut: dict[int, tuple[Order, Decimal]] = {}
        for event in self.events:
            if isinstance(event, MatchPrevented):
                for order, qty in (
                    (event.taker, event.taker_last_prevented_qty),
                    (event.maker, event.maker_last_prevented_qty),
                ):
                    before = cut.get(id(order), (order, ZERO))[1]
                    cut[id(order)] = (order, before + qty)
        for key, (order, total) in cut.items():
            self.prevented[key] = order.prevented_qty - total

    def prevented_match(self, event: MatchPrevented) -> None:
        record = event.prevented_match
        taker, maker = event.taker, event.maker
        taker_left = self._remaining(taker)
        maker_left = (
            event.maker_last_prevented_qty
            if event.maker_last_prevented_qty
            else self._remaining(maker)
        )
        execution_qty = min(taker_left, maker_left)
        for order, counter, qty in (
            (maker, taker, event.maker_last_prevented_qty),
            (taker, maker, event.taker_last_prevented_qty),
        ):
            if not qty:
                continue
            total = self.prevented.get(id(order), ZERO) + qty
            self.prevented[id(order)] = total
            prevention = Prevention(
                record.prevented_match_id,
                total,
                qty,
                record.trade_group_id,
                counter.order_id,
                counter.symbol,
                execution_qty,
                record.price,
            )
            self.last_prevention[id(order)] = prevention
            if self._remaining(order) > 0:
                self._report_prevented(order, order is maker, prevention, record.transact_time_ms)

    def _remaining(self, order: Order) -> Decimal:
        progress = self._progress_of(order)
        prevented = self.prevented.get(id(order), order.prevented_qty)
        return order.orig_qty - progress.executed_qty - prevented

    def _report_prevented(
        self, order: Order, is_maker: bool, prevention: Prevention, transact_time_ms: int
    ) -> None:
        # DECREMENT/TRANSFER left quantity on the order: it goes on, so no OrderExpired follows.
        if not self.wanted(order.account_id):
            return
        progress = self._progress_of(order)
        self._emit(
            order.account_id,
            execution_report(
                order,
                now_ms=self.now_ms,
                execution_type=ExecutionType.TRADE_PREVENTION,
                progress=progress,
                transact_time_ms=transact_time_ms,
                execution_id=-1,
                on_book=is_maker,
                working=order.is_working,
                prevention=prevention,
            ),
        )

    # -- balances -------------------------------------------------------------------------

    def balances_updated(self, event: BalancesUpdated) -> None:
        if self.wanted(event.account_id):
            self._emit(
                event.account_id,
                account_position(self.now_ms, event.update_time_ms, event.balances),
            )

    def balance_changed(self, event: BalanceChanged) -> None:
        if event.delta == 0 or not self.wanted(event.account_id):
            return
        self._emit(event.account_id, balance_update(self.now_ms, event.asset, event.delta))
        self._emit(
            event.account_id,
            account_position(self.now_ms, self.now_ms, [(event.asset, event.free, event.locked)]),
        )

    def balance_locked(self, event: BalanceLocked) -> None:
        if self.wanted(event.account_id):
            self._emit(
                event.account_id, external_lock_update(self.now_ms, event.asset, event.delta)
            )


_HANDLERS: dict[type[Any], Callable[[_Batch, Any], None]] = {
    OrderAccepted: _Batch.accepted,
    OrderTriggered: _Batch.triggered,
    TradeExecuted: _Batch.traded,
    OrderCanceled: _Batch.canceled,
    OrderAmended: _Batch.amended,
    OrderExpired: _Batch.expired,
    MatchPrevented: _Batch.prevented_match,
    BalancesUpdated: _Batch.balances_updated,
    BalanceChanged: _Batch.balance_changed,
    BalanceLocked: _Batch.balance_locked,
}
