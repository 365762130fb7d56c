"""Execution reports and balance events built from engine events (user-data-stream.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from test_domain_support import D, Harness, S, placed, simple_spec

from contract.doc_examples import assert_same_shape, code_blocks
from localspot.domain.commands import AmendOrder, CancelOrder, ChangeBalance, LockBalance
from localspot.domain.enums import OrderType, PegPriceType, StpMode, TimeInForce
from localspot.methods.render_user_data import in_time_unit, render_batch

# user-data-stream.md "Order Update": the payload's keys, in order ("v" only after STP).
BASE_KEYS = [
    "e", "E", "s", "c", "S", "o", "f", "q", "p", "P", "F", "g", "C", "x", "X", "r", "i",
    "l", "z", "L", "n", "N", "T", "t", "I", "w", "m", "M", "O", "Z", "Y", "Q", "W", "V",
]  # fmt: skip
TYPES = {
    "e": str, "E": int, "s": str, "c": str, "S": str, "o": str, "f": str, "q": str, "p": str,
    "P": str, "F": str, "g": int, "C": str, "x": str, "X": str, "r": str, "i": int, "l": str,
    "z": str, "L": str, "n": str, "T": int, "t": int, "v": int, "I": int, "w": bool, "m": bool,
    "M": bool, "O": int, "Z": str, "Y": str, "Q": str, "W": int, "V": str, "d": int, "D": int,
    "j": int, "J": int, "A": str, "B": str, "u": int, "U": int, "Cs": str, "pl": str,
    "pL": str, "pY": str, "gP": str, "gOT": str, "gOV": int, "gp": str, "eR": str,
}  # fmt: skip
STP_KEYS = ["A", "B", "u", "U", "Cs", "pl", "pL", "pY"]


class Recorder:
    """A harness whose every command is rendered for all accounts, as userdata.py does."""

    def __init__(self, **spec: Any) -> None:
        self.h = Harness(simple_spec(**spec))
        self.events: list[tuple[int, dict[str, Any]]] = []

    def run(self, events: list[Any]) -> list[tuple[int, dict[str, Any]]]:
        rendered = render_batch(self.h.now, events, lambda account_id: True)
        self.events.extend(rendered)
        return rendered

    def place(self, *args: Any, **kw: Any) -> list[tuple[int, dict[str, Any]]]:
        return self.run(self.h.place(*args, **kw))

    def apply(self, command: Any) -> list[tuple[int, dict[str, Any]]]:
        return self.run(self.h.apply(command))


def reports(rendered: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [event for _, event in rendered if event["e"] == "executionReport"]


def assert_report_shape(report: dict[str, Any], *, working: bool = True, extra=()) -> None:
    """Documented keys in documented order, then the conditional ones; documented types."""
    base = [k for k in BASE_KEYS if working or k != "W"]
    if "v" in report:
        base.insert(base.index("I"), "v")
    assert list(report)[: len(base)] == base
    assert list(report)[len(base) :] == list(extra)
    for key, value in report.items():
        if key == "N":
            assert value is None or isinstance(value, str)
        else:
            assert type(value) is TYPES[key], (key, value)
    for key in ("q", "p", "P", "F", "l", "z", "L", "Z", "Y", "Q"):
        assert len(report[key].partition(".")[2]) == 8, (key, report[key])


@pytest.fixture
def market() -> Recorder:
    return Recorder()


def test_resting_limit_is_new_on_the_book(market: Recorder) -> None:
    me = market.h.account()
    rendered = market.place(me, "BUY", "1.5", "100")
    (account_id, new), (_, position) = rendered
    assert account_id == me
    assert_report_shape(new)
    order = market.h.engine.open_orders(me)[0]
    assert new == {
        "e": "executionReport",
        "E": market.h.now,
        "s": "BTCUSDT",
        "c": order.client_order_id,
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "1.50000000",
        "p": "100.00000000",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": order.order_id,
        "l": "0.00000000",
        "z": "0.00000000",
        "L": "0.00000000",
        "n": "0",
        "N": None,
        "T": market.h.now,
        "t": -1,
        "I": new["I"],
        "w": True,
        "m": False,
        "M": False,
        "O": market.h.now,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": market.h.now,
        "V": "NONE",
    }
    assert position == {
        "e": "outboundAccountPosition",
        "E": market.h.now,
        "u": market.h.now,
        "B": [{"a": "USDT", "f": "999850.00000000", "l": "150.00000000"}],
    }


def test_a_trade_gives_maker_and_taker_their_own_reports() -> None:
    market = Recorder()
    maker, taker = market.h.account(), market.h.account()
    market.place(maker, "SELL", "2", "100")
    rendered = market.place(taker, "BUY", "2", "100")
    new, maker_fill, taker_fill = reports(rendered)
    assert (new["x"], new["X"], new["w"]) == ("NEW", "NEW", True)
    assert [a for a, e in rendered] == [taker, maker, taker, maker, taker]
    for report, is_maker in ((maker_fill, True), (taker_fill, False)):
        assert_report_shape(report)
        assert (report["x"], report["X"], report["m"], report["M"]) == (
            "TRADE",
            "FILLED",
            is_maker,
            True,
        )
        assert report["w"] is False  # filled: off the book
        assert (report["l"], report["z"], report["L"]) == ("2.00000000",) * 2 + ("100.00000000",)
        assert (report["Y"], report["Z"]) == ("200.00000000", "200.00000000")
        assert report["t"] == 1
    assert maker_fill["I"] != taker_fill["I"]
    # The buyer pays commission in the base asset, the seller in the quote asset.
    assert (taker_fill["N"], maker_fill["N"]) == ("BTC", "USDT")
    positions = [e for _, e in rendered if e["e"] == "outboundAccountPosition"]
    assert [p["B"] for p in positions] == [
        [{"a": "BTC", "f": "98.00000000", "l": "0.00000000"},
         {"a": "USDT", "f": "1000200.00000000", "l": "0.00000000"}],
        [{"a": "BTC", "f": "102.00000000", "l": "0.00000000"},
         {"a": "USDT", "f": "999800.00000000", "l": "0.00000000"}],
    ]  # fmt: skip


def test_partial_fill_keeps_the_maker_on_the_book(market: Recorder) -> None:
    maker, taker = market.h.account(), market.h.account()
    market.place(maker, "SELL", "3", "100")
    rendered = market.place(taker, "BUY", "1", "100")
    _, maker_fill, taker_fill = reports(rendered)
    assert (maker_fill["X"], maker_fill["w"], maker_fill["z"]) == (
        "PARTIALLY_FILLED",
        True,
        "1.00000000",
    )
    assert (taker_fill["X"], taker_fill["w"]) == ("FILLED", False)


def test_market_order_without_enough_liquidity_expires(market: Recorder) -> None:
    # market_orders_faq.md: NEW, TRADE (PARTIALLY_FILLED), EXPIRED; cumulative amounts carry.
    maker, taker = market.h.account(), market.h.account()
    market.place(maker, "SELL", "1", "100")
    market.place(maker, "SELL", "1", "101")
    rendered = market.place(taker, "BUY", "3", None)
    taker_reports = [r for r in reports(rendered) if r["S"] == "BUY"]
    assert [(r["x"], r["X"], r["z"], r["w"]) for r in taker_reports] == [
        ("NEW", "NEW", "0.00000000", True),
        ("TRADE", "PARTIALLY_FILLED", "1.00000000", False),
        ("TRADE", "PARTIALLY_FILLED", "2.00000000", False),
        ("EXPIRED", "EXPIRED", "2.00000000", False),
    ]
    assert [r["Z"] for r in taker_reports] == [
        "0.00000000",
        "100.00000000",
        "201.00000000",
        "201.00000000",
    ]
    expired = taker_reports[-1]
    assert_report_shape(expired, extra=["eR"])
    assert expired["eR"] == "INSUFFICIENT_LIQUIDITY"
    assert (expired["l"], expired["n"], expired["N"], expired["t"]) == ("0.00000000", "0", None, -1)


def test_unfilled_ioc_expires_with_its_reason(market: Recorder) -> None:
    me = market.h.account()
    rendered = market.place(me, "BUY", "1", "100", tif=TimeInForce.IOC)
    new, expired = reports(rendered)
    assert new["f"] == "IOC"
    assert (expired["x"], expired["X"], expired["eR"]) == (
        "EXPIRED",
        "EXPIRED",
        "UNFILLED_IOC_QUANTITY_EXPIRED",
    )


def test_cancel_reports_the_original_client_order_id(market: Recorder) -> None:
    me = market.h.account()
    order = placed(market.h.place(me, "BUY", "1", "100"))
    original = order.client_order_id
    rendered = market.apply(CancelOrder(me, "BTCUSDT", order_id=order.order_id,
                                        new_client_order_id="myCancel"))  # fmt: skip
    (canceled,) = reports(rendered)
    assert_report_shape(canceled)
    assert (canceled["x"], canceled["X"], canceled["c"], canceled["C"], canceled["w"]) == (
        "CANCELED",
        "CANCELED",
        "myCancel",
        original,
        False,
    )


def test_amend_is_replaced_with_the_new_quantity(market: Recorder) -> None:
    me = market.h.account()
    order = placed(market.h.place(me, "BUY", "2", "100", client_order_id="before"))
    rendered = market.apply(
        AmendOrder(me, "BTCUSDT", S("0.5"), order_id=order.order_id, new_client_order_id="after")
    )
    (replaced,) = reports(rendered)
    assert_report_shape(replaced)
    assert (replaced["x"], replaced["X"], replaced["q"], replaced["c"], replaced["C"]) == (
        "REPLACED",
        "NEW",
        "0.50000000",
        "after",
        "before",
    )
    assert replaced["w"] is True
    assert replaced["I"] == market.h.engine.amendments("BTCUSDT", order.order_id)[0].execution_id


def test_stop_limit_is_new_off_the_book_then_new_again_when_triggered(market: Recorder) -> None:
    a, b, me = market.h.account(), market.h.account(), market.h.account()
    market.place(a, "SELL", "0.01", "100")
    market.place(b, "BUY", "0.01", "100")
    rendered = market.place(
        me, "SELL", "1", "94", OrderType.STOP_LOSS_LIMIT, stop_price=S(95), tif=TimeInForce.GTC
    )
    (new,) = reports(rendered)
    assert_report_shape(new, working=False)
    assert (new["o"], new["P"], new["w"]) == ("STOP_LOSS_LIMIT", "95.00000000", False)
    market.place(a, "SELL", "0.01", "95")
    rendered = market.place(b, "BUY", "0.01", "95")
    (triggered,) = [r for r in reports(rendered) if r["i"] == new["i"]]
    assert_report_shape(triggered)
    assert (triggered["x"], triggered["X"], triggered["w"], triggered["W"]) == (
        "NEW",
        "NEW",
        True,
        market.h.now,
    )
    assert triggered["I"] > new["I"]


def test_trailing_stop_and_strategy_fields_are_conditional(market: Recorder) -> None:
    me = market.h.account()
    rendered = market.place(
        me,
        "SELL",
        "1",
        "90",
        OrderType.STOP_LOSS_LIMIT,
        tif=TimeInForce.GTC,
        trailing_delta=100,
        strategy_id=7,
        strategy_type=1_000_000,
    )
    (new,) = reports(rendered)
    assert_report_shape(new, working=False, extra=["d", "D", "j", "J"])
    assert (new["d"], new["D"], new["j"], new["J"]) == (100, -1, 7, 1_000_000)


def test_pegged_order_reports_its_peg_fields(market: Recorder) -> None:
    maker, me = market.h.account(), market.h.account()
    market.place(maker, "BUY", "1", "99")
    market.place(maker, "BUY", "1", "98")
    rendered = market.place(
        me,
        "BUY",
        "1",
        None,
        OrderType.LIMIT,
        peg_price_type=PegPriceType.PRIMARY_PEG,
        peg_offset_type="PRICE_LEVEL",
        peg_offset_value=1,
    )
    (new,) = reports(rendered)
    assert_report_shape(new, extra=["gP", "gOT", "gOV", "gp"])
    assert (new["p"], new["gP"], new["gOT"], new["gOV"], new["gp"]) == (
        "0.00000000",
        "PRIMARY_PEG",
        "PRICE_LEVEL",
        1,
        "98.00000000",
    )
    (plain,) = reports(market.place(me, "BUY", "1", "90"))
    assert not {"gP", "gOT", "gOV", "gp"} & set(plain)


def test_iceberg_quantity_shows_in_f(market: Recorder) -> None:
    me = market.h.account()
    (new,) = reports(market.place(me, "SELL", "10", "100", iceberg_qty=S(1)))
    assert new["F"] == "1.00000000"


def test_expire_maker_reports_trade_prevention_on_the_maker(market: Recorder) -> None:
    me = market.h.account()
    maker = placed(market.h.place(me, "BUY", "1.2", "1.2", stp_mode=StpMode.NONE))
    rendered = market.place(me, "SELL", "3", "1", stp_mode=StpMode.EXPIRE_MAKER)
    new, prevented = reports(rendered)
    assert new["V"] == "EXPIRE_MAKER"
    assert_report_shape(prevented, extra=[*STP_KEYS, "eR"])
    assert prevented["i"] == maker.order_id
    assert (prevented["x"], prevented["X"], prevented["v"]) == (
        "TRADE_PREVENTION",
        "EXPIRED_IN_MATCH",
        0,
    )
    assert {k: prevented[k] for k in STP_KEYS} == {
        "A": "1.20000000",
        "B": "1.20000000",
        "u": -1,
        "U": new["i"],
        "Cs": "BTCUSDT",
        "pl": "1.20000000",
        "pL": "1.20000000",
        "pY": "1.44000000",
    }
    assert prevented["w"] is False


def test_expire_taker_reports_on_the_taker_only(market: Recorder) -> None:
    me = market.h.account()
    maker = placed(market.h.place(me, "BUY", "2", "1", stp_mode=StpMode.NONE))
    rendered = market.place(me, "SELL", "0.5", "1", stp_mode=StpMode.EXPIRE_TAKER)
    new, prevented = reports(rendered)
    assert prevented["i"] == new["i"]
    assert (prevented["X"], prevented["U"], prevented["A"], prevented["pl"]) == (
        "EXPIRED_IN_MATCH",
        maker.order_id,
        "0.50000000",
        "0.50000000",
    )


def test_decrement_reports_the_survivor_still_open(market: Recorder) -> None:
    me = market.h.account()
    maker = placed(market.h.place(me, "BUY", "6", "2", stp_mode=StpMode.NONE))
    rendered = market.place(me, "SELL", "2", "2", stp_mode=StpMode.DECREMENT)
    by_order = {(r["i"], r["x"]): r for r in reports(rendered)}
    survivor = by_order[(maker.order_id, "TRADE_PREVENTION")]
    assert_report_shape(survivor, extra=STP_KEYS)
    assert (survivor["X"], survivor["A"], survivor["B"], survivor["w"]) == (
        "NEW",
        "2.00000000",
        "2.00000000",
        True,
    )
    taker_id = next(i for i, x in by_order if x == "NEW")
    expired = by_order[(taker_id, "TRADE_PREVENTION")]
    assert (expired["X"], expired["A"], expired["v"]) == ("EXPIRED_IN_MATCH", "2.00000000", 0)


def test_admin_deposit_is_balance_update_then_account_position(market: Recorder) -> None:
    me = market.h.account()
    rendered = market.apply(ChangeBalance(me, "BTC", Decimal("2.5"), "add"))
    assert [e for _, e in rendered] == [
        {
            "e": "balanceUpdate",
            "E": market.h.now,
            "a": "BTC",
            "d": "2.50000000",
            "T": market.h.now,
        },
        {
            "e": "outboundAccountPosition",
            "E": market.h.now,
            "u": market.h.now,
            "B": [{"a": "BTC", "f": "102.50000000", "l": "0.00000000"}],
        },
    ]
    withdrawal = market.apply(ChangeBalance(me, "BTC", Decimal("-0.5"), "add"))
    assert withdrawal[0][1]["d"] == "-0.50000000"
    assert market.apply(ChangeBalance(me, "BTC", Decimal("102"), "set")) == []


def test_external_lock_is_external_lock_update_then_account_position(market: Recorder) -> None:
    me = market.h.account()
    rendered = market.apply(LockBalance(me, "BTC", D("10")))
    assert [e for _, e in rendered] == [
        {
            "e": "externalLockUpdate",
            "E": market.h.now,
            "a": "BTC",
            "d": "10.00000000",
            "T": market.h.now,
        },
        {
            "e": "outboundAccountPosition",
            "E": market.h.now,
            "u": market.h.now,
            "B": [{"a": "BTC", "f": "90.00000000", "l": "10.00000000"}],
        },
    ]
    # user-data-stream.md "External Lock Update": same keys, order and types.
    example = code_blocks("user-data-stream.md", "External Lock Update")[0].json()["event"]
    assert_same_shape(rendered[0][1], example)
    unlock = market.apply(LockBalance(me, "BTC", D("-0.5")))
    assert unlock[0][1]["d"] == "-0.50000000"
    micro = in_time_unit(unlock[0][1], True)
    assert (micro["E"], micro["T"]) == (market.h.now * 1000,) * 2


def test_only_wanted_accounts_are_rendered() -> None:
    h = Harness()
    maker, taker = h.account(), h.account()
    h.place(maker, "SELL", "1", "100")
    events = h.place(taker, "BUY", "1", "100")
    rendered = render_batch(h.now, events, lambda account_id: account_id == maker)
    assert {account_id for account_id, _ in rendered} == {maker}
    assert [e["e"] for _, e in rendered] == ["executionReport", "outboundAccountPosition"]


def test_microsecond_connections_get_microsecond_timestamps(market: Recorder) -> None:
    me = market.h.account()
    (_, stop), _ = market.place(
        me, "SELL", "1", "90", OrderType.STOP_LOSS_LIMIT, tif=TimeInForce.GTC,
        trailing_delta=100,
    )  # fmt: skip
    micro = in_time_unit(stop, True)
    assert (micro["E"], micro["T"], micro["O"]) == (stop["E"] * 1000,) * 3
    assert micro["D"] == -1  # not a time yet
    assert in_time_unit(stop, False) is stop
    position = in_time_unit({"e": "outboundAccountPosition", "E": 5, "u": 4, "B": []}, True)
    assert (position["E"], position["u"]) == (5000, 4000)
