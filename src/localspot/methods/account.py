"""Account requests: balances, orders, trades, prevented matches, commissions, filters.

web-socket-api.md "Account requests" and rest-api.md "Account Endpoints" (order lists and
allocations excepted): `account.status`, `order.status`, `openOrders.status`, `allOrders`,
`myTrades`, `account.rateLimits.orders`, `myPreventedMatches`, `account.commission`,
`order.amendments`, `myFilters`, each also served at its REST route. All are USER_DATA.

History rules (web-socket-api.md "General API information"): data comes in chronological
order (by id); without startTime/endTime/fromId the most recent `limit` items, with `startTime`
the oldest from it, with only `endTime` the most recent up to it, with both like `startTime`
but not past `endTime`. startTime/endTime may be milliseconds or microseconds; `limit`
defaults to 500, at most 1000.

Known differences from the testnet, and decisions where the docs are silent:
- `account.status`: `uid` is localspot's account id; `brokered`, `requireSelfTradePrevention`
  and `preventSor` are always false; no `tradeGroupId` is shown. Balances are sorted by asset.
  The WebSocket API example puts `canTrade`.. before `commissionRates`, REST's after; each
  wire follows its own example.
- `account.commission`: `standardCommission` is the account's rates; `specialCommission` and
  `taxCommission` are zero; `discount` is the docs' example (BNB, enabled, "0.75000000"), shown
  only: commissions are always charged in the asset received, as on the testnet.
- `order.status` with `orderId=0` answers -2026 (ORDER_ARCHIVED) as the testnet was seen to
  (binance-observed.md); ids here start at 1, so no other id is ever archived.
- `allOrders` filters by `updateTime` ("`time` of the last execution status update").
- `limit` outside 1..1000: -1130 `Data sent for parameter 'limit' is not valid.` (seen on
  Binance futures for an over-large limit). `endTime` not after `startTime`: -1102 for
  `endTime` (seen on Spot allOrders, binance-spot-api-docs PR #38); applied to myTrades too.
  A parameter combination the docs do not list (myTrades, myPreventedMatches): -1128.
- `myPreventedMatches` costs 2 by `preventedMatchId` and 20 by `orderId`; the weight is
  decided before the symbol is looked up, so an invalid symbol costs the same (docs: 2).
- `myFilters`: exchange filters as configured (none by default), the symbol filters that limit
  an account (MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS, MAX_NUM_ICEBERG_ORDERS, MAX_POSITION,
  MAX_NUM_ORDER_LISTS), no asset filters (MAX_ASSET is not implemented).
- `myTrades`: `isBestMatch` is always true (one book, every trade is at the best price).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from localspot import errors
from localspot.auth.keys import Security
from localspot.auth.timing import timestamp_to_ms
from localspot.domain.enums import FilterType
from localspot.domain.orders import AccountTrade, Order, PreventedMatch
from localspot.domain.symbols import SymbolSpec
from localspot.methods import render_account as view
from localspot.methods.context import Call
from localspot.methods.params import Params
from localspot.methods.registry import Registry, Weight, method
from localspot.methods.render import order_view

T = TypeVar("T")

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
MAX_WINDOW_HOURS = 24
MAX_WINDOW_MS = MAX_WINDOW_HOURS * 3600 * 1000
# filters.md: the symbol filters that bound what one account may have open or hold.
ACCOUNT_SYMBOL_FILTERS = frozenset(
    {
        FilterType.MAX_NUM_ORDERS,
        FilterType.MAX_NUM_ALGO_ORDERS,
        FilterType.MAX_NUM_ICEBERG_ORDERS,
        FilterType.MAX_POSITION,
        FilterType.MAX_NUM_ORDER_LISTS,
    }
)
_SYMBOL = ("symbol",)
_TIMES = ("startTime", "endTime")


def register(registry: Registry) -> None:
    """Add the account methods to `registry` (each also at its `GET /api/v3/...` route)."""

    def user_data(name: str, weight: Weight, params: tuple[str, ...], path: str) -> Any:
        return method(
            registry,
            name,
            weight=weight,
            security=Security.USER_DATA,
            params=params,
            rest=[("GET", path)],
        )

    user_data("account.status", 20, ("omitZeroBalances",), "/api/v3/account")(account_status)
    user_data("order.status", 4, ("symbol", "orderId", "origClientOrderId"), "/api/v3/order")(
        order_status
    )
    user_data("openOrders.status", open_orders_weight, ("symbol",), "/api/v3/openOrders")(
        open_orders_status
    )
    user_data("allOrders", 20, (*_SYMBOL, "orderId", *_TIMES, "limit"), "/api/v3/allOrders")(
        all_orders
    )
    user_data(
        "myTrades",
        my_trades_weight,
        (*_SYMBOL, "orderId", *_TIMES, "fromId", "limit"),
        "/api/v3/myTrades",
    )(my_trades)
    user_data("account.rateLimits.orders", 40, (), "/api/v3/rateLimit/order")(
        account_rate_limits_orders
    )
    user_data(
        "myPreventedMatches",
        prevented_matches_weight,
        (*_SYMBOL, "preventedMatchId", "orderId", "fromPreventedMatchId", "limit"),
        "/api/v3/myPreventedMatches",
    )(my_prevented_matches)
    user_data("account.commission", 20, _SYMBOL, "/api/v3/account/commission")(account_commission)
    user_data(
        "order.amendments",
        4,
        (*_SYMBOL, "orderId", "fromExecutionId", "limit"),
        "/api/v3/order/amendments",
    )(order_amendments)
    user_data("myFilters", 40, _SYMBOL, "/api/v3/myFilters")(my_filters)


# --- parameters -------------------------------------------------------------------------------


def _symbol_spec(call: Call) -> SymbolSpec:
    """Return the spec of the mandatory `symbol`; -1121 if it is not traded here."""
    symbol = call.params.symbol()
    spec = call.services.engine.symbol(symbol) if symbol is not None else None
    if spec is None:
        raise errors.BAD_SYMBOL.error()
    return spec


def _limit(p: Params) -> int:
    limit = p.integer("limit")
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.INVALID_PARAMETER.error("limit")
    return limit


def _time_ms(p: Params, name: str) -> int | None:
    value = p.integer(name)
    return None if value is None else timestamp_to_ms(value)


@dataclass(frozen=True, slots=True)
class Window:
    """Which part of a history to return (see the module docstring)."""

    start_ms: int | None = None
    end_ms: int | None = None
    from_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def by_time(self) -> bool:
        """True if startTime or endTime was sent."""
        return self.start_ms is not None or self.end_ms is not None


def _window(p: Params, from_name: str) -> Window:
    start, end = _time_ms(p, "startTime"), _time_ms(p, "endTime")
    if start is not None and end is not None:
        if end <= start:
            raise errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED.error("endTime")
        if end - start > MAX_WINDOW_MS:
            raise errors.MORE_THAN_XX_HOURS.error(MAX_WINDOW_HOURS)
    return Window(start, end, p.integer(from_name), _limit(p))


def select(
    items: Sequence[T],
    window: Window,
    id_of: Callable[[T], int],
    time_of: Callable[[T], int] | None = None,
) -> list[T]:
    """Return the part of `items` (chronological, by id) that `window` asks for."""
    start, end, limit = window.start_ms, window.end_ms, window.limit
    if window.by_time and time_of is not None:
        chosen = [
            item
            for item in items
            if (start is None or time_of(item) >= start) and (end is None or time_of(item) <= end)
        ]
        return chosen[:limit] if start is not None else chosen[-limit:]
    if window.from_id is not None:
        from_id = window.from_id
        return [item for item in items if id_of(item) >= from_id][:limit]
    return list(items[-limit:])


# --- handlers ---------------------------------------------------------------------------------


def account_status(call: Call) -> dict[str, Any]:
    """Return the account's commissions, permissions and balances."""
    omit_zero = call.params.boolean("omitZeroBalances") or False
    return view.account_view(call, call.account, omit_zero)


def order_status(call: Call) -> dict[str, Any]:
    """Return one order of the account, open or closed."""
    spec = _symbol_spec(call)
    return order_view(call, _find_order(call, spec))


def _find_order(call: Call, spec: SymbolSpec) -> Order:
    # web-socket-api.md "Query order": orderId is looked up first, then its clientOrderId
    # is checked against origClientOrderId.
    p = call.params
    order_id = p.integer("orderId")
    client_id = p.client_id("origClientOrderId")
    if order_id is None and client_id is None:
        raise errors.EITHER_PARAM_REQUIRED.error("origClientOrderId", "orderId")
    engine, account_id = call.services.engine, call.account.account_id
    if order_id is not None:
        order = engine.order(account_id, spec.symbol, order_id=order_id)
    else:
        order = engine.order(account_id, spec.symbol, client_order_id=client_id)
    if order is None:
        raise (errors.ORDER_ARCHIVED if order_id == 0 else errors.NO_SUCH_ORDER).error()
    if client_id is not None and order.client_order_id != client_id:
        raise errors.CLIENT_ORDER_ID_INVALID.error()
    return order


def open_orders_status(call: Call) -> list[dict[str, Any]]:
    """Return the account's open orders on one symbol, or on all."""
    symbol = call.params.symbol(required=False)
    engine = call.services.engine
    if symbol is not None and engine.symbol(symbol) is None:
        raise errors.BAD_SYMBOL.error()
    orders = engine.open_orders(call.account.account_id, symbol)
    return [order_view(call, order) for order in orders]


def open_orders_weight(p: Params) -> int:
    """Return 6 for one symbol, 80 for all."""
    return 6 if p.has("symbol") else 80


def all_orders(call: Call) -> list[dict[str, Any]]:
    """Return the account's orders on a symbol (orderId is ignored with a time window)."""
    spec = _symbol_spec(call)
    window = _window(call.params, "orderId")
    orders = call.services.engine.all_orders(call.account.account_id, spec.symbol)
    chosen = select(orders, window, _order_id, _order_update_time)
    return [order_view(call, order) for order in chosen]


def _order_id(order: Order) -> int:
    return order.order_id


def _order_update_time(order: Order) -> int:
    return order.update_time_ms


def my_trades(call: Call) -> list[dict[str, Any]]:
    """Return the account's trades on a symbol."""
    spec = _symbol_spec(call)
    p = call.params
    order_id = p.integer("orderId")
    window = _window(p, "fromId")
    # rest-api.md "Account trade list": orderId and fromId each exclude startTime/endTime.
    if window.by_time and (order_id is not None or window.from_id is not None):
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    engine, account_id = call.services.engine, call.account.account_id
    trades = engine.my_trades(account_id, spec.symbol)
    if order_id is not None:
        trades = [trade for trade in trades if trade.order_id == order_id]
    chosen = select(trades, window, _trade_id, _trade_time)
    list_ids = {o.order_id: o.order_list_id for o in engine.all_orders(account_id, spec.symbol)}
    return [view.trade_view(call, spec, t, list_ids.get(t.order_id, -1)) for t in chosen]


def _trade_id(trade: AccountTrade) -> int:
    return trade.trade.trade_id


def _trade_time(trade: AccountTrade) -> int:
    return trade.trade.time_ms


def my_trades_weight(p: Params) -> int:
    """Return 5 with orderId, 20 without."""
    return 5 if p.has("orderId") else 20


def account_rate_limits_orders(call: Call) -> list[dict[str, Any]]:
    """Return the account's unfilled order counts in every ORDERS window."""
    usage = call.services.limiter.order_usage(call.account.account_id, call.now_ms)
    return view.rate_limits_view(usage)


@dataclass(frozen=True, slots=True)
class PreventedQuery:
    """myPreventedMatches: one match by id, or an order's matches (all, or from an id)."""

    prevented_match_id: int | None
    order_id: int | None
    from_id: int | None
    limit: int


def _prevented_query(p: Params) -> PreventedQuery:
    by_id = p.integer("preventedMatchId")
    order_id = p.integer("orderId")
    from_id = p.integer("fromPreventedMatchId")
    has_limit = p.has("limit")
    limit = _limit(p)
    # web-socket-api.md "Account prevented matches" lists the only supported combinations.
    if by_id is not None:
        if order_id is not None or from_id is not None or has_limit:
            raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    elif order_id is None or (from_id is None and has_limit):
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    return PreventedQuery(by_id, order_id, from_id, limit)


def my_prevented_matches(call: Call) -> list[dict[str, Any]]:
    """Return the self-trades STP prevented on the account's orders."""
    spec = _symbol_spec(call)
    query = _prevented_query(call.params)
    account_id = call.account.account_id
    matches = call.services.engine.prevented_matches(account_id, spec.symbol)
    if query.prevented_match_id is not None:
        chosen = [m for m in matches if m.prevented_match_id == query.prevented_match_id]
    else:
        chosen = [m for m in matches if _involves(m, account_id, query.order_id)]
        if query.from_id is not None:
            window = Window(from_id=query.from_id, limit=query.limit)
            chosen = select(chosen, window, _prevented_match_id)
    return [view.prevented_match_view(call, spec, m) for m in chosen]


def _involves(match: PreventedMatch, account_id: int, order_id: int | None) -> bool:
    taker = match.taker_account_id == account_id and match.taker_order_id == order_id
    maker = match.maker_account_id == account_id and match.maker_order_id == order_id
    return taker or maker


def _prevented_match_id(match: PreventedMatch) -> int:
    return match.prevented_match_id


def prevented_matches_weight(p: Params) -> int:
    """Return 2 by preventedMatchId, 20 by orderId."""
    return 20 if p.has("orderId") and not p.has("preventedMatchId") else 2


def account_commission(call: Call) -> dict[str, Any]:
    """Return the account's commission rates on a symbol."""
    spec = _symbol_spec(call)
    return view.commission_view(spec.symbol, call.account)


def order_amendments(call: Call) -> list[dict[str, Any]]:
    """Return the keep-priority amendments of one of the account's orders."""
    spec = _symbol_spec(call)
    p = call.params
    order_id = p.integer("orderId", required=True)
    assert order_id is not None
    window = Window(from_id=p.integer("fromExecutionId"), limit=_limit(p))
    engine = call.services.engine
    if engine.order(call.account.account_id, spec.symbol, order_id=order_id) is None:
        raise errors.NO_SUCH_ORDER.error()
    amendments = engine.amendments(spec.symbol, order_id)
    chosen = select(amendments, window, lambda amendment: amendment.execution_id)
    return [view.amendment_view(call, spec, amendment) for amendment in chosen]


def my_filters(call: Call) -> dict[str, Any]:
    """Return the exchange, symbol and asset filters that apply to the account on a symbol."""
    spec = _symbol_spec(call)
    entry = call.services.symbols.get(spec.symbol, spec.exchange_info)
    symbol_filters = [
        f for f in entry.get("filters", ()) if f.get("filterType") in ACCOUNT_SYMBOL_FILTERS
    ]
    exchange_filters = call.services.config.exchange_info.get("exchangeFilters", ())
    return view.filters_view(exchange_filters, symbol_filters, ())
