"""Wire params -> typed values, with Binance's errors for every malformed input."""

from __future__ import annotations

import enum
from decimal import Decimal

import pytest

from localspot import errors, jsonio
from localspot.domain.numbers import Scaled
from localspot.errors import BinanceError
from localspot.methods.params import Params


def _error(fn) -> tuple[int, str]:
    with pytest.raises(BinanceError) as info:
        fn()
    return info.value.code, info.value.msg


@pytest.mark.parametrize("raw", ["1655716096498", 1655716096498])
def test_integer_from_either_wire(raw):
    assert Params({"timestamp": raw}).integer("timestamp") == 1655716096498


@pytest.mark.parametrize("raw", ["abc", "1.5", "-1", True, [1], "1" * 21])
def test_integer_illegal_characters(raw):
    assert _error(lambda: Params({"limit": raw}).integer("limit")) == (
        -1100,
        "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
    )


def test_integer_overflow():
    assert _error(lambda: Params({"orderId": "9" * 20}).integer("orderId")) == (
        -1108,
        "Parameter 'orderId' overflowed.",
    )


def test_mandatory_and_empty():
    assert _error(lambda: Params({}).integer("timestamp", required=True)) == (
        -1102,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    )
    assert _error(lambda: Params({"timestamp": ""}).integer("timestamp", required=True))[0] == -1102
    assert _error(lambda: Params({"limit": ""}).integer("limit")) == (
        -1105,
        "Parameter 'limit' was empty.",
    )
    assert Params({"limit": None}).integer("limit") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0.10000000", "0.10000000"), ("52000.00", "52000.00"), (Decimal("1.50"), "1.50"), (3, "3")],
)
def test_decimal_keeps_its_text(raw, expected):
    assert str(Params({"price": raw}).decimal("price")) == expected
    # An order's amounts are read as Scaled: the same number.
    assert Params({"price": raw}).scaled("price") == Scaled.of(Decimal(expected))


@pytest.mark.parametrize("getter", ["decimal", "scaled"])
@pytest.mark.parametrize("raw", ["1e5", "-1", ".5", "abc", "1.2.3", "NaN"])
def test_decimal_illegal(raw, getter):
    code, msg = _error(lambda: getattr(Params({"price": raw}), getter)("price"))
    assert code == -1100
    assert msg == (
        "Illegal characters found in parameter 'price'; "
        "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."
    )


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("FALSE", False), (True, True)])
def test_boolean(raw, expected):
    assert Params({"flag": raw}).boolean("flag") is expected


@pytest.mark.parametrize("raw", ["BTCUSDT", "１２３４５６", "A-B_C.D"])
def test_symbol_legal(raw):
    assert Params({"symbol": raw}).symbol() == raw


@pytest.mark.parametrize("raw", ["btcusdt", "BTC USDT", "X" * 51, "BTC/USDT"])
def test_symbol_illegal(raw):
    assert _error(lambda: Params({"symbol": raw}).symbol())[0] == -1100


def test_symbol_list_both_wires_and_errors():
    assert Params({"symbols": ["A", "B"]}).symbol_list() == ["A", "B"]
    assert Params({"symbols": '["A","B"]'}).symbol_list() == ["A", "B"]
    assert _error(lambda: Params({"symbols": ["A", "A"]}).symbol_list()) == (
        -1151,
        "Symbol is present multiple times in the list.",
    )
    assert _error(lambda: Params({"symbols": "A,B"}).symbol_list())[0] == -1100
    assert _error(lambda: Params({"symbols": [1, 2]}).symbol_list())[0] == -1100


class Colour(enum.StrEnum):
    RED = "RED"


def test_enum_with_its_own_error():
    assert Params({"c": "RED"}).enum("c", Colour) is Colour.RED
    with pytest.raises(BinanceError) as info:
        Params({"c": "BLUE"}).enum("c", Colour, invalid=errors.INVALID_SIDE)
    assert info.value.body() == {"code": -1117, "msg": "Invalid side."}


def test_json_numbers_keep_their_text_through_the_ws_decoder():
    frame = jsonio.loads('{"price": 52000.00, "quantity": 0.01000000, "id": 18446744073709551617}')
    params = Params(frame)
    assert str(params.decimal("price")) == "52000.00"
    assert str(params.decimal("quantity")) == "0.01000000"
    assert params.scaled("quantity") == Scaled(1, -2)
    assert frame["id"] == 18446744073709551617
