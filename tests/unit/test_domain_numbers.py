from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localspot.domain.numbers import (
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
