"""The engine's build: the stale-compiled-module check; pickling and commands work either way."""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
from pathlib import Path

import pytest
from test_domain_support import D, Harness, S, first, placed

from localspot.domain import commands as c
from localspot.domain import is_compiled, stale_compiled_modules
from localspot.domain.accounts import CommissionRates
from localspot.domain.book import PriceLevel
from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import CancelRestrictions, OrderType, Side, TimeInForce
from localspot.domain.events import TradeExecuted
from localspot.domain.pickling import attribute_names, reduce_with


def _touch(path: Path, mtime: float) -> None:
    path.write_text("")
    os.utime(path, (mtime, mtime))


def test_a_source_edited_after_compiling_is_reported(tmp_path: Path) -> None:
    from importlib.machinery import EXTENSION_SUFFIXES

    suffix = EXTENSION_SUFFIXES[0]
    _touch(tmp_path / f"book{suffix}", 1_000_000)
    _touch(tmp_path / "book.py", 1_000_000 + 60)  # edited a minute after the build
    _touch(tmp_path / f"orders{suffix}", 1_000_000)
    _touch(tmp_path / "orders.py", 1_000_000 + 1)  # written by the same install
    _touch(tmp_path / "__init__.py", 2_000_000)  # never compiled
    assert stale_compiled_modules(tmp_path) == ["book.py"]


def test_the_installed_build_is_consistent() -> None:
    assert stale_compiled_modules() == []
    assert isinstance(is_compiled(), bool)


def test_slotted_state_is_every_slot_that_is_set() -> None:
    level = PriceLevel(12_345)
    cls, args, state = reduce_with(level, (0,))
    assert cls is PriceLevel
    assert args == (0,)
    assert set(state) <= set(attribute_names(PriceLevel))
    assert state["price_raw"] == 12_345


def test_an_engine_survives_pickling_with_its_books_and_balances() -> None:
    h = Harness()
    seller, buyer = h.account(commission=CommissionRates(maker=D("0.001"))), h.account()
    h.place(seller, "SELL", "1", "100")
    h.place(buyer, "BUY", "0.4", "100")
    h.place(seller, "SELL", "0.5", "101")

    copy = pickle.loads(pickle.dumps(h.engine))

    assert copy.depth("BTCUSDT") == h.engine.depth("BTCUSDT") != ([], [])
    for account_id in (seller, buyer):
        mine, theirs = copy.accounts.by_id[account_id], h.engine.accounts.by_id[account_id]
        assert mine.balances == theirs.balances
        assert mine.commission == theirs.commission
    opened = [o.order_id for o in copy.open_orders(seller)]
    assert opened == [o.order_id for o in h.engine.open_orders(seller)] == [1, 3]
    # The copy trades on by itself and continues every counter where the original stood.
    events = copy.apply(PlaceOrder(buyer, "BTCUSDT", Side.BUY, OrderType.MARKET, None, S(1)), 9)
    assert placed(events).order_id == 4
    assert first(events, TradeExecuted).trade.trade_id == 2
    assert h.engine.depth("BTCUSDT")[1] == [(D(100), D("0.6")), (D(101), D("0.5"))]


COMMANDS = [
    c.CreateAccount((("BTC", D("1.5")),), CommissionRates(taker=D("0.002")), ("SPOT",), 3),
    c.ChangeBalance(1, "BTC", D("2"), "add"),
    c.LockBalance(1, "BTC", D("-0.5")),
    PlaceOrder(1, "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, S(1), price=S(100)),
    c.CancelOrder(1, "BTCUSDT", cancel_restrictions=CancelRestrictions.ONLY_NEW),
    c.CancelOpenOrders(1, "BTCUSDT"),
    c.AmendOrder(1, "BTCUSDT", S("0.5"), order_id=2),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda cmd: type(cmd).__name__)
def test_commands_behave_alike_interpreted_or_compiled(command: c.Command) -> None:
    # Snapshots pickle CreateAccounts; placing.py uses `replace`; commands are frozen values.
    for copied in (pickle.loads(pickle.dumps(command)), copy.copy(command), copy.deepcopy(command)):
        assert type(copied) is type(command)
        assert copied == command
        assert hash(copied) == hash(command)
    assert dataclasses.replace(command) == command
    name = dataclasses.fields(command)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(command, name, getattr(command, name))


def test_replace_changes_one_field_of_a_command() -> None:
    order = COMMANDS[3]
    dry = dataclasses.replace(order, client_order_id="dryRun")  # as placing.py's dry run does
    fields = dataclasses.fields(order)
    assert [f.name for f in fields if getattr(dry, f.name) != getattr(order, f.name)] == [
        "client_order_id"
    ]
