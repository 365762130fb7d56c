"""One symbol's market: its book, orders, trades, STP records and the matching itself.

Matching is price-time priority (book.py). A taker walks the opposite side from the best level
while it crosses; each trade is at the maker's price for min(taker remaining, maker visible).
Self-trades are handled by STP before any trade (stp_faq.md: the taker's mode decides, TRANSFER
needs both sides in TRANSFER, otherwise it acts as DECREMENT).

Balances (all via `Ledger`):
- Placing locks what the order could spend: BUY limit-priced orders lock
  trunc(price * qty) of quote, SELL orders lock qty of base, MARKET BUY by quantity locks the
  cost of sweeping the book now, MARKET BUY by quoteOrderQty locks quoteOrderQty.
- Each fill takes the traded amounts out of the two orders' locks; a BUY that fills below its
  limit, or loses quantity to STP, has its lock cut back to trunc(price * remaining). A terminal
  order releases whatever is still locked.
- Commission is charged on the asset received (base for the buyer, quote for the seller) at
  (maker|taker + buyer|seller) rate, truncated to the commission precision (commission_faq.md).
- Per-fill quote amounts are truncated to the quote asset precision; because truncation is
  subadditive the lock always covers the fills.

Ids are per-symbol counters: orderId and tradeId from 1, preventedMatchId from 0, executionId
from 1. Nothing reads a clock; `now_ms` is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import ROUND_DOWN, Decimal

from localspot.domain import rejections as rj
from localspot.domain import stops
from localspot.domain.accounts import Account, Accounts, CommissionRates, Ledger
from localspot.domain.book import OrderBook, PriceLevel
from localspot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from localspot.domain.enums import (
    CancelRestrictions,
    ExecutionType,
    ExpiryReason,
    FilterType,
    OrderStatus,
    OrderType,
    StpMode,
    SymbolStatus,
    TimeInForce,
)
from localspot.domain.events import (
    CommandRejected,
    Event,
    MatchPrevented,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    TradeExecuted,
)
from localspot.domain.filters import FilterRules, OpenCounts
from localspot.domain.numbers import ZERO, from_raw, to_raw
from localspot.domain.orders import AccountTrade, Amendment, Order, PreventedMatch, Trade
from localspot.domain.symbols import SymbolSpec

_MARKET_LIKE = frozenset({OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT})
_FILLED, _PARTIAL, _NEW = OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED, OrderStatus.NEW
_REQUIRED = {
    OrderType.LIMIT: ("timeInForce", "price", "quantity"),
    OrderType.LIMIT_MAKER: ("price", "quantity"),
    OrderType.MARKET: (),
    OrderType.STOP_LOSS: ("quantity",),
    OrderType.STOP_LOSS_LIMIT: ("timeInForce", "price", "quantity"),
    OrderType.TAKE_PROFIT: ("quantity",),
    OrderType.TAKE_PROFIT_LIMIT: ("timeInForce", "price", "quantity"),
}
_PARAM_FIELDS = {"timeInForce": "time_in_force", "price": "price", "quantity": "quantity"}
_TAKER_PREVENTS = frozenset(
    {StpMode.EXPIRE_TAKER, StpMode.EXPIRE_BOTH, StpMode.DECREMENT, StpMode.TRANSFER}
)
_MAKER_PREVENTS = frozenset(
    {StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH, StpMode.DECREMENT, StpMode.TRANSFER}
)


class Market:
    """State and matching of one symbol."""

    def __init__(
        self,
        spec: SymbolSpec,
        accounts: Accounts,
        ledger: Ledger,
        new_client_id: Callable[[], str],
    ) -> None:
        self.spec = spec
        self.accounts = accounts
        self.ledger = ledger
        self.new_client_id = new_client_id
        self.book = OrderBook()
        self.rules = FilterRules(spec)
        self.next_order_id = 1
        self.next_trade_id = 1
        self.next_prevented_match_id = 0
        self.next_execution_id = 1
        self.orders: dict[int, Order] = {}
        self.open_by_account: dict[int, dict[int, Order]] = {}
        self.open_algo: dict[int, int] = {}
        self.open_iceberg: dict[int, int] = {}
        self.permitted: dict[tuple[str, ...], bool] = {}
        self.client_ids: dict[tuple[int, str], Order] = {}
        self.trades: list[Trade] = []
        self.trades_by_account: dict[int, list[AccountTrade]] = {}
        self.prevented: list[PreventedMatch] = []
        self.amendments: dict[int, list[Amendment]] = {}
        self.waiting_stops: list[Order] = []
        self.triggered: list[Order] = []
        self.last_price_raw: int | None = None
        nd, qd = spec.notional_decimals, spec.quote_decimals
        self.quote_mul = 10 ** (qd - nd) if qd > nd else 1
        self.quote_div = 10 ** (nd - qd) if nd >= qd else 1
        self.qd, self.pd, self.ad = spec.qty_decimals, spec.price_decimals, qd
        self.lot_step = spec.raw.step or 1
        self.base_quantum = Decimal(1).scaleb(-spec.base_commission_precision)
        self.quote_quantum = Decimal(1).scaleb(-spec.quote_commission_precision)

    # -- amounts ---------------------------------------------------------------------------

    def quote_of(self, price_raw: int, qty_raw: int) -> int:
        """Quote amount (raw, truncated) of `qty_raw` at `price_raw`."""
        return price_raw * qty_raw * self.quote_mul // self.quote_div

    def affordable(self, price_raw: int, quote_raw: int, cap: int) -> int:
        """Largest lot-step multiple <= cap whose quote at `price_raw` is <= quote_raw."""
        most = ((quote_raw + 1) * self.quote_div - 1) // (price_raw * self.quote_mul)
        most -= most % self.lot_step
        return min(cap, most)

    def _execution_id(self) -> int:
        value = self.next_execution_id
        self.next_execution_id = value + 1
        return value

    def _account(self, account_id: int) -> Account:
        account = self.accounts.get(account_id)
        assert account is not None, account_id
        return account

    # -- placing ---------------------------------------------------------------------------

    def place(self, cmd: PlaceOrder, account: Account, now_ms: int) -> list[Event]:
        """Validate, accept and work a new order."""
        rejected = self._check_allowed(cmd, account)
        if rejected is not None:
            return [rejected]
        built = self._build(cmd, account, now_ms)
        if isinstance(built, CommandRejected):
            return [built]
        order = built
        failed = self.rules.first_failure(order, self._counts(account), now_ms)
        if failed is not None:
            return [rj.filter_failure(failed)]
        rejected = self._check_engine(order, account)
        if rejected is not None:
            return [rejected]
        order.order_id = self.next_order_id
        self.next_order_id += 1
        self._register(order)
        events: list[Event] = [OrderAccepted(order, self._execution_id(), now_ms)]
        if order.type.is_stop:
            self._arm_stop(order, now_ms)
        else:
            self._work(order, now_ms, events)
        self._run_triggered(now_ms, events)
        return events

    def _check_allowed(self, cmd: PlaceOrder, account: Account) -> CommandRejected | None:
        spec = self.spec
        if spec.status is not SymbolStatus.TRADING:
            return rj.MARKET_CLOSED
        if not account.can_trade:
            return rj.ACCOUNT_CANNOT_TRADE
        if not self._is_permitted(account.permissions):
            return rj.SYMBOL_NOT_PERMITTED
        if cmd.order_type not in spec.order_types:
            return rj.TYPE_NOT_SUPPORTED.get(cmd.order_type, rj.UNSUPPORTED_COMBINATION)
        if cmd.iceberg_qty is not None and not spec.iceberg_allowed:
            return rj.ICEBERG_NOT_SUPPORTED
        if cmd.quote_order_qty is not None and not spec.quote_order_qty_market_allowed:
            return rj.QUOTE_QTY_NOT_SUPPORTED
        if cmd.trailing_delta is not None and not spec.allow_trailing_stop:
            return rj.TRAILING_NOT_SUPPORTED
        if cmd.peg_price_type is not None:
            # Pegged orders are not implemented; see engine.py "Known limitations".
            return (
                rj.PEG_NOT_SUPPORTED
                if not spec.peg_instructions_allowed
                else rj.UNSUPPORTED_COMBINATION
            )
        if cmd.stp_mode is not None and cmd.stp_mode not in spec.allowed_stp_modes:
            return rj.STP_MODE_NOT_ALLOWED
        for param in _REQUIRED[cmd.order_type]:
            if getattr(cmd, _PARAM_FIELDS[param]) is None:
                return rj.mandatory(param)
        if (
            cmd.order_type is OrderType.MARKET
            and cmd.quantity is None
            and cmd.quote_order_qty is None
        ):
            return rj.mandatory("quantity")
        if cmd.order_type.is_stop and cmd.stop_price is None and cmd.trailing_delta is None:
            return rj.mandatory("stopPrice")
        return None

    def _is_permitted(self, permissions: tuple[str, ...]) -> bool:
        known = self.permitted.get(permissions)
        if known is None:
            held, sets = set(permissions), self.spec.permission_sets
            known = self.permitted[permissions] = not sets or any(set(s) <= held for s in sets)
        return known

    def _build(self, cmd: PlaceOrder, account: Account, now_ms: int) -> Order | CommandRejected:
        spec, order_type = self.spec, cmd.order_type
        price_raw = qty_raw = quote_raw = stop_raw = iceberg_raw = 0
        if order_type.has_limit_price:
            assert cmd.price is not None
            raw = to_raw(cmd.price, self.pd)
            if raw is None:
                return rj.too_much_precision("price")
            price_raw = raw
        if cmd.quantity is not None:
            raw = to_raw(cmd.quantity, self.qd)
            if raw is None:
                return rj.too_much_precision("quantity")
            qty_raw = raw
        elif cmd.quote_order_qty is not None:
            raw = to_raw(cmd.quote_order_qty, self.ad)
            if raw is None:
                return rj.too_much_precision("quoteOrderQty")
            quote_raw = raw
        if cmd.stop_price is not None:
            raw = to_raw(cmd.stop_price, self.pd)
            if raw is None:
                return rj.too_much_precision("stopPrice")
            stop_raw = raw
        if cmd.iceberg_qty is not None:
            raw = to_raw(cmd.iceberg_qty, self.qd)
            if raw is None:
                return rj.too_much_precision("icebergQty")
            iceberg_raw = raw
            if cmd.time_in_force not in (None, TimeInForce.GTC):
                return rj.UNSUPPORTED_COMBINATION
        tif = (
            cmd.time_in_force
            if order_type.has_limit_price and cmd.time_in_force
            else TimeInForce.GTC
        )
        order = Order(
            spec,
            0,
            cmd.client_order_id or self.new_client_id(),
            account.account_id,
            cmd.side,
            order_type,
            tif,
            price_raw,
            qty_raw,
            cmd.stp_mode or spec.default_stp_mode,
            now_ms,
        )
        order.trade_group_id = account.trade_group_id
        if quote_raw:
            order.is_quote_order = True
            order.orig_quote_raw = quote_raw
        order.stop_raw = stop_raw
        order.trailing_delta = cmd.trailing_delta or 0
        order.iceberg_raw = iceberg_raw
        order.send_iceberg = cmd.iceberg_qty is not None
        order.strategy_id = cmd.strategy_id
        order.strategy_type = cmd.strategy_type
        return order

    def _counts(self, account: Account) -> OpenCounts:
        account_id = account.account_id
        open_orders = self.open_by_account.get(account_id)
        counts = OpenCounts(
            len(open_orders) if open_orders else 0,
            self.open_algo.get(account_id, 0),
            self.open_iceberg.get(account_id, 0),
        )
        if self.spec.max_position is not None:
            if open_orders:
                counts.buy_qty_raw = sum(o.remaining_raw for o in open_orders.values() if o.is_buy)
            base = account.balances.get(self.spec.base_asset)
            counts.base_total_raw = to_raw(base.total, self.qd) or 0 if base is not None else 0
        return counts

    def _check_engine(self, order: Order, account: Account) -> CommandRejected | None:
        if order.type.has_limit_price and order.qty_raw and not order.price_raw:
            return rj.PRICE_QTY_ZERO
        if order.iceberg_raw and order.iceberg_raw >= order.qty_raw:
            return rj.ICEBERG_EXCEEDS_QTY
        previous = self.client_ids.get((order.account_id, order.client_order_id))
        if previous is not None and previous.is_open:
            return rj.DUPLICATE_ORDER
        last = self.last_price_raw
        if (
            order.type.is_stop
            and not order.trailing_delta
            and last is not None
            and stops.stop_condition_met(order, last)
        ):
            return rj.WOULD_TRIGGER
        if order.type is OrderType.LIMIT_MAKER and self._crosses(order):
            return rj.WOULD_TAKE
        if order.is_quote_order:
            rejected = self._size_quote_order(order)
            if rejected is not None:
                return rejected
        return None if self._lock_for(order, account) else rj.INSUFFICIENT_BALANCE

    def _crosses(self, order: Order) -> bool:
        best = self.book.opposite_of(order).best_price_raw()
        if best is None:
            return False
        return best <= order.price_raw if order.is_buy else best >= order.price_raw

    def _size_quote_order(self, order: Order) -> CommandRejected | None:
        # market_orders_faq.md / errors.md: quote-quantity MARKET orders need liquidity; the
        # quantity is what the quote buys (or must sell) at today's book, in LOT_SIZE steps.
        opposite = self.book.opposite_of(order)
        if not len(opposite):
            return rj.NO_LIQUIDITY
        available = sum(
            level.count and _level_remaining(level) for level in opposite.levels.values()
        )
        if available < self.spec.raw.min_qty:
            return rj.LIQUIDITY_BELOW_LOT_SIZE
        qty, _ = self._sweep(order, None, order.orig_quote_raw)
        order.qty_raw = order.visible_raw = qty
        return None

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

    def _lock_for(self, order: Order, account: Account) -> bool:
        spec = self.spec
        if not order.is_buy:
            amount = order.qty_raw
            ok = self.ledger.lock(account, spec.base_asset, from_raw(amount, self.qd))
        else:
            if order.price_raw:
                amount = self.quote_of(order.price_raw, order.qty_raw)
            elif order.is_quote_order:
                amount = order.orig_quote_raw
            elif order.type is OrderType.MARKET:
                amount = self._sweep(order, order.qty_raw, None)[1]
            else:
                amount = 0  # STOP_LOSS/TAKE_PROFIT BUY: funds are taken at trigger time
            ok = self.ledger.lock(account, spec.quote_asset, from_raw(amount, self.ad))
        if ok:
            order.locked_raw = amount
        return ok

    def _register(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self.client_ids[(order.account_id, order.client_order_id)] = order
        by_account = self.open_by_account.get(order.account_id)
        if by_account is None:
            by_account = self.open_by_account[order.account_id] = {}
        by_account[order.order_id] = order
        if order.type.is_stop:
            self.open_algo[order.account_id] = self.open_algo.get(order.account_id, 0) + 1
        if order.iceberg_raw:
            self.open_iceberg[order.account_id] = self.open_iceberg.get(order.account_id, 0) + 1

    # -- working an order ------------------------------------------------------------------

    def _work(self, order: Order, now_ms: int, events: list[Event]) -> None:
        if order.time_in_force is TimeInForce.FOK and not self._can_fill_fully(order):
            self._expire(
                order,
                OrderStatus.EXPIRED,
                ExpiryReason.UNFILLED_FOK_ORDER_EXPIRED,
                0,
                now_ms,
                events,
            )
            return
        if order.type is not OrderType.LIMIT_MAKER:
            self._match(order, now_ms, events)
        if not order.status.is_open:
            return
        if order.type in _MARKET_LIKE:
            self._expire(
                order, OrderStatus.EXPIRED, ExpiryReason.INSUFFICIENT_LIQUIDITY, 0, now_ms, events
            )
        elif order.time_in_force is not TimeInForce.GTC:
            reason = ExpiryReason.UNFILLED_IOC_QUANTITY_EXPIRED
            self._expire(order, OrderStatus.EXPIRED, reason, 0, now_ms, events)
        else:
            remaining = order.remaining_raw
            iceberg = order.iceberg_raw
            order.visible_raw = iceberg if iceberg and iceberg < remaining else remaining
            self.book.add(order)

    def _can_fill_fully(self, order: Order) -> bool:
        need = order.remaining_raw
        stp_on = order.stp_mode is not StpMode.NONE
        for level in self.book.opposite_of(order).levels_best_first():
            price = level.price_raw
            if price > order.price_raw if order.is_buy else price < order.price_raw:
                return False
            for maker in level.live():
                if stp_on and _is_self_trade(order, maker):
                    if _effective_mode(order, maker) is StpMode.EXPIRE_MAKER:
                        continue
                    return False
                need -= maker.remaining_raw
                if need <= 0:
                    return True
        return False

    def _match(self, taker: Order, now_ms: int, events: list[Event]) -> None:
        is_buy = taker.is_buy
        opposite = self.book.asks if is_buy else self.book.bids
        limit = 0 if taker.type in _MARKET_LIKE else taker.price_raw
        spend_lock = is_buy and not limit
        stp_on = taker.stp_mode is not StpMode.NONE
        while True:
            remaining = taker.qty_raw - taker.executed_raw - taker.prevented_raw
            if remaining <= 0:
                return
            level = opposite.best()
            if level is None:
                return
            price = level.price_raw
            if limit and (price > limit if is_buy else price < limit):
                return
            maker = level.head()
            assert maker is not None
            if stp_on and (
                maker.account_id == taker.account_id
                or (taker.trade_group_id >= 0 and maker.trade_group_id == taker.trade_group_id)
            ):
                if not self._prevent(taker, maker, level, now_ms, events):
                    return
                continue
            qty = maker.visible_raw if maker.visible_raw < remaining else remaining
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
        quote = price * qty * self.quote_mul // self.quote_div
        buyer, seller = (taker, maker) if taker.is_buy else (maker, taker)
        buyer_account = self._account(buyer.account_id)
        seller_account = self._account(seller.account_id)
        spec, ledger = self.spec, self.ledger
        qty_d, quote_d = from_raw(qty, self.qd), from_raw(quote, self.ad)
        buyer_fee = _commission(buyer_account, buyer is maker, True, qty_d, self.base_quantum)
        seller_fee = _commission(
            seller_account, seller is maker, False, quote_d, self.quote_quantum
        )
        ledger.spend_locked(buyer_account, spec.quote_asset, quote_d)
        ledger.spend_locked(seller_account, spec.base_asset, qty_d)
        ledger.credit(buyer_account, spec.base_asset, qty_d, buyer_fee)
        ledger.credit(seller_account, spec.quote_asset, quote_d, seller_fee)
        buyer.locked_raw -= quote
        seller.locked_raw -= qty
        for order in (maker, taker):
            order.executed_raw += qty
            order.cum_quote_raw += quote
            order.update_time_ms = now_ms
        maker.visible_raw -= qty
        level.total_raw -= qty
        self._after_fill(maker, level, now_ms)
        self._after_fill(taker, None, now_ms)
        trade = Trade(
            spec.symbol,
            self.next_trade_id,
            from_raw(price, self.pd),
            qty_d,
            quote_d,
            now_ms,
            buyer.order_id,
            seller.order_id,
            buyer.account_id,
            seller.account_id,
            buyer is maker,
            buyer_fee,
            spec.base_asset,
            seller_fee,
            spec.quote_asset,
        )
        self.next_trade_id += 1
        self._record_trade(trade, price, qty, now_ms)
        events.append(
            TradeExecuted(
                trade,
                maker,
                taker,
                maker.status,
                from_raw(maker.executed_raw, self.qd),
                from_raw(maker.cum_quote_raw, self.ad),
                self._execution_id(),
                taker.status,
                from_raw(taker.executed_raw, self.qd),
                from_raw(taker.cum_quote_raw, self.ad),
                self._execution_id(),
            )
        )

    def _after_fill(self, order: Order, level: PriceLevel | None, now_ms: int) -> None:
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

    def _record_trade(self, trade: Trade, price_raw: int, qty_raw: int, now_ms: int) -> None:
        self.trades.append(trade)
        for account_id, is_buyer in (
            (trade.buyer_account_id, True),
            (trade.seller_account_id, False),
        ):
            mine = self.trades_by_account.get(account_id)
            if mine is None:
                mine = self.trades_by_account[account_id] = []
            mine.append(AccountTrade(trade, is_buyer))
        self.rules.record_trade(now_ms, price_raw, qty_raw)
        self.last_price_raw = price_raw
        if self.waiting_stops:
            self._observe_stops(price_raw, now_ms)

    def _relock(self, order: Order) -> None:
        # Keep exactly what the rest of the order may still spend locked (module docstring).
        if order.is_buy:
            if not order.price_raw:
                return
            required = self.quote_of(order.price_raw, order.remaining_raw)
        else:
            required = order.remaining_raw
        excess = order.locked_raw - required
        if excess > 0:
            order.locked_raw = required
            self._unlock(order, excess)

    def _unlock(self, order: Order, amount_raw: int) -> None:
        account = self._account(order.account_id)
        if order.is_buy:
            self.ledger.unlock(account, self.spec.quote_asset, from_raw(amount_raw, self.ad))
        else:
            self.ledger.unlock(account, self.spec.base_asset, from_raw(amount_raw, self.qd))

    def _close(self, order: Order) -> None:
        """Finish a terminal order: release its lock and forget it as open."""
        if order.locked_raw:
            self._unlock(order, order.locked_raw)
            order.locked_raw = 0
        account_id = order.account_id
        by_account = self.open_by_account.get(account_id)
        if by_account is None or by_account.pop(order.order_id, None) is None:
            return
        if not by_account:
            del self.open_by_account[account_id]
        if order.type.is_stop:
            self.open_algo[account_id] -= 1
        if order.iceberg_raw:
            self.open_iceberg[account_id] -= 1

    def _expire(
        self,
        order: Order,
        status: OrderStatus,
        reason: ExpiryReason,
        last_prevented_raw: int,
        now_ms: int,
        events: list[Event],
    ) -> None:
        order.status = status
        order.expiry_reason = reason
        order.update_time_ms = now_ms
        if order.in_book:
            self.book.remove(order)
        self._close(order)
        by_stp = status is OrderStatus.EXPIRED_IN_MATCH
        events.append(
            OrderExpired(
                order,
                status,
                ExecutionType.TRADE_PREVENTION if by_stp else ExecutionType.EXPIRED,
                reason,
                from_raw(order.executed_raw, self.qd),
                from_raw(order.cum_quote_raw, self.ad),
                from_raw(order.prevented_raw, self.qd),
                from_raw(last_prevented_raw, self.qd),
                self._execution_id(),
                now_ms,
            )
        )

    # -- self-trade prevention -------------------------------------------------------------

    def _prevent(
        self, taker: Order, maker: Order, level: PriceLevel, now_ms: int, events: list[Event]
    ) -> bool:
        """Apply STP between `taker` and `maker`; return True if the taker may go on."""
        mode = _effective_mode(taker, maker)
        taker_left, maker_left = taker.remaining_raw, maker.remaining_raw
        taker_cut = taker_left if mode in (StpMode.EXPIRE_TAKER, StpMode.EXPIRE_BOTH) else 0
        maker_cut = maker_left if mode in (StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH) else 0
        if mode in (StpMode.DECREMENT, StpMode.TRANSFER):
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
        record = PreventedMatch(
            self.spec.symbol,
            match_id,
            taker.order_id,
            maker.order_id,
            taker.account_id,
            maker.account_id,
            taker.trade_group_id,
            mode,
            from_raw(level.price_raw, self.pd),
            from_raw(taker_cut, self.qd) if mode in _TAKER_PREVENTS else None,
            from_raw(maker_cut, self.qd) if mode in _MAKER_PREVENTS else None,
            now_ms,
        )
        self.prevented.append(record)
        events.append(
            MatchPrevented(
                record, taker, maker, from_raw(taker_cut, self.qd), from_raw(maker_cut, self.qd)
            )
        )
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
        qty_d, quote_d = from_raw(qty_raw, self.qd), from_raw(quote, self.ad)
        spec, ledger = self.spec, self.ledger
        ledger.spend_locked(buyer_account, spec.quote_asset, quote_d)
        ledger.spend_locked(seller_account, spec.base_asset, qty_d)
        ledger.credit(buyer_account, spec.base_asset, qty_d, ZERO)
        ledger.credit(seller_account, spec.quote_asset, quote_d, ZERO)
        buyer.locked_raw -= quote
        seller.locked_raw -= qty_raw

    # -- stop orders -----------------------------------------------------------------------

    def _arm_stop(self, order: Order, now_ms: int) -> None:
        order.is_working = False
        order.working_time_ms = -1
        if order.trailing_delta and not order.stop_raw and self.last_price_raw is not None:
            stops.start_tracking(order, self.last_price_raw, now_ms)
        self.waiting_stops.append(order)

    def _observe_stops(self, price_raw: int, now_ms: int) -> None:
        fired = [o for o in self.waiting_stops if stops.observe(o, price_raw, now_ms)]
        if fired:
            self.waiting_stops = [o for o in self.waiting_stops if o not in fired]
            self.triggered.extend(fired)

    def _run_triggered(self, now_ms: int, events: list[Event]) -> None:
        while self.triggered:
            order = self.triggered.pop(0)
            if not order.status.is_open:
                continue
            order.is_working = True
            order.working_time_ms = now_ms
            order.update_time_ms = now_ms
            events.append(OrderTriggered(order, self._execution_id(), now_ms))
            if order.is_buy and not order.price_raw:
                self._lock_market_buy(order)
            self._work(order, now_ms, events)

    def _lock_market_buy(self, order: Order) -> None:
        account = self._account(order.account_id)
        cost = self._sweep(order, order.remaining_raw, None)[1]
        balance = account.balances.get(self.spec.quote_asset)
        free = to_raw(balance.free, self.ad) or 0 if balance is not None else 0
        amount = min(cost, free)
        if self.ledger.lock(account, self.spec.quote_asset, from_raw(amount, self.ad)):
            order.locked_raw += amount

    # -- cancel and amend ------------------------------------------------------------------

    def find(
        self, account_id: int, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        """Find an account's order by id and/or client order id (both must agree)."""
        if order_id is not None:
            order = self.orders.get(order_id)
            if order is None or order.account_id != account_id:
                return None
            if client_order_id is not None and order.client_order_id != client_order_id:
                return None
            return order
        if client_order_id is not None:
            return self.client_ids.get((account_id, client_order_id))
        return None

    def cancel(self, cmd: CancelOrder, account: Account, now_ms: int) -> list[Event]:
        """Cancel one open order."""
        if self.spec.status not in (SymbolStatus.TRADING, SymbolStatus.CANCEL_ONLY):
            return [rj.CANCEL_MARKET_CLOSED]
        if not account.can_trade:
            return [rj.CANCEL_ACCOUNT_CANNOT_TRADE]
        if cmd.order_id is None and cmd.orig_client_order_id is None:
            return [rj.CANCEL_INVALID]
        order = self.find(account.account_id, cmd.order_id, cmd.orig_client_order_id)
        if order is None or not order.status.is_open:
            return [rj.CANCEL_UNKNOWN_ORDER]
        restriction = cmd.cancel_restrictions
        if (restriction is CancelRestrictions.ONLY_NEW and order.status is not _NEW) or (
            restriction is CancelRestrictions.ONLY_PARTIALLY_FILLED and order.status is not _PARTIAL
        ):
            return [rj.CANCEL_RESTRICTED]
        events: list[Event] = []
        self._cancel(order, cmd.new_client_order_id, now_ms, events)
        return events

    def cancel_all(self, account: Account, now_ms: int) -> list[Event]:
        """Cancel every open order of the account on this symbol."""
        if self.spec.status not in (SymbolStatus.TRADING, SymbolStatus.CANCEL_ONLY):
            return [rj.CANCEL_MARKET_CLOSED]
        if not account.can_trade:
            return [rj.CANCEL_ACCOUNT_CANNOT_TRADE]
        open_orders = self.open_by_account.get(account.account_id)
        if not open_orders:
            return [rj.CANCEL_UNKNOWN_ORDER]
        events: list[Event] = []
        for order in sorted(open_orders.values(), key=lambda o: o.order_id):
            self._cancel(order, None, now_ms, events)
        return events

    def _cancel(
        self, order: Order, new_client_id: str | None, now_ms: int, events: list[Event]
    ) -> None:
        orig_client_id = order.client_order_id
        self._rename(order, new_client_id or self.new_client_id())
        order.status = OrderStatus.CANCELED
        order.update_time_ms = now_ms
        if order.in_book:
            self.book.remove(order)
        elif order in self.waiting_stops:
            self.waiting_stops.remove(order)
        self._close(order)
        events.append(OrderCanceled(order, orig_client_id, self._execution_id(), now_ms))

    def _rename(self, order: Order, new_client_id: str) -> None:
        key = (order.account_id, order.client_order_id)
        if self.client_ids.get(key) is order:
            del self.client_ids[key]
        order.client_order_id = new_client_id
        self.client_ids[(order.account_id, new_client_id)] = order

    def amend(self, cmd: AmendOrder, account: Account, now_ms: int) -> list[Event]:
        """Reduce an open order's quantity in place (order_amend_keep_priority.md)."""
        spec = self.spec
        if not spec.amend_allowed:
            return [rj.AMEND_NOT_SUPPORTED]
        if spec.status is not SymbolStatus.TRADING:
            return [rj.AMEND_MARKET_CLOSED]
        if not account.can_trade:
            return [rj.AMEND_ACCOUNT_CANNOT_TRADE]
        order = self.find(account.account_id, cmd.order_id, cmd.orig_client_order_id)
        if order is None or not order.status.is_open:
            return [rj.AMEND_UNKNOWN_ORDER]
        new_raw = to_raw(cmd.new_qty, self.qd)
        if new_raw is None:
            return [rj.too_much_precision("newQty")]
        if new_raw > order.qty_raw:
            return [rj.AMEND_INCREASE]
        if new_raw == order.qty_raw:
            return [rj.AMEND_NO_CHANGE]
        raw = spec.raw
        if new_raw <= 0 or (
            spec.lot_size is not None
            and (new_raw < raw.min_qty or (raw.step and new_raw % raw.step))
        ):
            return [rj.filter_failure(FilterType.LOT_SIZE)]
        if spec.max_num_order_amends is not None and order.amend_count >= spec.max_num_order_amends:
            return [rj.filter_failure(FilterType.MAX_NUM_ORDER_AMENDS)]
        return self._amend(order, new_raw, cmd.new_client_order_id, now_ms)

    def _amend(
        self, order: Order, new_raw: int, new_client_id: str | None, now_ms: int
    ) -> list[Event]:
        orig_client_id, orig_qty = order.client_order_id, order.orig_qty
        self._rename(order, new_client_id or self.new_client_id())
        order.qty_raw = new_raw
        order.amend_count += 1
        order.update_time_ms = now_ms
        remaining = order.remaining_raw
        if remaining <= 0:
            # Amended down to (or below) what already executed: nothing is left to trade.
            order.status = _FILLED
            if order.in_book:
                self.book.remove(order)
            elif order in self.waiting_stops:
                self.waiting_stops.remove(order)
            self._close(order)
        else:
            if order.in_book and order.visible_raw > remaining:
                level = self.book.side_of(order).levels[order.price_raw]
                level.total_raw -= order.visible_raw - remaining
                order.visible_raw = remaining
            self._relock(order)
        amendment = Amendment(
            self.spec.symbol,
            order.order_id,
            self._execution_id(),
            orig_client_id,
            order.client_order_id,
            orig_qty,
            order.orig_qty,
            now_ms,
        )
        self.amendments.setdefault(order.order_id, []).append(amendment)
        return [OrderAmended(order, amendment, now_ms)]

    # -- queries ---------------------------------------------------------------------------

    def open_orders(self, account_id: int) -> list[Order]:
        """Open orders of an account, oldest first."""
        return sorted(self.open_by_account.get(account_id, {}).values(), key=lambda o: o.order_id)

    def account_orders(self, account_id: int) -> Iterator[Order]:
        """All orders of an account (open and closed), by orderId."""
        return (o for o in self.orders.values() if o.account_id == account_id)


def _level_remaining(level: PriceLevel) -> int:
    return sum(order.remaining_raw for order in level.live())


def _is_self_trade(taker: Order, maker: Order) -> bool:
    return maker.account_id == taker.account_id or (
        taker.trade_group_id >= 0 and maker.trade_group_id == taker.trade_group_id
    )


def _effective_mode(taker: Order, maker: Order) -> StpMode:
    # stp_faq.md: the taker's mode decides; TRANSFER only when both sides say TRANSFER.
    mode = taker.stp_mode
    if mode is StpMode.TRANSFER and maker.stp_mode is not StpMode.TRANSFER:
        return StpMode.DECREMENT
    return mode


_RATES: dict[tuple[CommissionRates, bool, bool], Decimal] = {}


def _commission(
    account: Account, is_maker: bool, is_buyer: bool, received: Decimal, quantum: Decimal
) -> Decimal:
    key = (account.commission, is_maker, is_buyer)
    rate = _RATES.get(key)
    if rate is None:
        rates = account.commission
        maker_or_taker = rates.maker if is_maker else rates.taker
        rate = _RATES[key] = maker_or_taker + (rates.buyer if is_buyer else rates.seller)
    if not rate:
        return ZERO
    return (received * rate).quantize(quantum, rounding=ROUND_DOWN)
