"""External locks (`LockBalance`): free <-> locked moves that never touch an order's lock."""

from __future__ import annotations

from typing import Any

import pytest
from test_domain_support import D, Harness, first, placed

from localspot.domain import rejections as rj
from localspot.domain.commands import CancelOrder, ChangeBalance, CreateAccount, LockBalance
from localspot.domain.events import BalanceLocked, BalancesUpdated, CommandRejected
from localspot.domain.numbers import ZERO


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_lock_moves_free_to_locked_and_reports_balances(h: Harness) -> None:
    me = h.account(btc=10)
    before = h.totals()
    events = h.apply(LockBalance(me, "BTC", D("2.5")))
    assert events[0] == BalanceLocked(me, "BTC", D("2.5"), D("7.5"), D("2.5"))
    assert isinstance(events[1], BalancesUpdated)
    assert (events[1].account_id, events[1].update_time_ms) == (me, h.now)
    assert events[1].balances == (("BTC", D("7.5"), D("2.5")),)
    assert len(events) == 2
    assert h.engine.accounts.by_id[me].update_time_ms == h.now
    assert h.totals() == before


def test_unlock_moves_locked_back_to_free(h: Harness) -> None:
    me = h.account(btc=10)
    h.apply(LockBalance(me, "BTC", D(3)))
    events = h.apply(LockBalance(me, "BTC", D(-3)))
    assert first(events, BalanceLocked) == BalanceLocked(me, "BTC", D(-3), D(10), ZERO)
    assert h.balance(me, "BTC") == (D(10), ZERO)
    assert h.engine.accounts.by_id[me].external_locks == {}


@pytest.mark.parametrize(
    ("asset", "delta"),
    [("BTC", "10.00000001"), ("ETH", "1"), ("BTC", "-0.00000001")],
    ids=["more-than-free", "no-balance", "unlock-without-lock"],
)
def test_short_balance_is_refused_without_change(h: Harness, asset: str, delta: str) -> None:
    me = h.account(btc=10)
    assert h.apply(LockBalance(me, asset, D(delta))) == [rj.INSUFFICIENT_BALANCE]
    assert h.balance(me, "BTC") == (D(10), ZERO)


def test_unlock_never_releases_an_order_lock(h: Harness) -> None:
    me = h.account(btc=10)
    order = placed(h.place(me, "SELL", "4", "100"))
    h.apply(LockBalance(me, "BTC", D(1)))
    assert h.balance(me, "BTC") == (D(5), D(5))
    assert h.apply(LockBalance(me, "BTC", D(-2))) == [rj.INSUFFICIENT_BALANCE]
    h.apply(LockBalance(me, "BTC", D(-1)))
    assert h.balance(me, "BTC") == (D(6), D(4))
    h.apply(CancelOrder(me, "BTCUSDT", order_id=order.order_id))
    assert h.balance(me, "BTC") == (D(10), ZERO)


def test_order_cannot_spend_externally_locked_funds(h: Harness) -> None:
    me = h.account(btc=10)
    h.apply(LockBalance(me, "BTC", D(8)))
    assert h.place(me, "SELL", "3", "100") == [rj.INSUFFICIENT_BALANCE]
    h.place(me, "SELL", "2", "100")
    assert h.balance(me, "BTC") == (ZERO, D(10))


def test_zero_delta_and_unknown_account(h: Harness) -> None:
    me = h.account()
    assert h.apply(LockBalance(me, "BTC", ZERO)) == []
    assert h.apply(LockBalance(99, "BTC", D(1))) == [rj.UNKNOWN_ACCOUNT]


@pytest.mark.parametrize(
    "command",
    [
        CreateAccount((("BTC", D("0.000000001")),)),
        ChangeBalance(1, "BTC", D("1.000000001")),
        LockBalance(1, "BTC", D("0.000000001")),
    ],
)
def test_balances_are_kept_to_8_decimals(h: Harness, command: Any) -> None:
    me = h.account(btc=10)
    before = h.totals()
    [rejected] = h.apply(command)
    assert isinstance(rejected, CommandRejected)
    assert rejected.code == -1111
    assert "too much precision" in rejected.message
    assert h.totals() == before
    assert len(h.engine.accounts) == me
