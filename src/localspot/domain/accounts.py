"""Accounts and balances: free and locked amounts per asset, as exact Decimals.

Invariants:
- `free` and `locked` are never negative; an operation that would make one negative is refused
  before anything changes.
- `locked` backs open orders plus external locks (`Account.external_locks`, admin
  `LockBalance`); each order unlocks only its own lock, an external unlock only external locks.
- Nothing here reads the clock: times arrive as `now_ms` arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from mypy_extensions import mypyc_attr

from localspot.domain.pickling import Reduced, reduce_with, restore

ZERO: Final = Decimal(0)


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class Balance:
    """One asset's balance: `free` can be spent, `locked` backs open orders."""

    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Return free + locked."""
        return self.free + self.locked


@dataclass(frozen=True, slots=True)
class CommissionRates:
    """Commission rates as fractions (0.001 = 0.1 %), commission_faq.md."""

    maker: Decimal = ZERO
    taker: Decimal = ZERO
    buyer: Decimal = ZERO
    seller: Decimal = ZERO

    def __reduce__(self) -> tuple[type[CommissionRates], tuple[Decimal, ...]]:
        # By constructor: compiled (pickling.py), a frozen instance's fields cannot be set
        # after it is made, which is how pickle restores state by default.
        return CommissionRates, (self.maker, self.taker, self.buyer, self.seller)


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class Account:
    """A trading account: balances per asset, commission rates, permissions.

    `external_locks` is the part of each asset's `locked` held by external locks (asset ->
    amount > 0).
    """

    account_id: int
    balances: dict[str, Balance] = field(default_factory=dict)
    commission: CommissionRates = field(default_factory=CommissionRates)
    permissions: tuple[str, ...] = ("SPOT",)
    can_trade: bool = True
    can_withdraw: bool = True
    can_deposit: bool = True
    update_time_ms: int = 0
    trade_group_id: int = -1
    external_locks: dict[str, Decimal] = field(default_factory=dict)

    def balance(self, asset: str) -> Balance:
        """Return the balance of `asset`, creating an empty one if needed."""
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Balance()
        return found


class Accounts:
    """All accounts, keyed by id; ids are handed out in order from 1."""

    __slots__ = ("_next_id", "by_id")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, ())

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self) -> None:
        self.by_id: dict[int, Account] = {}
        self._next_id = 1

    def __iter__(self) -> Iterator[Account]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, account_id: int) -> Account | None:
        """Return the account or None."""
        return self.by_id.get(account_id)

    def create(
        self,
        balances: dict[str, Decimal],
        commission: CommissionRates,
        permissions: tuple[str, ...],
        now_ms: int,
        trade_group_id: int = -1,
    ) -> Account:
        """Create an account with the given free balances."""
        account = Account(
            account_id=self._next_id,
            commission=commission,
            permissions=permissions,
            update_time_ms=now_ms,
            trade_group_id=trade_group_id,
        )
        for asset, amount in balances.items():
            account.balances[asset] = Balance(free=amount)
        self.by_id[account.account_id] = account
        self._next_id += 1
        return account


class Ledger:
    """Balance moves made while trading, remembering which (account, asset) pairs changed.

    Callers check `free` before locking; nothing here lets a balance go below zero silently:
    `lock` refuses, the other moves are only ever asked for amounts previously locked.
    `collected` is the commission taken per asset, so that for every asset
    sum(free + locked over accounts) + collected stays constant while trading.
    `touched` maps account id -> {asset: balance} moved since the last `drain`; the matching
    hot path moves balances itself after `touch`, with the same arithmetic as the methods here.
    """

    __slots__ = ("accounts", "collected", "touched")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (Accounts(),))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.collected: dict[str, Decimal] = {}
        self.touched: dict[int, dict[str, Balance]] = {}

    def touch(self, account: Account, asset: str) -> Balance:
        """Return the account's balance of `asset` (created if needed), marked as changed."""
        assets = self.touched.get(account.account_id)
        if assets is None:
            assets = self.touched[account.account_id] = {}
        balance = assets.get(asset)
        if balance is None:
            balance = assets[asset] = account.balance(asset)
        return balance

    def touch_both(self, account: Account, first: str, second: str) -> tuple[Balance, Balance]:
        """`touch` two assets of one account."""
        assets = self.touched.get(account.account_id)
        if assets is None:
            assets = self.touched[account.account_id] = {}
        one = assets.get(first)
        if one is None:
            one = assets[first] = account.balance(first)
        two = assets.get(second)
        if two is None:
            two = assets[second] = account.balance(second)
        return one, two

    def lock(self, account: Account, asset: str, amount: Decimal) -> bool:
        """Move `amount` from free to locked; False (and no change) if free is short."""
        balance = account.balances.get(asset)
        if balance is None or balance.free < amount:
            return amount == 0
        if amount:
            balance = self.touch(account, asset)
            balance.free -= amount
            balance.locked += amount
        return True

    def unlock(self, account: Account, asset: str, amount: Decimal) -> None:
        """Move `amount` from locked back to free."""
        if amount:
            balance = self.touch(account, asset)
            balance.locked -= amount
            balance.free += amount

    def spend_locked(self, account: Account, asset: str, amount: Decimal) -> None:
        """Remove `amount` from locked (it leaves the account in a trade)."""
        if amount:
            self.touch(account, asset).locked -= amount

    def credit(self, account: Account, asset: str, amount: Decimal, commission: Decimal) -> None:
        """Add `amount - commission` to free; the commission is collected by the exchange."""
        if amount:
            self.touch(account, asset).free += amount - commission
        if commission:
            self.collected[asset] = self.collected.get(asset, ZERO) + commission

    def drain(self) -> dict[int, dict[str, Balance]]:
        """Return and forget the (account -> {asset: balance}) changed since the last drain."""
        touched, self.touched = self.touched, {}
        return touched
