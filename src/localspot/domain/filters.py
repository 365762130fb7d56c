"""Symbol filters (filters.md) evaluated on an order, in scaled integers.

Check order (the first failure wins, answered as `-1013 "Filter failure: <NAME>"`):
PERCENT_PRICE, PERCENT_PRICE_BY_SIDE, PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, ICEBERG_PARTS,
TRAILING_DELTA, MIN_NOTIONAL, NOTIONAL, MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS,
MAX_NUM_ICEBERG_ORDERS, MAX_POSITION. binance-observed.md saw PERCENT_PRICE_BY_SIDE reported
before PRICE_FILTER and NOTIONAL; the rest follows exchangeInfo's listing order.

Reference price: PERCENT_PRICE(_BY_SIDE) and the market side of (MIN_)NOTIONAL use the
volume-weighted average of this engine's own trades over `avgPriceMins` (the last trade price
when no trade falls in the window, or when `avgPriceMins` is 0). With no trade at all there is
no reference: those checks pass (decision; the testnet always has history).
MARKET-like orders (MARKET, STOP_LOSS, TAKE_PROFIT) are valued at the reference price.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from mypy_extensions import mypyc_attr

from localspot.domain.enums import FilterType, OrderType
from localspot.domain.numbers import ceil_div, to_raw
from localspot.domain.orders import Order
from localspot.domain.pickling import Reduced, reduce_with, restore
from localspot.domain.symbols import LotSize, RawLimits, SymbolSpec, multiplier_ratio

Ratio = tuple[int, int]
"""A raw price as an exact fraction (numerator, denominator)."""

# filters.md, TRAILING_DELTA: these trigger on a price rise ("above" bounds apply).
_ABOVE: Final = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT})
_PRICED: Final = frozenset(t for t in OrderType if t.has_limit_price)
_STOPS: Final = frozenset(t for t in OrderType if t.is_stop)


class AveragePrice:
    """Volume-weighted average trade price over a sliding window, in raw units.

    Notionals are summed in whole ticks (ticks * qty_raw, price = ticks * tick), which keeps the
    products within machine words; a price off the tick grid turns the window back to raw units
    (tick 1). `ratio` gives the raw price either way.
    """

    __slots__ = (
        "last_price_raw",
        "sum_notional",
        "sum_qty",
        "tick",
        "trades",
        "version",
        "window_ms",
    )

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (1,))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, avg_price_mins: int, tick: int = 1) -> None:
        self.window_ms = avg_price_mins * 60_000
        self.tick = tick
        self.trades: deque[tuple[int, int, int]] = deque()
        self.sum_notional = 0
        self.sum_qty = 0
        self.last_price_raw: int | None = None
        self.version = 0
        """Changes whenever the reference price may have moved (for `PriceBand`)."""

    def add(self, time_ms: int, price_raw: int, qty_raw: int) -> None:
        """Record a trade."""
        self.last_price_raw = price_raw
        self.version += 1
        if self.window_ms:
            tick = self.tick
            ticks = price_raw // tick
            if ticks * tick != price_raw:
                self._to_raw_units()
                ticks = price_raw
            notional = ticks * qty_raw
            self.trades.append((time_ms, notional, qty_raw))
            self.sum_notional += notional
            self.sum_qty += qty_raw

    def _to_raw_units(self) -> None:
        tick = self.tick
        self.trades = deque([(t, notional * tick, qty) for t, notional, qty in self.trades])
        self.sum_notional *= tick
        self.tick = 1

    def expire(self, now_ms: int) -> None:
        """Drop the trades that left the window by `now_ms`."""
        trades, start = self.trades, now_ms - self.window_ms
        while trades and trades[0][0] < start:
            _, notional, qty = trades.popleft()
            self.sum_notional -= notional
            self.sum_qty -= qty
            self.version += 1

    def ratio(self, now_ms: int) -> Ratio | None:
        """Return the reference price at `now_ms` as a fraction, or None without trades."""
        self.expire(now_ms)
        if self.sum_qty:
            return self.sum_notional * self.tick, self.sum_qty
        last = self.last_price_raw
        return None if last is None else (last, 1)


class PriceBand:
    """PERCENT_PRICE(_BY_SIDE) bounds as whole raw prices, kept until the reference moves.

    price <= ref * up and price >= ref * down, for an integer price, is
    ceil(ref * down) <= price <= floor(ref * up): the exact fractions are computed once per
    change of the reference (`AveragePrice.version`) instead of multiplied out per order (their
    products outgrow machine words, which compiled code handles on a slow path).
    """

    __slots__ = ("down", "high", "low", "unbounded", "up", "version")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, ((1, 1), (1, 1)))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, up: Ratio, down: Ratio) -> None:
        self.up = up
        self.down = down
        self.version = -1  # no bounds computed yet
        self.unbounded = True
        self.low = 0
        self.high = 0

    def admits(self, price: int, average: AveragePrice, now_ms: int) -> bool:
        """True if `price` is within the band around `average`'s reference at `now_ms`."""
        average.expire(now_ms)
        if average.version != self.version:
            ratio = average.ratio(now_ms)
            self.version = average.version
            self.unbounded = ratio is None
            if ratio is not None:
                # Unpacked one by one: compiled, a nested unpacking iterates generically.
                num, den = ratio
                up_num, up_den = self.up
                down_num, down_den = self.down
                self.low = ceil_div(num * down_num, den * down_den)
                self.high = num * up_num // (den * up_den)
        return self.unbounded or self.low <= price <= self.high


@mypyc_attr(acyclic=True)  # ints only: made for every order, never tracked by the collector
@dataclass(slots=True, init=False)
class OpenCounts:
    """An account's open orders on the symbol, counted for the MAX_NUM_* filters.

    `buy_qty_raw` and `base_total_raw` (for MAX_POSITION) are filled only when that filter exists.
    """

    orders: int
    algo_orders: int
    iceberg_orders: int
    buy_qty_raw: int = 0
    base_total_raw: int = 0

    def __init__(
        self,
        orders: int,
        algo_orders: int,
        iceberg_orders: int,
        buy_qty_raw: int = 0,
        base_total_raw: int = 0,
    ) -> None:
        self.orders = orders
        self.algo_orders = algo_orders
        self.iceberg_orders = iceberg_orders
        self.buy_qty_raw = buy_qty_raw
        self.base_total_raw = base_total_raw


class FilterRules:
    """A symbol's filters with every bound pre-scaled to raw integers.

    `first_failure` is one pass over bounds prepared here (None = filter absent), in the check
    order of the module docstring; it runs for every order placed.
    """

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (self.spec,))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, spec: SymbolSpec) -> None:
        self.spec = spec
        nd = spec.notional_decimals
        mn, nt = spec.min_notional, spec.notional
        self.min_notional_raw = to_raw(mn.min_notional, nd) or 0 if mn else 0
        self.notional_min_raw = to_raw(nt.min_notional, nd) or 0 if nt else 0
        self.notional_max_raw = to_raw(nt.max_notional, nd) or 0 if nt else 0
        pp, ps = spec.percent_price, spec.percent_price_by_side
        windows = {f.avg_price_mins for f in (pp, ps, mn, nt) if f is not None}
        self.averages = {mins: AveragePrice(mins, spec.raw.price_step) for mins in windows or {5}}
        self._all_averages = tuple(self.averages.values())
        self._pp_average = self.averages[pp.avg_price_mins] if pp is not None else None
        self._pp_band = (
            PriceBand(multiplier_ratio(pp.multiplier_up), multiplier_ratio(pp.multiplier_down))
            if pp is not None
            else None
        )
        self._by_side_average = self.averages[ps.avg_price_mins] if ps is not None else None
        self._bid_band = PriceBand((1, 1), (1, 1))
        self._ask_band = PriceBand((1, 1), (1, 1))
        if ps is not None:
            self._bid_band = PriceBand(
                multiplier_ratio(ps.bid_multiplier_up), multiplier_ratio(ps.bid_multiplier_down)
            )
            self._ask_band = PriceBand(
                multiplier_ratio(ps.ask_multiplier_up), multiplier_ratio(ps.ask_multiplier_down)
            )
        self.max_position_raw = (
            to_raw(spec.max_position, spec.qty_decimals) if spec.max_position is not None else None
        )
        self.quote_scale: int = 10 ** (nd - spec.quote_decimals) if nd >= spec.quote_decimals else 1
        raw = spec.raw
        self._price_bounds = (
            (raw.min_price, raw.max_price, raw.tick) if spec.price_filter is not None else None
        )
        self._lot = (raw.min_qty, raw.max_qty, raw.step) if spec.lot_size is not None else None
        self._market_lot = (
            (raw.market_min_qty, raw.market_max_qty, raw.market_step)
            if _has_market_lot(spec.market_lot_size)
            else None
        )
        # (filter, avg_price_mins, low, high, checks low for MARKET-like, checks high for them)
        self._notionals: tuple[tuple[FilterType, int, int, int, bool, bool], ...] = tuple(
            row
            for row in (
                (
                    FilterType.MIN_NOTIONAL,
                    mn.avg_price_mins,
                    self.min_notional_raw,
                    0,
                    mn.apply_to_market,
                    False,
                )
                if mn is not None
                else None,
                (
                    FilterType.NOTIONAL,
                    nt.avg_price_mins,
                    self.notional_min_raw,
                    self.notional_max_raw,
                    nt.apply_min_to_market,
                    nt.apply_max_to_market,
                )
                if nt is not None
                else None,
            )
            if row is not None
        )
        # The same bounds in whole ticks for a limit order's notional (price = ticks * tick):
        # ticks * qty < ceil(low / tick) and ticks * qty > floor(high / tick), products that stay
        # within machine words where price * qty does not.
        self._tick = raw.price_step
        self._notional_ticks = tuple(
            [(ceil_div(row[2], self._tick), row[3] // self._tick) for row in self._notionals]
        )

    def record_trade(self, time_ms: int, price_raw: int, qty_raw: int) -> None:
        """Feed a trade into every reference-price window."""
        for average in self._all_averages:
            average.add(time_ms, price_raw, qty_raw)

    def reference(self, avg_price_mins: int, now_ms: int) -> Ratio | None:
        """Return the reference price for a filter's window."""
        average = self.averages.get(avg_price_mins)
        return None if average is None else average.ratio(now_ms)

    def first_failure(self, order: Order, counts: OpenCounts, now_ms: int) -> FilterType | None:
        """Return the first filter `order` fails, or None if it passes them all."""
        spec = self.spec
        order_type = order.type
        price = order.price_raw
        # A pegged stop-limit order sent without `price` has none until it triggers (pegs.py).
        unpriced = not price and order.peg_price_type is not None
        has_limit_price = order.has_limit_price and not unpriced
        if price and has_limit_price:
            pp_average, pp_band = self._pp_average, self._pp_band
            if (
                pp_average is not None
                and pp_band is not None
                and not pp_band.admits(price, pp_average, now_ms)
            ):
                return FilterType.PERCENT_PRICE
            average = self._by_side_average
            band = self._bid_band if order.is_buy else self._ask_band
            if average is not None and not band.admits(price, average, now_ms):
                return FilterType.PERCENT_PRICE_BY_SIDE
        bounds = self._price_bounds
        if bounds is not None:
            low, high, tick = bounds
            if has_limit_price and not (
                (not low or price >= low)
                and (not high or price <= high)
                and (not tick or price % tick == 0)
            ):
                return FilterType.PRICE_FILTER
            stop = order.stop_raw
            if stop and not _in_bounds(stop, low, high, tick):
                return FilterType.PRICE_FILTER
        qty = order.qty_raw
        iceberg = order.iceberg_raw
        is_market = order.is_market_like
        if not order.is_quote_order:
            lot = self._lot
            # Bounds unpacked, not `*lot`: compiled, a starred call goes through the generic
            # call protocol with a temporary list and tuple.
            if lot is not None and not _lot_ok(qty, iceberg, lot[0], lot[1], lot[2]):
                return FilterType.LOT_SIZE
            market_lot = self._market_lot
            if (
                is_market
                and market_lot is not None
                and not _in_bounds(qty, market_lot[0], market_lot[1], market_lot[2])
            ):
                return FilterType.MARKET_LOT_SIZE
        if iceberg:
            parts = spec.iceberg_parts
            if parts is not None and ceil_div(qty, iceberg) > parts:
                return FilterType.ICEBERG_PARTS
        if order.trailing_delta and spec.trailing_delta is not None:
            td = spec.trailing_delta
            above = (order_type in _ABOVE) == order.is_buy
            low, high = (
                (td.min_trailing_above_delta, td.max_trailing_above_delta)
                if above
                else (td.min_trailing_below_delta, td.max_trailing_below_delta)
            )
            if not low <= order.trailing_delta <= high:
                return FilterType.TRAILING_DELTA
        tick = self._tick
        ticks = price // tick
        for at, (kind, mins, low, high, market_low, market_high) in enumerate(self._notionals):
            check_low = not is_market or market_low
            check_high = not is_market or market_high
            if not (check_low or check_high) or unpriced:
                continue
            if order.is_quote_order:
                num, den = order.orig_quote_raw * self.quote_scale, 1
            elif not is_market:
                if ticks * tick == price:  # on the tick grid (PRICE_FILTER checked it)
                    low_ticks, high_ticks = self._notional_ticks[at]
                    num, low, high = ticks * qty, low_ticks, high_ticks
                else:
                    num = price * qty
                if (check_low and low and num < low) or (check_high and high and num > high):
                    return kind
                continue
            else:
                ref = self.reference(mins, now_ms)
                if ref is None:
                    continue
                num, den = ref[0] * qty, ref[1]
            if (check_low and low and num < low * den) or (
                check_high and high and num > high * den
            ):
                return kind
        return self._counts(order, counts)

    def _counts(self, order: Order, counts: OpenCounts) -> FilterType | None:
        spec = self.spec
        if spec.max_num_orders is not None and counts.orders >= spec.max_num_orders:
            return FilterType.MAX_NUM_ORDERS
        algo, iceberg = spec.max_num_algo_orders, spec.max_num_iceberg_orders
        if algo is not None and order.is_stop and counts.algo_orders >= algo:
            return FilterType.MAX_NUM_ALGO_ORDERS
        if order.iceberg_raw and iceberg is not None and counts.iceberg_orders >= iceberg:
            return FilterType.MAX_NUM_ICEBERG_ORDERS
        if order.is_buy and self.max_position_raw is not None:
            position = counts.base_total_raw + counts.buy_qty_raw + order.qty_raw
            if position > self.max_position_raw:
                return FilterType.MAX_POSITION
        return None


def _in_bounds(value: int, low: int, high: int, step: int) -> bool:
    # filters.md: each of min, max and step is disabled when 0.
    return (
        (not low or value >= low)
        and (not high or value <= high)
        and (not step or value % step == 0)
    )


def _price_ok(price: int, raw: RawLimits) -> bool:
    return _in_bounds(price, raw.min_price, raw.max_price, raw.tick)


def _lot_ok(qty: int, iceberg: int, low: int, high: int, step: int) -> bool:
    if qty < low or (high and qty > high) or (step and qty % step):
        return False
    if not iceberg:
        return True
    return iceberg >= low and (not high or iceberg <= high) and (not step or iceberg % step == 0)


def _has_market_lot(lot: LotSize | None) -> bool:
    return lot is not None and bool(lot.min_qty or lot.max_qty or lot.step_size)
