"""Accounts and balances: free and locked amounts per asset, as integers of 1E-8.

Balances are kept the way Binance shows them, with `BALANCE_DECIMALS` (8) places, as raw
integers (`free_raw` = free * 10**8): every move while trading is integer arithmetic. `free`,
`locked` and `total` give the Decimals. A symbol's quantities and quote amounts have at most
8 places (market_state.py refuses others), so they convert by a whole factor.

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

from localspot.domain.numbers import from_raw, to_raw
from localspot.domain.pickling import ByFields, Reduced, by_fields, reduce_with, restore

ZERO: Final = Decimal(0)
BALANCE_DECIMALS: Final = 8


def balance_decimal(raw: int) -> Decimal:
    """Return a raw balance amount as a Decimal with 8 places ("0.10000000")."""
    return from_raw(raw, BALANCE_DECIMALS)


def balance_raw(amount: Decimal) -> int | None:
    """Return `amount` as a raw balance integer, or None if it has more than 8 places."""
    return to_raw(amount, BALANCE_DECIMALS)


@mypyc_attr(acyclic=True)
@dataclass(slots=True, init=False)
class Balance:
    """One asset's balance in raw integers: `free_raw` can be spent, `locked_raw` backs orders.

    `epoch` is the ledger's epoch when the balance last moved (`Ledger.touch`), not a value.
    """

    asset: str
    free_raw: int
    locked_raw: int
    epoch: int = field(compare=False, repr=False)

    def __init__(self, asset: str, free_raw: int = 0, locked_raw: int = 0, epoch: int = -1) -> None:
        self.asset = asset
        self.free_raw = free_raw
        self.locked_raw = locked_raw
        self.epoch = epoch

    def __reduce__(self) -> ByFields:
        return by_fields(self)

    @property
    def free(self) -> Decimal:
        """The free amount."""
        return balance_decimal(self.free_raw)

    @property
    def locked(self) -> Decimal:
        """The locked amount."""
        return balance_decimal(self.locked_raw)

    @property
    def total(self) -> Decimal:
        """Return free + locked."""
        return balance_decimal(self.free_raw + self.locked_raw)


@dataclass(frozen=True, slots=True)
class CommissionRates:
    """Commission rates as fractions (0.001 = 0.1 %), commission_faq.md."""

    maker: Decimal = ZERO
    taker: Decimal = ZERO
    buyer: Decimal = ZERO
    seller: Decimal = ZERO

    def __reduce__(self) -> ByFields:
        return by_fields(self)


@mypyc_attr(acyclic=True)
@dataclass(slots=True)
class Account:
    """A trading account: balances per asset, commission rates, permissions.

    `external_locks` is the part of each asset's `locked` held by external locks (asset ->
    raw amount > 0). `touched` lists the balances the ledger moved in its epoch `epoch`
    (`Ledger.touch`); they are bookkeeping, not values.
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
    external_locks: dict[str, int] = field(default_factory=dict)
    touched: list[Balance] = field(default_factory=list, compare=False, repr=False)
    epoch: int = field(default=-1, compare=False, repr=False)

    def balance(self, asset: str) -> Balance:
        """Return the balance of `asset`, creating an empty one if needed."""
        found = self.balances.get(asset)
        if found is None:
            found = self.balances[asset] = Balance(asset)
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
        balances: dict[str, int],
        commission: CommissionRates,
        permissions: tuple[str, ...],
        now_ms: int,
        trade_group_id: int = -1,
    ) -> Account:
        """Create an account with the given free balances (raw)."""
        account = Account(
            account_id=self._next_id,
            commission=commission,
            permissions=permissions,
            update_time_ms=now_ms,
            trade_group_id=trade_group_id,
        )
        for asset, amount in balances.items():
            account.balances[asset] = Balance(asset, amount)
        self.by_id[account.account_id] = account
        self._next_id += 1
        return account


class Ledger:
    """Balance moves made while trading, remembering which balances changed.

    Amounts are raw balance integers. Callers check `free_raw` before locking; nothing here lets
    a balance go below zero silently: `lock` refuses, the other moves are only ever asked for
    amounts previously locked. `collected` is the commission taken per asset, so that for every
    asset sum(free + locked over accounts) + collected stays constant while trading.
    `touched` lists the accounts whose balances moved since the last `drain`, each once, in the
    order first moved; each such account lists its moved balances in `Account.touched`, each
    once (accounts and balances carry the epoch they were last listed in). The matching hot path
    moves balances itself after `touch`, with the same arithmetic as the methods here.
    """

    __slots__ = ("accounts", "collected", "epoch", "touched")

    def __reduce__(self) -> Reduced:
        return reduce_with(self, (Accounts(),))

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.collected: dict[str, int] = {}
        self.epoch = 0
        self.touched: list[Account] = []

    def touch(self, account: Account, asset: str) -> Balance:
        """Return the account's balance of `asset` (created if needed), marked as changed."""
        balance = account.balances.get(asset)  # Account.balance, written out: the hot path
        if balance is None:
            balance = account.balances[asset] = Balance(asset)
        epoch = self.epoch
        if balance.epoch != epoch:
            balance.epoch = epoch
            if account.epoch != epoch:
                account.epoch = epoch
                account.touched = [balance]
                self.touched.append(account)
            else:
                account.touched.append(balance)
        return balance

    def touch_both(self, account: Account, first: str, second: str) -> tuple[Balance, Balance]:
        """`touch` two assets of one account."""
        return self.touch(account, first), self.touch(account, second)

    def lock(self, account: Account, asset: str, amount: int) -> bool:
        """Move `amount` from free to locked; False (and no change) if free is short."""
        balance = account.balances.get(asset)
        if balance is None or balance.free_raw < amount:
            return amount == 0
        if amount:
            balance = self.touch(account, asset)
            balance.free_raw -= amount
            balance.locked_raw += amount
        return True

    def unlock(self, account: Account, asset: str, amount: int) -> None:
        """Move `amount` from locked back to free."""
        if amount:
            balance = self.touch(account, asset)
            balance.locked_raw -= amount
            balance.free_raw += amount

    def spend_locked(self, account: Account, asset: str, amount: int) -> None:
        """Remove `amount` from locked (it leaves the account in a trade)."""
        if amount:
            self.touch(account, asset).locked_raw -= amount

    def credit(self, account: Account, asset: str, amount: int, commission: int) -> None:
        """Add `amount - commission` to free; the commission is collected by the exchange."""
        if amount:
            self.touch(account, asset).free_raw += amount - commission
        if commission:
            self.collected[asset] = self.collected.get(asset, 0) + commission

    def drain(self) -> list[Account]:
        """Return and forget the accounts moved since the last drain, in the order first moved.

        Each account's `touched` lists its balances that moved, in the order first moved.
        """
        touched, self.touched = self.touched, []
        self.epoch += 1
        return touched
