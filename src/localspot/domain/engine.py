"""The engine: the one place state changes, `Engine.apply(command, now_ms) -> events`.

Pure: no asyncio, no I/O, no wall clock, no randomness. Time enters as `now_ms`, ids come from
counters (orderId, tradeId, preventedMatchId, executionId per symbol; generated client order ids
from one engine-wide counter), so replaying the same commands with the same times gives the
same state, ids included. Business outcomes (a rejected order, an expired IOC, an STP expiry)
are events, not exceptions; an exception out of here is a bug.

Book layout: one `Market` per symbol (market.py) owns an `OrderBook` (book.py) of price levels
keyed by scaled-integer prices, each a FIFO queue; stop orders wait beside the book until
triggered. Amounts are raw ints inside, Decimals in commands, events and balances.

Ordering invariant:
- Price-time priority: a taker trades with the best price first and, within a price, with the
  order that arrived first; an amend that reduces quantity keeps the place, an iceberg refill
  goes to the back.
- Between commands the book is never crossed, every open order's lock equals what it may still
  spend (locked = order locks + `Account.external_locks`), and for every asset
  sum(free + locked) + commission collected changes only through `ChangeBalance`.
- Events of one command come in the order things happened, followed by one `BalancesUpdated`
  per account whose balances moved (accounts ascending, assets sorted).

Known limitations (decisions where the docs are silent):
- Reference price for PERCENT_PRICE(_BY_SIDE) and market NOTIONAL: this engine's own trades
  (filters.py); with no trade yet those checks pass.
- Quote amounts of each fill, and commissions, are truncated to the asset's precision.
- MARKET by quoteOrderQty: `origQty` is the quantity the quote buys (or must sell) on the book at
  placement, in LOT_SIZE steps; the order then works as a quantity order capped by its lock.
- STOP_LOSS / TAKE_PROFIT BUY (market on trigger) lock nothing while waiting; at trigger they
  lock what the sweep costs, up to the free balance, and fill only what that covers.
- Amending a quantity down to or below the executed quantity leaves the order FILLED.
- Order lists (OCO/OTO/OTOCO/OPO), SOR, price-range execution rules and exchange-level filters
  (EXCHANGE_MAX_NUM_*) are not implemented. Pegged orders: pegs.py.
- No tradeGroupId STP across accounts unless `CreateAccount(trade_group_id=...)` sets one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

from localspot.domain import rejections as rj
from localspot.domain.accounts import (
    Account,
    Accounts,
    Ledger,
    balance_decimal,
    balance_raw,
)
from localspot.domain.commands import (
    AmendOrder,
    CancelOpenOrders,
    CancelOrder,
    ChangeBalance,
    Command,
    CreateAccount,
    LockBalance,
    PlaceOrder,
)
from localspot.domain.events import (
    AccountCreated,
    BalanceChanged,
    BalanceLocked,
    BalancesUpdated,
    CommandRejected,
    Event,
)
from localspot.domain.market import Market
from localspot.domain.numbers import from_raw
from localspot.domain.orders import AccountTrade, Amendment, Order, PreventedMatch, Trade
from localspot.domain.pickling import Reduced, reduce_with, restore
from localspot.domain.symbols import SymbolSpec

_INSUFFICIENT: Final = (-2010, "Account has insufficient balance for requested action.")


class Engine:
    """Accounts, books and the matching logic behind every state change."""

    def __reduce__(self) -> Reduced:
        return reduce_with(self, ())

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, symbols: Iterable[SymbolSpec] = ()) -> None:
        self.accounts = Accounts()
        self.ledger = Ledger(self.accounts)
        self._client_id_counter = 0
        self.markets: dict[str, Market] = {}
        for spec in symbols:
            self.add_symbol(spec)

    def add_symbol(self, spec: SymbolSpec) -> None:
        """Start trading `spec` (replacing nothing: a symbol is added once)."""
        if spec.symbol not in self.markets:
            self.markets[spec.symbol] = Market(
                spec, self.accounts, self.ledger, self._new_client_seq
            )

    def apply(self, command: Command, now_ms: int) -> list[Event]:
        """Apply one command at time `now_ms` and return what happened."""
        # Tested by type, most frequent first: compiled, each test is a type check and each call
        # a direct one (a table of bound methods went through the generic call protocol).
        if isinstance(command, PlaceOrder):
            return self._place(command, now_ms)
        if isinstance(command, CancelOrder):
            return self._cancel(command, now_ms)
        if isinstance(command, CancelOpenOrders):
            return self._cancel_all(command, now_ms)
        if isinstance(command, AmendOrder):
            return self._amend(command, now_ms)
        if isinstance(command, CreateAccount):
            return self._create_account(command, now_ms)
        if isinstance(command, ChangeBalance):
            return self._change_balance(command, now_ms)
        if isinstance(command, LockBalance):
            return self._lock_balance(command, now_ms)
        raise TypeError(f"unknown command {command!r}")

    def _new_client_seq(self) -> int:
        # Generated client order ids are numbered engine-wide (orders.generated_client_id).
        self._client_id_counter += 1
        return self._client_id_counter

    # -- accounts --------------------------------------------------------------------------

    def _create_account(self, command: CreateAccount, now_ms: int) -> list[Event]:
        balances: dict[str, int] = {}
        for asset, amount in command.balances:
            raw = balance_raw(amount)
            if raw is None:
                return [rj.too_much_precision("balances")]
            balances[asset] = raw
        account = self.accounts.create(
            balances,
            command.commission,
            command.permissions,
            now_ms,
            trade_group_id=command.trade_group_id,
        )
        return [AccountCreated(account.account_id)]

    def _change_balance(self, command: ChangeBalance, now_ms: int) -> list[Event]:
        account = self.accounts.get(command.account_id)
        if account is None:
            return [rj.UNKNOWN_ACCOUNT]
        amount = balance_raw(command.amount)
        if amount is None:
            return [rj.too_much_precision("amount")]
        balance = account.balance(command.asset)
        new_free = amount if command.mode == "set" else balance.free_raw + amount
        if new_free < 0:
            return [CommandRejected(*_INSUFFICIENT)]
        delta = new_free - balance.free_raw
        balance.free_raw = new_free
        account.update_time_ms = now_ms
        return [
            BalanceChanged(
                account.account_id,
                command.asset,
                balance_decimal(delta),
                balance.free,
                balance.locked,
            )
        ]

    def _lock_balance(self, command: LockBalance, now_ms: int) -> list[Event]:
        account = self.accounts.get(command.account_id)
        if account is None:
            return [rj.UNKNOWN_ACCOUNT]
        asset, delta = command.asset, balance_raw(command.delta)
        if delta is None:
            return [rj.too_much_precision("delta")]
        if not delta:
            return []
        held = account.external_locks.get(asset, 0)
        if delta > 0 and not self.ledger.lock(account, asset, delta):
            return [rj.INSUFFICIENT_BALANCE]
        if delta < 0:
            if held < -delta:  # an unlock never releases an order's lock
                return [rj.INSUFFICIENT_BALANCE]
            self.ledger.unlock(account, asset, -delta)
        if held + delta:
            account.external_locks[asset] = held + delta
        else:
            del account.external_locks[asset]
        balance = account.balances[asset]
        events: list[Event] = [
            BalanceLocked(
                account.account_id, asset, balance_decimal(delta), balance.free, balance.locked
            )
        ]
        self._report_balances(now_ms, events)
        return events

    # -- trading ---------------------------------------------------------------------------

    def _place(self, command: PlaceOrder, now_ms: int) -> list[Event]:
        market = self.markets.get(command.symbol)
        if market is None:
            return [rj.BAD_SYMBOL]
        account = self.accounts.by_id.get(command.account_id)
        if account is None:
            return [rj.UNKNOWN_ACCOUNT]
        events = market.place(command, account, now_ms)
        if self.ledger.touched:
            self._report_balances(now_ms, events)
        return events

    def check(self, command: PlaceOrder, now_ms: int) -> CommandRejected | None:
        """Validate a new order as `apply` would before matching, changing nothing (order.test).

        Returns the rejection `apply` would give for the order's permissions, parameters,
        precision or filters, or None (placing.py lists which checks run).
        """
        found = self._market_and_account(command.symbol, command.account_id)
        if isinstance(found, CommandRejected):
            return found
        market, account = found
        return market.check(command, account, now_ms)

    def _cancel(self, command: CancelOrder, now_ms: int) -> list[Event]:
        market = self.markets.get(command.symbol)
        if market is None:
            return [rj.BAD_SYMBOL]
        account = self.accounts.by_id.get(command.account_id)
        if account is None:
            return [rj.UNKNOWN_ACCOUNT]
        events = market.cancel(command, account, now_ms)
        if self.ledger.touched:
            self._report_balances(now_ms, events)
        return events

    def _cancel_all(self, command: CancelOpenOrders, now_ms: int) -> list[Event]:
        return self._trading(
            command.symbol, command.account_id, now_ms, lambda m, a: m.cancel_all(a, now_ms)
        )

    def _amend(self, command: AmendOrder, now_ms: int) -> list[Event]:
        return self._trading(
            command.symbol, command.account_id, now_ms, lambda m, a: m.amend(command, a, now_ms)
        )

    def _trading(
        self,
        symbol: str,
        account_id: int,
        now_ms: int,
        action: Callable[[Market, Account], list[Event]],
    ) -> list[Event]:
        found = self._market_and_account(symbol, account_id)
        if isinstance(found, CommandRejected):
            return [found]
        events = action(*found)
        if self.ledger.touched:
            self._report_balances(now_ms, events)
        return events

    def _market_and_account(
        self, symbol: str, account_id: int
    ) -> tuple[Market, Account] | CommandRejected:
        # `_place` and `_cancel` write this out: they are the engine's hot path.
        market = self.markets.get(symbol)
        if market is None:
            return rj.BAD_SYMBOL
        account = self.accounts.by_id.get(account_id)
        if account is None:
            return rj.UNKNOWN_ACCOUNT
        return market, account

    def _report_balances(self, now_ms: int, events: list[Event]) -> None:
        # One BalancesUpdated per touched account, accounts ascending, assets sorted.
        touched = self.ledger.drain()
        if len(touched) > 1:
            touched.sort(key=_account_id)
        for account in touched:
            moved = account.touched
            rows: tuple[tuple[str, int, int], ...]
            if len(moved) == 1:  # placing or canceling locks or unlocks one asset
                only = moved[0]
                rows = ((only.asset, only.free_raw, only.locked_raw),)
            elif len(moved) == 2:  # a trade's two assets, sorted by hand
                first, second = moved[0], moved[1]
                if first.asset > second.asset:
                    first, second = second, first
                rows = (
                    (first.asset, first.free_raw, first.locked_raw),
                    (second.asset, second.free_raw, second.locked_raw),
                )
            else:
                rows = tuple(sorted([(b.asset, b.free_raw, b.locked_raw) for b in moved]))
            account.update_time_ms = now_ms
            events.append(BalancesUpdated(account.account_id, rows, now_ms))

    # -- queries ---------------------------------------------------------------------------

    def symbol(self, symbol: str) -> SymbolSpec | None:
        """Return a symbol's spec, or None if not traded here."""
        market = self.markets.get(symbol)
        return None if market is None else market.spec

    def market(self, symbol: str) -> Market | None:
        """Return a symbol's market (book, records), or None."""
        return self.markets.get(symbol)

    def order(
        self,
        account_id: int,
        symbol: str,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> Order | None:
        """Find an account's order (open or closed) by orderId and/or clientOrderId."""
        market = self.markets.get(symbol)
        return None if market is None else market.find(account_id, order_id, client_order_id)

    def open_orders(self, account_id: int, symbol: str | None = None) -> list[Order]:
        """Open orders of an account, on one symbol or all, by symbol then orderId."""
        markets = [self.markets[symbol]] if symbol in self.markets else []
        if symbol is None:
            markets = [self.markets[name] for name in sorted(self.markets)]
        return [order for market in markets for order in market.open_orders(account_id)]

    def open_order_count(self, account_id: int, symbol: str | None = None) -> int:
        """Number of open orders (for MAX_NUM_ORDERS and the unfilled order count)."""
        markets = [self.markets[symbol]] if symbol in self.markets else []
        if symbol is None:
            markets = list(self.markets.values())
        return sum(len(m.open_by_account.get(account_id, ())) for m in markets)

    def all_orders(self, account_id: int, symbol: str) -> list[Order]:
        """Every order of an account on a symbol, by orderId (allOrders)."""
        market = self.markets.get(symbol)
        return [] if market is None else list(market.account_orders(account_id))

    def my_trades(self, account_id: int, symbol: str) -> list[AccountTrade]:
        """Trades of an account on a symbol, by tradeId (myTrades)."""
        market = self.markets.get(symbol)
        if market is None:
            return []
        trades = market.trades
        return [
            AccountTrade(trades[ref >> 1], bool(ref & 1))
            for ref in market.trade_refs.get(account_id, ())
        ]

    def trades(self, symbol: str) -> list[Trade]:
        """All trades of a symbol, by tradeId (recent/historical trades)."""
        market = self.markets.get(symbol)
        return [] if market is None else list(market.trades)

    def prevented_matches(self, account_id: int, symbol: str) -> list[PreventedMatch]:
        """Prevented matches involving the account's orders (myPreventedMatches)."""
        market = self.markets.get(symbol)
        if market is None:
            return []
        return [
            p for p in market.prevented if account_id in (p.taker_account_id, p.maker_account_id)
        ]

    def amendments(self, symbol: str, order_id: int) -> list[Amendment]:
        """Keep-priority amendments of one order (order.amendments)."""
        market = self.markets.get(symbol)
        return [] if market is None else list(market.amendments.get(order_id, ()))

    def depth(
        self, symbol: str, limit: int = 100
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Return (bids, asks) as (price, visible quantity), best first."""
        market = self.markets.get(symbol)
        if market is None:
            return [], []
        pd, qd = market.pd, market.qd
        book = market.book
        return (
            [(from_raw(p, pd), from_raw(q, qd)) for p, q in book.bids.depth(limit)],
            [(from_raw(p, pd), from_raw(q, qd)) for p, q in book.asks.depth(limit)],
        )

    def last_price(self, symbol: str) -> Decimal | None:
        """Price of the symbol's last trade, or None."""
        market = self.markets.get(symbol)
        if market is None or market.last_price_raw is None:
            return None
        return from_raw(market.last_price_raw, market.pd)

    def average_price(self, symbol: str, now_ms: int, avg_price_mins: int = 5) -> Decimal | None:
        """Volume-weighted average trade price over `avg_price_mins` (filters' reference)."""
        market = self.markets.get(symbol)
        if market is None:
            return None
        ratio = market.rules.reference(avg_price_mins, now_ms)
        if ratio is None:
            return None
        return from_raw(ratio[0], market.pd) / ratio[1]

    @property
    def commission_collected(self) -> dict[str, Decimal]:
        """Commission taken so far, per asset."""
        return {asset: balance_decimal(raw) for asset, raw in self.ledger.collected.items()}


def _account_id(account: Account) -> int:
    return account.account_id
