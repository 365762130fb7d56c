"""Builders shared by the domain tests: a simple symbol, funded accounts, order shortcuts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from localspot.domain.accounts import CommissionRates
from localspot.domain.commands import CreateAccount, PlaceOrder
from localspot.domain.engine import Engine
from localspot.domain.enums import OrderType, Side, StpMode, TimeInForce
from localspot.domain.events import AccountCreated, Event, OrderAccepted
from localspot.domain.numbers import Scaled
from localspot.domain.orders import Order
from localspot.domain.symbols import LotSize, PriceFilter, SymbolSpec, load_symbols

REPO_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "exchangeInfo-testnet.json"
# The captured fixture lives in shared/, beside the repository (and beside CI's clone).
FIXTURE = next(
    (
        parent.parent / "shared" / "fixtures" / "exchangeInfo-testnet.json"
        for parent in Path(__file__).resolve().parents
        if (parent.parent / "shared" / "fixtures" / "exchangeInfo-testnet.json").exists()
    ),
    REPO_FIXTURE,
)
E = TypeVar("E")


def D(text: str | int) -> Decimal:
    """Decimal shorthand."""
    return Decimal(str(text))


def S(text: str | int) -> Scaled:
    """Shorthand for an order's amount as its command carries it."""
    return Scaled.parse(str(text))


def fixture_specs() -> list[SymbolSpec]:
    """The five captured testnet/mainnet symbols."""
    path = REPO_FIXTURE if REPO_FIXTURE.exists() else FIXTURE
    return load_symbols(json.loads(path.read_text()))


def simple_spec(**overrides: Any) -> SymbolSpec:
    """A symbol with easy numbers: tick 0.01, step 0.001, no notional or percent filters."""
    fields: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "base_asset": "BTC",
        "quote_asset": "USDT",
        "price_filter": PriceFilter(D("0.01"), D("1000000"), D("0.01")),
        "lot_size": LotSize(D("0.001"), D("9000"), D("0.001")),
        "default_stp_mode": StpMode.NONE,
    }
    fields.update(overrides)
    return SymbolSpec(**fields)


class Harness:
    """An engine with helpers; time advances by one ms per command."""

    def __init__(self, *specs: SymbolSpec) -> None:
        self.engine = Engine(specs or (simple_spec(),))
        self.now = 1_000_000

    def apply(self, command: Any) -> list[Event]:
        self.now += 1
        return self.engine.apply(command, self.now)

    def account(
        self,
        btc: str | int = 100,
        usdt: str | int = 1_000_000,
        commission: CommissionRates | None = None,
        trade_group_id: int = -1,
    ) -> int:
        events = self.apply(
            CreateAccount(
                (("BTC", D(btc)), ("USDT", D(usdt))),
                commission or CommissionRates(),
                trade_group_id=trade_group_id,
            )
        )
        created = first(events, AccountCreated)
        return created.account_id

    def place(
        self,
        account_id: int,
        side: str,
        qty: str | int | None,
        price: str | int | None = None,
        order_type: OrderType | None = None,
        tif: TimeInForce | None = None,
        symbol: str = "BTCUSDT",
        **kw: Any,
    ) -> list[Event]:
        kind = order_type or (OrderType.LIMIT if price is not None else OrderType.MARKET)
        if tif is None and kind in (
            OrderType.LIMIT,
            OrderType.STOP_LOSS_LIMIT,
            OrderType.TAKE_PROFIT_LIMIT,
        ):
            tif = TimeInForce.GTC
        return self.apply(
            PlaceOrder(
                account_id,
                symbol,
                Side(side),
                kind,
                tif,
                quantity=None if qty is None else S(qty),
                price=None if price is None else S(price),
                **kw,
            )
        )

    def balance(self, account_id: int, asset: str) -> tuple[Decimal, Decimal]:
        account = self.engine.accounts.get(account_id)
        assert account is not None
        found = account.balances.get(asset)
        return (Decimal(0), Decimal(0)) if found is None else (found.free, found.locked)

    def totals(self) -> dict[str, Decimal]:
        """Per asset: sum of free + locked over accounts plus commission collected."""
        out: dict[str, Decimal] = dict(self.engine.commission_collected)
        for account in self.engine.accounts:
            for asset, balance in account.balances.items():
                out[asset] = out.get(asset, Decimal(0)) + balance.free + balance.locked
        return out


def first(events: Iterable[Any], kind: type[E]) -> E:
    """The first event of a type."""
    for event in events:
        if isinstance(event, kind):
            return event
    raise AssertionError(f"no {kind.__name__} in {events!r}")


def every(events: Iterable[Any], kind: type[E]) -> list[E]:
    """All events of a type."""
    return [event for event in events if isinstance(event, kind)]


def placed(events: Iterable[Any]) -> Order:
    """The order an order.place answered with."""
    return first(events, OrderAccepted).order


def test_simple_spec_scales() -> None:
    spec = simple_spec()
    assert (spec.price_decimals, spec.qty_decimals, spec.raw.tick, spec.raw.step) == (
        8,
        8,
        10**6,
        10**5,
    )
