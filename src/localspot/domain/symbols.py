"""Symbols and their trading rules, parsed from a Binance exchangeInfo symbol entry (filters.md).

`SymbolSpec.from_exchange_info(entry)` reads the fixture's shape (testnet and older mainnet
entries alike). Besides the typed Decimal values it precomputes the scaled integers the book
works in:

- prices are raw ints at `price_decimals` (at least `quotePrecision` and the tick size's places),
- quantities at `qty_decimals` (at least `baseAssetPrecision` and the step size's places),
- quote amounts (notionals, balances moved by trades) at `quote_decimals` (`quoteAssetPrecision`).

A notional `price_raw * qty_raw` is at `price_decimals + qty_decimals` places; converting it to
quote units truncates (see engine.py, "Known limitations").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from localspot.domain.enums import FilterType, OrderType, StpMode, SymbolStatus
from localspot.domain.numbers import ZERO, decimals_of, to_raw
from localspot.domain.pickling import ByFields, by_fields


def _dec(entry: Mapping[str, Any], key: str, default: str = "0") -> Decimal:
    return Decimal(str(entry.get(key, default)))


def _ratio(value: Decimal) -> tuple[int, int]:
    numerator, denominator = value.as_integer_ratio()
    return numerator, denominator


@dataclass(frozen=True, slots=True)
class PriceFilter:
    """PRICE_FILTER: bounds and tick of `price`/`stopPrice`; a zero part is disabled."""

    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class PercentPrice:
    """PERCENT_PRICE: price within [avg * down, avg * up]."""

    multiplier_up: Decimal
    multiplier_down: Decimal
    avg_price_mins: int

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class PercentPriceBySide:
    """PERCENT_PRICE_BY_SIDE: like PERCENT_PRICE with separate bid and ask ranges."""

    bid_multiplier_up: Decimal
    bid_multiplier_down: Decimal
    ask_multiplier_up: Decimal
    ask_multiplier_down: Decimal
    avg_price_mins: int

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class LotSize:
    """LOT_SIZE or MARKET_LOT_SIZE: bounds and step of `quantity`; a zero part is disabled."""

    min_qty: Decimal
    max_qty: Decimal
    step_size: Decimal

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class MinNotional:
    """MIN_NOTIONAL: price * quantity >= min_notional."""

    min_notional: Decimal
    apply_to_market: bool
    avg_price_mins: int

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class Notional:
    """NOTIONAL: min_notional <= price * quantity <= max_notional."""

    min_notional: Decimal
    apply_min_to_market: bool
    max_notional: Decimal
    apply_max_to_market: bool
    avg_price_mins: int

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class TrailingDelta:
    """TRAILING_DELTA: bounds of `trailingDelta` (BIPS) by trigger direction."""

    min_trailing_above_delta: int
    max_trailing_above_delta: int
    min_trailing_below_delta: int
    max_trailing_below_delta: int

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@dataclass(frozen=True, slots=True)
class RawLimits:
    """Filter bounds as scaled ints (see module docstring); 0 means "disabled"."""

    tick: int = 0
    min_price: int = 0
    max_price: int = 0
    step: int = 0
    min_qty: int = 0
    max_qty: int = 0
    market_step: int = 0
    market_min_qty: int = 0
    market_max_qty: int = 0

    def __reduce__(self) -> ByFields:
        return by_fields(self)

    @property
    def price_step(self) -> int:
        """The tick, or 1 without one: every raw price is a whole number of these."""
        return self.tick or 1


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One symbol: assets, precisions, permitted features and typed filters."""

    symbol: str
    base_asset: str
    quote_asset: str
    status: SymbolStatus = SymbolStatus.TRADING
    base_asset_precision: int = 8
    quote_precision: int = 8
    quote_asset_precision: int = 8
    base_commission_precision: int = 8
    quote_commission_precision: int = 8
    order_types: frozenset[OrderType] = frozenset(OrderType)
    iceberg_allowed: bool = True
    oco_allowed: bool = True
    oto_allowed: bool = True
    opo_allowed: bool = True
    quote_order_qty_market_allowed: bool = True
    allow_trailing_stop: bool = True
    cancel_replace_allowed: bool = True
    amend_allowed: bool = True
    peg_instructions_allowed: bool = True
    is_spot_trading_allowed: bool = True
    permission_sets: tuple[tuple[str, ...], ...] = (("SPOT",),)
    default_stp_mode: StpMode = StpMode.NONE
    allowed_stp_modes: frozenset[StpMode] = frozenset(StpMode)
    price_filter: PriceFilter | None = None
    percent_price: PercentPrice | None = None
    percent_price_by_side: PercentPriceBySide | None = None
    lot_size: LotSize | None = None
    min_notional: MinNotional | None = None
    notional: Notional | None = None
    iceberg_parts: int | None = None
    market_lot_size: LotSize | None = None
    max_num_orders: int | None = None
    max_num_algo_orders: int | None = None
    max_num_iceberg_orders: int | None = None
    max_position: Decimal | None = None
    trailing_delta: TrailingDelta | None = None
    max_num_order_amends: int | None = None
    max_num_order_lists: int | None = None
    exchange_info: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    price_decimals: int = field(init=False)
    qty_decimals: int = field(init=False)
    quote_decimals: int = field(init=False)
    raw: RawLimits = field(init=False)

    def __reduce__(self) -> ByFields:
        return by_fields(self)

    def __post_init__(self) -> None:
        pf, lot, mlot = self.price_filter, self.lot_size, self.market_lot_size
        price_places = [self.quote_precision]
        if pf is not None:
            price_places += [decimals_of(pf.tick_size), decimals_of(pf.min_price)]
        qty_places = [self.base_asset_precision]
        for lots in (lot, mlot):
            if lots is not None:
                qty_places += [decimals_of(lots.step_size), decimals_of(lots.min_qty)]
        pd, qd = max(price_places), max(qty_places)
        object.__setattr__(self, "price_decimals", pd)
        object.__setattr__(self, "qty_decimals", qd)
        object.__setattr__(self, "quote_decimals", self.quote_asset_precision)

        def p(value: Decimal) -> int:
            return to_raw(value, pd) or 0

        def q(value: Decimal) -> int:
            return to_raw(value, qd) or 0

        raw = RawLimits(
            tick=p(pf.tick_size) if pf else 0,
            min_price=p(pf.min_price) if pf else 0,
            max_price=p(pf.max_price) if pf else 0,
            step=q(lot.step_size) if lot else 0,
            min_qty=q(lot.min_qty) if lot else 0,
            max_qty=q(lot.max_qty) if lot else 0,
            market_step=q(mlot.step_size) if mlot else 0,
            market_min_qty=q(mlot.min_qty) if mlot else 0,
            market_max_qty=q(mlot.max_qty) if mlot else 0,
        )
        object.__setattr__(self, "raw", raw)

    @property
    def notional_decimals(self) -> int:
        """Places of a raw notional `price_raw * qty_raw`."""
        return self.price_decimals + self.qty_decimals

    @classmethod
    def from_exchange_info(cls, entry: Mapping[str, Any]) -> SymbolSpec:
        """Parse one `symbols[]` entry of an exchangeInfo answer."""
        filters = {f["filterType"]: f for f in entry.get("filters", ())}
        permission_sets = entry.get("permissionSets")
        if permission_sets is None:
            # Older entries list alternatives: any one of `permissions` is enough.
            permission_sets = [[p] for p in entry.get("permissions") or ["SPOT"]]
        allowed = entry.get("allowedSelfTradePreventionModes") or [m.value for m in StpMode]
        return cls(
            symbol=entry["symbol"],
            base_asset=entry["baseAsset"],
            quote_asset=entry["quoteAsset"],
            status=SymbolStatus(entry.get("status", "TRADING")),
            base_asset_precision=int(entry.get("baseAssetPrecision", 8)),
            quote_precision=int(entry.get("quotePrecision", 8)),
            quote_asset_precision=int(entry.get("quoteAssetPrecision", 8)),
            base_commission_precision=int(entry.get("baseCommissionPrecision", 8)),
            quote_commission_precision=int(entry.get("quoteCommissionPrecision", 8)),
            order_types=frozenset(OrderType(t) for t in entry.get("orderTypes", ())),
            iceberg_allowed=bool(entry.get("icebergAllowed", False)),
            oco_allowed=bool(entry.get("ocoAllowed", False)),
            oto_allowed=bool(entry.get("otoAllowed", False)),
            opo_allowed=bool(entry.get("opoAllowed", False)),
            quote_order_qty_market_allowed=bool(entry.get("quoteOrderQtyMarketAllowed", False)),
            allow_trailing_stop=bool(entry.get("allowTrailingStop", False)),
            cancel_replace_allowed=bool(entry.get("cancelReplaceAllowed", False)),
            amend_allowed=bool(entry.get("amendAllowed", False)),
            peg_instructions_allowed=bool(entry.get("pegInstructionsAllowed", False)),
            is_spot_trading_allowed=bool(entry.get("isSpotTradingAllowed", True)),
            permission_sets=tuple(tuple(s) for s in permission_sets),
            default_stp_mode=StpMode(entry.get("defaultSelfTradePreventionMode", "NONE")),
            allowed_stp_modes=frozenset(StpMode(m) for m in allowed),
            exchange_info=entry,
            **_parse_filters(filters),
        )


def _parse_filters(filters: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if (f := filters.get(FilterType.PRICE_FILTER)) is not None:
        out["price_filter"] = PriceFilter(
            _dec(f, "minPrice"), _dec(f, "maxPrice"), _dec(f, "tickSize")
        )
    if (f := filters.get(FilterType.PERCENT_PRICE)) is not None:
        out["percent_price"] = PercentPrice(
            _dec(f, "multiplierUp"), _dec(f, "multiplierDown"), int(f.get("avgPriceMins", 0))
        )
    if (f := filters.get(FilterType.PERCENT_PRICE_BY_SIDE)) is not None:
        out["percent_price_by_side"] = PercentPriceBySide(
            _dec(f, "bidMultiplierUp"),
            _dec(f, "bidMultiplierDown"),
            _dec(f, "askMultiplierUp"),
            _dec(f, "askMultiplierDown"),
            int(f.get("avgPriceMins", 0)),
        )
    for key, name in (
        (FilterType.LOT_SIZE, "lot_size"),
        (FilterType.MARKET_LOT_SIZE, "market_lot_size"),
    ):
        if (f := filters.get(key)) is not None:
            out[name] = LotSize(_dec(f, "minQty"), _dec(f, "maxQty"), _dec(f, "stepSize"))
    if (f := filters.get(FilterType.MIN_NOTIONAL)) is not None:
        out["min_notional"] = MinNotional(
            _dec(f, "minNotional"),
            bool(f.get("applyToMarket", False)),
            int(f.get("avgPriceMins", 0)),
        )
    if (f := filters.get(FilterType.NOTIONAL)) is not None:
        out["notional"] = Notional(
            _dec(f, "minNotional"),
            bool(f.get("applyMinToMarket", False)),
            _dec(f, "maxNotional"),
            bool(f.get("applyMaxToMarket", False)),
            int(f.get("avgPriceMins", 0)),
        )
    if (f := filters.get(FilterType.TRAILING_DELTA)) is not None:
        out["trailing_delta"] = TrailingDelta(
            int(f["minTrailingAboveDelta"]),
            int(f["maxTrailingAboveDelta"]),
            int(f["minTrailingBelowDelta"]),
            int(f["maxTrailingBelowDelta"]),
        )
    if (f := filters.get(FilterType.MAX_POSITION)) is not None:
        out["max_position"] = _dec(f, "maxPosition")
    counts = (
        (FilterType.ICEBERG_PARTS, "iceberg_parts", "limit"),
        (FilterType.MAX_NUM_ORDERS, "max_num_orders", "maxNumOrders"),
        (FilterType.MAX_NUM_ALGO_ORDERS, "max_num_algo_orders", "maxNumAlgoOrders"),
        (FilterType.MAX_NUM_ICEBERG_ORDERS, "max_num_iceberg_orders", "maxNumIcebergOrders"),
        (FilterType.MAX_NUM_ORDER_AMENDS, "max_num_order_amends", "maxNumOrderAmends"),
        (FilterType.MAX_NUM_ORDER_LISTS, "max_num_order_lists", "maxNumOrderLists"),
    )
    for key, name, field_name in counts:
        if (f := filters.get(key)) is not None:
            out[name] = int(f[field_name])
    return out


def load_symbols(exchange_info: Mapping[str, Any]) -> list[SymbolSpec]:
    """Parse every symbol of an exchangeInfo answer."""
    return [SymbolSpec.from_exchange_info(entry) for entry in exchange_info.get("symbols", ())]


def multiplier_ratio(value: Decimal) -> tuple[int, int]:
    """Return a Decimal multiplier as an exact (numerator, denominator) pair."""
    return _ratio(value)


def specs_by_name(specs: Iterable[SymbolSpec]) -> dict[str, SymbolSpec]:
    """Index specs by symbol name."""
    return {spec.symbol: spec for spec in specs}


__all__ = [
    "ZERO",
    "LotSize",
    "MinNotional",
    "Notional",
    "PercentPrice",
    "PercentPriceBySide",
    "PriceFilter",
    "RawLimits",
    "SymbolSpec",
    "TrailingDelta",
    "load_symbols",
    "multiplier_ratio",
    "specs_by_name",
]
