import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localspot.domain.numbers import (
    Scaled,
    decimals_of,
    format_decimal,
    from_raw,
    is_multiple,
    parse_decimal,
    to_raw,
)


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (Decimal("0.1"), 8, "0.10000000"),
        (Decimal("23416.1"), 8, "23416.10000000"),
        (Decimal("0"), 8, "0.00000000"),
        (Decimal("-0.000000001"), 8, "0.00000000"),
        (Decimal("1.999999999"), 8, "1.99999999"),
        (5, 2, "5.00"),
        (Decimal("1E+3"), 2, "1000.00"),
    ],
)
def test_format_decimal_renders_binance_strings(value: Decimal, decimals: int, text: str) -> None:
    assert format_decimal(value, decimals) == text


@pytest.mark.parametrize("text", ["abc", "", "NaN", "Infinity", "-Infinity"])
def test_parse_decimal_refuses_malformed_and_non_finite(text: str) -> None:
    assert parse_decimal(text) is None


def test_parse_decimal_accepts_wire_strings() -> None:
    assert parse_decimal("0.00847000") == Decimal("0.00847")
    assert parse_decimal(5) == Decimal(5)


def test_tick_and_step_checks() -> None:
    assert is_multiple(Decimal("0.03"), Decimal("0.01"))
    assert not is_multiple(Decimal("0.031"), Decimal("0.01"))
    assert is_multiple(Decimal("0.031"), Decimal(0))
    assert decimals_of(Decimal("0.01000000")) == 2
    assert decimals_of(Decimal("100")) == 0


def test_raw_round_trip_is_exact() -> None:
    assert to_raw(Decimal("23416.1"), 8) == 2341610000000
    assert to_raw(Decimal("0.000000001"), 8) is None
    assert from_raw(2341610000000, 8) == Decimal("23416.1")


@given(
    coefficient=st.integers(-(10**30), 10**30),
    exponent=st.integers(-20, 10),
    decimals=st.integers(0, 18),
)
def test_to_raw_is_the_exact_scaled_value_or_none(
    coefficient: int, exponent: int, decimals: int
) -> None:
    value = Decimal(coefficient).scaleb(exponent)  # trailing zeros and large values included
    exact = Fraction(value) * 10**decimals
    expected = int(exact) if exact.denominator == 1 else None
    assert to_raw(value, decimals) == expected


@pytest.mark.parametrize(
    ("text", "coefficient", "exponent", "plain"),
    [
        ("0.10000000", 1, -1, "0.1"),
        ("50000.01", 5000001, -2, "50000.01"),
        ("30000", 3, 4, "30000"),
        ("0", 0, 0, "0"),
        ("0.000", 0, 0, "0"),
        ("1E-8", 1, -8, "0.00000001"),  # Decimal's own text, as older journals hold it
        ("5E+3", 5, 3, "5000"),
        ("-1.50", -15, -1, "-1.5"),
        ("007.5", 75, -1, "7.5"),
        ("1.", 1, 0, "1"),
        (".5", 5, -1, "0.5"),  # read as Decimal reads it (the API's pattern refuses it)
    ],
)
def test_scaled_reads_decimal_text_normalized(
    text: str, coefficient: int, exponent: int, plain: str
) -> None:
    value = Scaled.parse(text)
    assert (value.coefficient, value.exponent) == (coefficient, exponent)
    assert str(value) == plain
    assert value.decimal == Decimal(text)
    assert value == Scaled.of(Decimal(text)) == Scaled(coefficient * 100, exponent - 2)
    assert hash(value) == hash(Scaled.parse(plain))


@pytest.mark.parametrize("text", ["", ".", "-", "1.2.3", "1.-2", "--1", "abc", "²", "NaN", "Inf"])
def test_scaled_refuses_what_is_not_a_finite_number(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        Scaled.parse(text)


def test_scaled_is_a_value() -> None:
    value = Scaled(12345, -3)
    assert pickle.loads(pickle.dumps(value)) == value
    assert repr(value) == "Scaled('12.345')"
    assert value != Scaled(12345, -2)
    assert value != Decimal("12.345")  # not mixed with Decimal: commands hold one kind
    assert Scaled.of(7) == Scaled(7) == Scaled(700, -2)
    with pytest.raises(ValueError, match="not a finite number"):
        Scaled.of(Decimal("sNaN"))


@given(
    coefficient=st.integers(-(10**40), 10**40),
    exponent=st.integers(-30, 30),
    decimals=st.integers(0, 18),
)
def test_scaled_raw_is_the_exact_scaled_value_or_none(
    coefficient: int, exponent: int, decimals: int
) -> None:
    value = Scaled(coefficient, exponent)
    exact = Fraction(coefficient) * Fraction(10) ** (exponent + decimals)
    assert value.raw(decimals) == (int(exact) if exact.denominator == 1 else None)
    assert Fraction(value.decimal) == Fraction(coefficient) * Fraction(10) ** exponent
    assert Scaled.parse(str(value)) == value == Scaled.parse(str(value.decimal))
