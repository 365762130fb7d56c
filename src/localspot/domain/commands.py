"""Commands: everything that can change the engine's state, as frozen dataclasses.

Commands are imperative (`PlaceOrder`); the engine answers each with events (past tense,
events.py). Only commands change state, so a journal of commands replayed through
`Engine.apply` with the same `now_ms` values rebuilds the same state, ids included.
Values arrive parsed: enums; an order's amounts as `Scaled` (numbers.py: integer arithmetic
makes them the book's raw integers); balance amounts as Decimal. Checks that need the symbol's
rules or the book happen in the engine, which answers with `CommandRejected` naming a catalog
entry.

Compiled with the engine (setup.py), the classes keep their behaviour (frozen, equality, hash,
`dataclasses.replace`) but not their annotations, so the journal codec reads the field types
from this source (storage/codec.py), and each class pickles by constructor (`__reduce__`,
pickling.py): snapshots keep `CreateAccount`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from localspot.domain.accounts import CommissionRates
from localspot.domain.enums import (
    CancelRestrictions,
    OrderType,
    PegPriceType,
    Side,
    StpMode,
    TimeInForce,
)
from localspot.domain.numbers import Scaled
from localspot.domain.pickling import ByFields, by_fields


@dataclass(frozen=True, slots=True)
class CreateAccount:
    """Open a new account funded with `balances` (asset -> free amount)."""

    balances: tuple[tuple[str, Decimal], ...]
    commission: CommissionRates = field(default_factory=CommissionRates)
    permissions: tuple[str, ...] = ("SPOT",)
    trade_group_id: int = -1

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class ChangeBalance:
    """Set (`mode="set"`) or adjust (`mode="add"`) an account's free balance of one asset.

    The admin API's deposit/withdrawal: a result below zero is refused.
    """

    account_id: int
    asset: str
    amount: Decimal
    mode: str = "set"

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class LockBalance:
    """Lock (`delta > 0`, free -> locked) or unlock (`delta < 0`) part of a balance from outside.

    The admin API's stand-in for an external system such as margin collateral (user-data-stream.md
    "External Lock Update"); an unlock releases only what such locks hold, never an order's lock.
    """

    account_id: int
    asset: str
    delta: Decimal

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place a new order (web-socket-api.md, "Place new order"); None means "not sent"."""

    account_id: int
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce | None = None
    quantity: Scaled | None = None
    quote_order_qty: Scaled | None = None
    price: Scaled | None = None
    stop_price: Scaled | None = None
    trailing_delta: int | None = None
    iceberg_qty: Scaled | None = None
    client_order_id: str | None = None
    strategy_id: int | None = None
    strategy_type: int | None = None
    stp_mode: StpMode | None = None
    peg_price_type: PegPriceType | None = None
    peg_offset_value: int | None = None
    peg_offset_type: str | None = None

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel one open order by `order_id` and/or `orig_client_order_id` ("Cancel order")."""

    account_id: int
    symbol: str
    order_id: int | None = None
    orig_client_order_id: str | None = None
    new_client_order_id: str | None = None
    cancel_restrictions: CancelRestrictions | None = None

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class CancelOpenOrders:
    """Cancel all of an account's open orders on a symbol (openOrders.cancelAll)."""

    account_id: int
    symbol: str

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class AmendOrder:
    """Reduce an open order's quantity keeping its priority (order.amend.keepPriority)."""

    account_id: int
    symbol: str
    new_qty: Scaled
    order_id: int | None = None
    orig_client_order_id: str | None = None
    new_client_order_id: str | None = None

    def __reduce__(self) -> ByFields:
        return by_fields(self)


Command = (
    CreateAccount
    | ChangeBalance
    | LockBalance
    | PlaceOrder
    | CancelOrder
    | CancelOpenOrders
    | AmendOrder
)
