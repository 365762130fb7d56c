"""Self-trade prevention (stp_faq.md): what happens when a taker meets its own account's maker.

A match is a self-trade when both orders belong to one account, or to one trade group
(`CreateAccount(trade_group_id=...)`). It is checked before any trade, and only when the
taker's STP mode is not NONE. The taker's mode decides; TRANSFER needs both sides in TRANSFER,
otherwise it acts as DECREMENT:

- EXPIRE_TAKER / EXPIRE_MAKER / EXPIRE_BOTH: that side's whole remaining quantity is prevented.
- DECREMENT: both lose min(taker remaining, maker remaining).
- TRANSFER (across accounts of a trade group): like DECREMENT, and the prevented quantity and its
  notional change hands at the maker's price with no trade and no commission.

Each prevention takes a preventedMatchId (per symbol, from 0), is recorded for
myPreventedMatches and answered with a `MatchPrevented` event; an order left with nothing
expires as EXPIRED_IN_MATCH, one with something left keeps only the lock it still needs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from localspot.domain.book import PriceLevel
from localspot.domain.enums import ExpiryReason, OrderStatus, StpMode
from localspot.domain.events import Event, MatchPrevented
from localspot.domain.market_state import MarketState
from localspot.domain.orders import Order, PreventedMatch

_TAKER_CUTS: Final = frozenset({StpMode.EXPIRE_TAKER, StpMode.EXPIRE_BOTH})
_MAKER_CUTS: Final = frozenset({StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH})
_SHARED_CUTS: Final = frozenset({StpMode.DECREMENT, StpMode.TRANSFER})
_TAKER_PREVENTS: Final = _TAKER_CUTS | _SHARED_CUTS
_MAKER_PREVENTS: Final = _MAKER_CUTS | _SHARED_CUTS


def is_self_trade(taker: Order, maker: Order) -> bool:
    """True if STP applies between the two orders (same account or same trade group)."""
    return maker.account_id == taker.account_id or (
        taker.trade_group_id >= 0 and maker.trade_group_id == taker.trade_group_id
    )


def effective_mode(taker: Order, maker: Order) -> StpMode:
    """The taker's mode, except that TRANSFER needs both sides in TRANSFER (else DECREMENT)."""
    mode = taker.stp_mode
    if mode is StpMode.TRANSFER and maker.stp_mode is not StpMode.TRANSFER:
        return StpMode.DECREMENT
    return mode


class SelfTradePrevention(MarketState):
    """STP between a taker and the maker at the head of a level."""

    def _prevent(
        self, taker: Order, maker: Order, level: PriceLevel, now_ms: int, events: list[Event]
    ) -> bool:
        """Apply STP between `taker` and `maker`; return True if the taker may go on."""
        mode = effective_mode(taker, maker)
        taker_left, maker_left = taker.remaining_raw, maker.remaining_raw
        taker_cut = taker_left if mode in _TAKER_CUTS else 0
        maker_cut = maker_left if mode in _MAKER_CUTS else 0
        if mode in _SHARED_CUTS:
            taker_cut = maker_cut = min(taker_left, maker_left)
            if mode is StpMode.TRANSFER and taker.account_id != maker.account_id:
                self._transfer(taker, maker, level.price_raw, taker_cut)
        match_id = self.next_prevented_match_id
        self.next_prevented_match_id += 1
        for order, cut in ((taker, taker_cut), (maker, maker_cut)):
            if cut:
                order.prevented_raw += cut
                order.prevented_match_id = match_id
                order.update_time_ms = now_ms
        if maker_cut and maker.in_book:
            visible = min(maker.visible_raw, maker.remaining_raw)
            level.total_raw -= maker.visible_raw - visible
            maker.visible_raw = visible
        qty_unit = self.qty_unit
        taker_cut_d, maker_cut_d = Decimal(taker_cut) * qty_unit, Decimal(maker_cut) * qty_unit
        record = PreventedMatch(
            self.spec.symbol,
            match_id,
            taker.order_id,
            maker.order_id,
            taker.account_id,
            maker.account_id,
            taker.trade_group_id,
            mode,
            self.price_decimal(level.price_raw),
            taker_cut_d if mode in _TAKER_PREVENTS else None,
            maker_cut_d if mode in _MAKER_PREVENTS else None,
            now_ms,
        )
        self.prevented.append(record)
        events.append(MatchPrevented(record, taker, maker, taker_cut_d, maker_cut_d))
        self._settle_prevented(maker, maker_cut, now_ms, events)
        return self._settle_prevented(taker, taker_cut, now_ms, events)

    def _settle_prevented(self, order: Order, cut: int, now_ms: int, events: list[Event]) -> bool:
        if not cut:
            return True
        if order.remaining_raw <= 0:
            reason = ExpiryReason.NONE
            self._expire(order, OrderStatus.EXPIRED_IN_MATCH, reason, cut, now_ms, events)
            return False
        self._relock(order)
        return True

    def _transfer(self, taker: Order, maker: Order, price_raw: int, qty_raw: int) -> None:
        # stp_faq.md, TRANSFER across accounts: the prevented quantity and its notional change
        # hands at the maker's price, with no trade and no commission.
        buyer, seller = (taker, maker) if taker.is_buy else (maker, taker)
        quote = self.quote_of(price_raw, qty_raw)
        buyer_account, seller_account = (
            self._account(buyer.account_id),
            self._account(seller.account_id),
        )
        qty_b, quote_b = self.base_balance(qty_raw), self.quote_balance(quote)
        base, quote_asset, ledger = self.base_asset, self.quote_asset, self.ledger
        ledger.spend_locked(buyer_account, quote_asset, quote_b)
        ledger.spend_locked(seller_account, base, qty_b)
        ledger.credit(buyer_account, base, qty_b, 0)
        ledger.credit(seller_account, quote_asset, quote_b, 0)
        buyer.locked_raw -= quote
        seller.locked_raw -= qty_raw
