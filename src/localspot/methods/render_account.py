"""Account data -> Binance JSON shapes: account, trades, prevented matches, amendments, etc.

Order shapes live in render.py (`order_view`); this module renders what the account methods
add. Key order follows each method's example in web-socket-api.md / rest-api.md. Amounts are
strings: balances and commission rates with 8 decimals (as every example prints them), prices
and quote amounts with the symbol's `quoteAssetPrecision`, quantities with its
`baseAssetPrecision` (render.py's `price_text` / `qty_text`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from localspot.domain.accounts import Account, CommissionRates
from localspot.domain.numbers import format_decimal
from localspot.domain.orders import AccountTrade, Amendment, PreventedMatch
from localspot.domain.symbols import SymbolSpec
from localspot.methods.context import Call
from localspot.methods.render import commission_text, price_text, qty_text
from localspot.pipeline import REST

BALANCE_DECIMALS = 8
RATE_DECIMALS = 8
# account.status shows rates as whole basis points besides `commissionRates` (0.0015 -> 15).
BASIS_POINTS = Decimal(10_000)
ZERO_RATES = CommissionRates()
# The BNB discount as web-socket-api.md / rest-api.md "Account Commission Rates" print it.
# localspot never charges commission in BNB (the testnet charges it in the received asset,
# binance-observed.md), so this is informative only.
BNB_DISCOUNT = {
    "enabledForAccount": True,
    "enabledForSymbol": True,
    "discountAsset": "BNB",
    "discount": format_decimal(Decimal("0.75"), RATE_DECIMALS),
}


def account_view(call: Call, account: Account, omit_zero_balances: bool) -> dict[str, Any]:
    """The account.status / GET /api/v3/account result."""
    rates = account.commission
    out: dict[str, Any] = {
        "makerCommission": _basis_points(rates.maker),
        "takerCommission": _basis_points(rates.taker),
        "buyerCommission": _basis_points(rates.buyer),
        "sellerCommission": _basis_points(rates.seller),
    }
    flags = {
        "canTrade": account.can_trade,
        "canWithdraw": account.can_withdraw,
        "canDeposit": account.can_deposit,
    }
    # The WebSocket API example lists the flags before `commissionRates`, REST's after.
    if call.transport == REST:
        out["commissionRates"] = rates_view(rates)
        out.update(flags)
    else:
        out.update(flags)
        out["commissionRates"] = rates_view(rates)
    out["brokered"] = False
    out["requireSelfTradePrevention"] = False
    out["preventSor"] = False
    out["updateTime"] = call.timestamp(account.update_time_ms)
    out["accountType"] = "SPOT"
    out["balances"] = balances_view(account, omit_zero_balances)
    out["permissions"] = list(account.permissions)
    out["uid"] = account.account_id
    return out


def _basis_points(rate: Decimal) -> int:
    return int(rate * BASIS_POINTS)


def rates_view(rates: CommissionRates) -> dict[str, str]:
    """Commission rates as `{maker, taker, buyer, seller}` with 8 decimals."""
    return {
        "maker": format_decimal(rates.maker, RATE_DECIMALS),
        "taker": format_decimal(rates.taker, RATE_DECIMALS),
        "buyer": format_decimal(rates.buyer, RATE_DECIMALS),
        "seller": format_decimal(rates.seller, RATE_DECIMALS),
    }


def balances_view(account: Account, omit_zero_balances: bool) -> list[dict[str, str]]:
    """Balances sorted by asset; with `omit_zero_balances`, only those with free or locked."""
    return [
        {
            "asset": asset,
            "free": format_decimal(balance.free, BALANCE_DECIMALS),
            "locked": format_decimal(balance.locked, BALANCE_DECIMALS),
        }
        for asset, balance in sorted(account.balances.items())
        if not (omit_zero_balances and balance.total == 0)
    ]


def commission_view(symbol: str, account: Account) -> dict[str, Any]:
    """The account.commission / GET /api/v3/account/commission result."""
    return {
        "symbol": symbol,
        "standardCommission": rates_view(account.commission),
        "specialCommission": rates_view(ZERO_RATES),
        "taxCommission": rates_view(ZERO_RATES),
        "discount": dict(BNB_DISCOUNT),
    }


def trade_view(
    call: Call, spec: SymbolSpec, trade: AccountTrade, order_list_id: int
) -> dict[str, Any]:
    """One myTrades entry: a trade as the account saw it."""
    record = trade.trade
    return {
        "symbol": record.symbol,
        "id": record.trade_id,
        "orderId": trade.order_id,
        "orderListId": order_list_id,
        "price": price_text(spec, record.price),
        "qty": qty_text(spec, record.qty),
        "quoteQty": price_text(spec, record.quote_qty),
        "commission": commission_text(spec, trade.commission_asset, trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": call.timestamp(record.time_ms),
        "isBuyer": trade.is_buyer,
        "isMaker": trade.is_maker,
        # Every trade is the best price match on a single-book exchange.
        "isBestMatch": True,
    }


def prevented_match_view(call: Call, spec: SymbolSpec, match: PreventedMatch) -> dict[str, Any]:
    """One myPreventedMatches entry (stp_faq.md: each prevented quantity only when expired)."""
    out: dict[str, Any] = {
        "symbol": match.symbol,
        "preventedMatchId": match.prevented_match_id,
        "takerOrderId": match.taker_order_id,
        "makerSymbol": match.maker_symbol,
        "makerOrderId": match.maker_order_id,
        "tradeGroupId": match.trade_group_id,
        "selfTradePreventionMode": match.stp_mode.value,
        "price": price_text(spec, match.price),
    }
    if match.taker_prevented_quantity is not None:
        out["takerPreventedQuantity"] = qty_text(spec, match.taker_prevented_quantity)
    if match.maker_prevented_quantity is not None:
        out["makerPreventedQuantity"] = qty_text(spec, match.maker_prevented_quantity)
    out["transactTime"] = call.timestamp(match.transact_time_ms)
    return out


def amendment_view(call: Call, spec: SymbolSpec, amendment: Amendment) -> dict[str, Any]:
    """One order.amendments entry."""
    return {
        "symbol": amendment.symbol,
        "orderId": amendment.order_id,
        "executionId": amendment.execution_id,
        "origClientOrderId": amendment.orig_client_order_id,
        "newClientOrderId": amendment.new_client_order_id,
        "origQty": qty_text(spec, amendment.orig_qty),
        "newQty": qty_text(spec, amendment.new_qty),
        "time": call.timestamp(amendment.time_ms),
    }


def rate_limits_view(usages: Iterable[Any]) -> list[dict[str, Any]]:
    """The account.rateLimits.orders result: the ORDERS windows with their counts."""
    return [usage.as_json() for usage in usages]


def filters_view(
    exchange_filters: Iterable[Mapping[str, Any]],
    symbol_filters: Iterable[Mapping[str, Any]],
    asset_filters: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The myFilters result: filters in their exchangeInfo JSON form, by scope."""
    return {
        "exchangeFilters": [dict(f) for f in exchange_filters],
        "symbolFilters": [dict(f) for f in symbol_filters],
        "assetFilters": [dict(f) for f in asset_filters],
    }
