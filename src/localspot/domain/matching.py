"""Matching: a working order against the opposite side of the book, one trade at a time.

Matching is price-time priority (book.py). A taker walks the opposite side from the best level
while it crosses; each trade is at the maker's price for min(taker remaining, maker visible).
Self-trades are handled by STP (stp.py) before any trade. What a taker leaves is then settled by
its kind: a FOK that cannot fill completely expires before trading, a MARKET-like or IOC
remainder expires, a GTC remainder rests (an iceberg shows its visible part only).

Each fill takes the traded amounts out of the two orders' locks; the buyer receives base, the
seller quote, each less commission on what it receives (market.py "Balances"). Balance moves
here are written out (the ledger's `touch`, then the same Decimal arithmetic as
`Ledger.spend_locked`/`credit`) because this is the engine's hot loop.

Cost: a trade is O(1) apart from dropping an emptied level (a bisect in the side's key list);
a non-crossing order costs one comparison with the best opposite price.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from localspot.domain import stops
from localspot.domain.accounts import balance_decimal
from localspot.domain.book import PriceLevel
from localspot.domain.enums import ExpiryReason, OrderStatus, OrderType, StpMode, TimeInForce
from localspot.domain.events import Event, TradeExecuted
from localspot.domain.numbers import ZERO
from localspot.domain.orders import Order, Trade, is_open
from localspot.domain.stp import SelfTradePrevention, effective_mode, is_self_trade

_FILLED: Final = OrderStatus.FILLED
_PARTIAL: Final = OrderStatus.PARTIALLY_FILLED
_GTC: Final = TimeInForce.GTC
_FOK: Final = TimeInForce.FOK
_STP_NONE: Final = StpMode.NONE


class Matching(SelfTradePrevention):
    """Working orders: matching, trades, fills and what a taker leaves."""

    def _work(self, order: Order, now_ms: int, events: list[Event]) -> None:
        if order.time_in_force is _FOK and not self._can_fill_fully(order):
            reason = ExpiryReason.UNFILLED_FOK_ORDER_EXPIRED
            self._expire(order, OrderStatus.EXPIRED, reason, 0, now_ms, events)
            return
        order_type = order.type
        if order_type is not OrderType.LIMIT_MAKER:
            self._match(order, now_ms, events)
        if not is_open(order.status):
            return
        if order.is_market_like:
            reason = ExpiryReason.INSUFFICIENT_LIQUIDITY
            self._expire(order, OrderStatus.EXPIRED, reason, 0, now_ms, events)
        elif order.time_in_force is not _GTC:
            reason = ExpiryReason.UNFILLED_IOC_QUANTITY_EXPIRED
            self._expire(order, OrderStatus.EXPIRED, reason, 0, now_ms, events)
        else:
            remaining = order.qty_raw - order.executed_raw - order.prevented_raw
            iceberg = order.iceberg_raw
            order.visible_raw = iceberg if iceberg and iceberg < remaining else remaining
            self.book.add(order)

    def _add_trade_ref(self, account_id: int, ref: int) -> None:
        mine = self.trade_refs.get(account_id)
        if mine is None:
            mine = self.trade_refs[account_id] = []
        mine.append(ref)

    def _can_fill_fully(self, order: Order) -> bool:
        need = order.remaining_raw
        stp_on = order.stp_mode is not _STP_NONE
        for level in self.book.opposite_of(order).levels_best_first():
            price = level.price_raw
            if price > order.price_raw if order.is_buy else price < order.price_raw:
                return False
            for maker in level.live():
                if stp_on and is_self_trade(order, maker):
                    if effective_mode(order, maker) is StpMode.EXPIRE_MAKER:
                        continue
                    return False
                need -= maker.remaining_raw
                if need <= 0:
                    return True
        return False

    def _match(self, taker: Order, now_ms: int, events: list[Event]) -> None:
        is_buy = taker.is_buy
        opposite = self.book.asks if is_buy else self.book.bids
        keys, levels = opposite.keys, opposite.levels
        limit = 0 if taker.is_market_like else taker.price_raw
        spend_lock = is_buy and not limit
        stp_on = taker.stp_mode is not _STP_NONE
        taker_account_id, taker_group = taker.account_id, taker.trade_group_id
        while True:
            remaining = taker.qty_raw - taker.executed_raw - taker.prevented_raw
            if remaining <= 0 or not keys:
                return
            level = levels[-keys[-1] if is_buy else keys[-1]]  # asks' keys are negated
            price = level.price_raw
            if limit and (price > limit if is_buy else price < limit):
                return
            maker = level.head()
            assert maker is not None
            if stp_on and (
                maker.account_id == taker_account_id
                or (taker_group >= 0 and maker.trade_group_id == taker_group)
            ):
                if not self._prevent(taker, maker, level, now_ms, events):
                    return
                continue
            visible = maker.visible_raw
            qty = visible if visible < remaining else remaining
            if spend_lock:
                qty = self.affordable(price, taker.locked_raw, qty)
                if not qty:
                    return
            self._trade(maker, taker, level, qty, now_ms, events)

    def _trade(
        self,
        maker: Order,
        taker: Order,
        level: PriceLevel,
        qty: int,
        now_ms: int,
        events: list[Event],
    ) -> None:
        price = level.price_raw
        quote = self.quote_of(price, qty)
        taker_buys = taker.is_buy
        buyer, seller = (taker, maker) if taker_buys else (maker, taker)
        buyer_account = self.account_by_id[buyer.account_id]
        seller_account = self.account_by_id[seller.account_id]
        qty_b, quote_b = self.base_balance(qty), self.quote_balance(quote)
        buyer_fee = self._fee(buyer_account, not taker_buys, True, qty_b)
        seller_fee = self._fee(seller_account, taker_buys, False, quote_b)
        # Ledger.spend_locked(buyer, quote), spend_locked(seller, base),
        # credit(buyer, base, fee), credit(seller, quote, fee), in that order.
        base, quote_asset = self.base_asset, self.quote_asset
        ledger = self.ledger
        collected = ledger.collected
        if quote_b and qty_b:
            buyer_quote, buyer_base = ledger.touch_both(buyer_account, quote_asset, base)
            seller_base, seller_quote = ledger.touch_both(seller_account, base, quote_asset)
            buyer_quote.locked_raw -= quote_b
            seller_base.locked_raw -= qty_b
            buyer_base.free_raw += qty_b - buyer_fee
            if buyer_fee:
                collected[base] = collected.get(base, 0) + buyer_fee
            seller_quote.free_raw += quote_b - seller_fee
        else:
            ledger.spend_locked(buyer_account, quote_asset, quote_b)
            ledger.spend_locked(seller_account, base, qty_b)
            ledger.credit(buyer_account, base, qty_b, buyer_fee)
            if quote_b:
                ledger.touch(seller_account, quote_asset).free_raw += quote_b - seller_fee
        if seller_fee:
            collected[quote_asset] = collected.get(quote_asset, 0) + seller_fee
        buyer.locked_raw -= quote
        seller.locked_raw -= qty
        maker.executed_raw += qty
        maker.cum_quote_raw += quote
        maker.update_time_ms = now_ms
        taker.executed_raw += qty
        taker.cum_quote_raw += quote
        taker.update_time_ms = now_ms
        maker.visible_raw -= qty
        level.total_raw -= qty
        self._after_fill(maker, level)
        self._after_fill(taker, None)
        trade_id = self.next_trade_id
        self.next_trade_id = trade_id + 1
        buyer_is_maker = not taker_buys
        trade = Trade(
            self.spec.symbol,
            trade_id,
            self.price_decimal(price),
            Decimal(qty) * self.qty_unit,
            Decimal(quote) * self.quote_unit,
            now_ms,
            buyer.order_id,
            seller.order_id,
            buyer_account.account_id,
            seller_account.account_id,
            buyer_is_maker,
            balance_decimal(buyer_fee) if buyer_fee else ZERO,
            base,
            balance_decimal(seller_fee) if seller_fee else ZERO,
            quote_asset,
        )
        trades = self.trades
        ref = 2 * len(trades)
        trades.append(trade)
        self._add_trade_ref(buyer.account_id, ref + 1)
        self._add_trade_ref(seller.account_id, ref)
        self.rules.record_trade(now_ms, price, qty)
        self.last_price_raw = price
        if self.waiting_stops:
            self._observe_stops(price, now_ms)
        execution_id = self.next_execution_id
        self.next_execution_id = execution_id + 2
        events.append(
            TradeExecuted(
                trade,
                maker,
                taker,
                maker.status,
                maker.executed_raw,
                maker.cum_quote_raw,
                execution_id,
                taker.status,
                taker.executed_raw,
                taker.cum_quote_raw,
                execution_id + 1,
            )
        )

    def _after_fill(self, order: Order, level: PriceLevel | None) -> None:
        if order.qty_raw - order.executed_raw - order.prevented_raw <= 0:
            order.status = _FILLED
            if order.in_book:
                self.book.remove(order)
            self._close(order)
            return
        order.status = _PARTIAL
        if level is not None and order.visible_raw == 0:
            self._refill(order, level)
        self._relock(order)

    def _refill(self, order: Order, level: PriceLevel) -> None:
        # An iceberg's next visible part joins the back of its level (price-time priority).
        remaining = order.remaining_raw
        order.visible_raw = min(order.iceberg_raw, remaining) if order.iceberg_raw else remaining
        level.total_raw += order.visible_raw
        self.book.requeue(order, level)

    def _observe_stops(self, price_raw: int, now_ms: int) -> None:
        fired = [o for o in self.waiting_stops if stops.observe(o, price_raw, now_ms)]
        if fired:
            self.waiting_stops = [o for o in self.waiting_stops if o not in fired]
            self.triggered.extend(fired)

    def _sweep(self, order: Order, want_raw: int | None, budget_raw: int | None) -> tuple[int, int]:
        """Walk the opposite side as a market order would: (fillable qty, quote cost)."""
        qty = cost = 0
        for level in self.book.opposite_of(order).levels_best_first():
            price = level.price_raw
            for maker in level.live():
                take = maker.remaining_raw
                if want_raw is not None:
                    take = min(take, want_raw - qty)
                if budget_raw is not None:
                    take = self.affordable(price, budget_raw - cost, take)
                if take <= 0:
                    return qty, cost
                qty += take
                cost += self.quote_of(price, take)
        return qty, cost
