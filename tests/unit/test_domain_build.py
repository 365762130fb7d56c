"""The engine's build: the stale-compiled-module check and pickling that works either way."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from test_domain_support import D, Harness, first, placed

from localspot.domain import is_compiled, stale_compiled_modules
from localspot.domain.accounts import CommissionRates
from localspot.domain.book import PriceLevel
from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import OrderType, Side
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
    _touch(tmp_path / "commands.py", 2_000_000)  # never compiled
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
    events = copy.apply(PlaceOrder(buyer, "BTCUSDT", Side.BUY, OrderType.MARKET, None, D(1)), 9)
    assert placed(events).order_id == 4
    assert first(events, TradeExecuted).trade.trade_id == 2
    assert h.engine.depth("BTCUSDT")[1] == [(D(100), D("0.6")), (D(101), D("0.5"))]
