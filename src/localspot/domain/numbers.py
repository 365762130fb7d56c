"""Exact numbers: Decimal parsing, tick/step checks, scaled integers, Binance formatting.

Prices, quantities and balances are exact from the wire onwards: an order's amounts travel as
`Scaled` (an integer and a power of ten), other amounts as `Decimal`; inside the book they are
scaled integers ("raw" values: `value * 10**decimals`, exactly). Conversions live here so every
module rounds the same way. `float` never appears.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_DOWN, Context, Decimal, InvalidOperation
from typing import Final

ZERO: Final = Decimal(0)
_UNITS: dict[int, Decimal] = {}
_POWERS: Final[tuple[int, ...]] = tuple([10**n for n in range(40)])
# scaleb in this context never rounds: a Scaled as a Decimal is exact, whatever its size.
_EXACT: Final = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def parse_decimal(text: str | int | Decimal) -> Decimal | None:
    """Parse a wire decimal ("0.10000000", 5) into a finite Decimal, or None if malformed."""
    if isinstance(text, bool):
        return None
    try:
        value = text if isinstance(text, Decimal) else Decimal(text)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return value if value.is_finite() else None


def format_decimal(value: Decimal | int, decimals: int) -> str:
    """Render `value` with exactly `decimals` places, truncating, as Binance does: "0.10000000"."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
    return f"{abs(rounded) if rounded == 0 else rounded:f}"


def decimals_of(value: Decimal) -> int:
    """Return how many decimal places `value` needs (0.01000000 -> 2, 5 -> 0)."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True if `value` is a whole multiple of `step`; a zero step disables the rule."""
    return step == 0 or value % step == 0


def unit(decimals: int) -> Decimal:
    """Return `1E-decimals`: `Decimal(raw) * unit(d)` is `from_raw(raw, d)`, exponent included."""
    found = _UNITS.get(decimals)
    if found is None:
        found = _UNITS[decimals] = Decimal(1).scaleb(-decimals)
    return found


def to_raw(value: Decimal, decimals: int) -> int | None:
    """Return `value * 10**decimals` as an int, or None if that is not a whole number."""
    # Multiplying by 1E+d is scaleb(d) (same coefficient, exponent and context rounding) and
    # measures faster. (`as_integer_ratio` measured no fewer instructions, compiled.)
    scaled = value * unit(-decimals)
    raw = int(scaled)
    return raw if raw == scaled else None


def from_raw(raw: int, decimals: int) -> Decimal:
    """Return the Decimal for a scaled integer (exponent -decimals, like scaleb)."""
    return Decimal(raw) * unit(decimals)


def ceil_div(numerator: int, denominator: int) -> int:
    """Return ceil(numerator / denominator) for ints."""
    return -(-numerator // denominator)


class Scaled:
    """An exact decimal number held as `coefficient * 10**exponent`, both ints.

    An order's prices and quantities travel in commands as these (commands.py): the API reads
    the wire text straight into one (`parse`), and the engine makes the symbol's raw integer
    from it with integer arithmetic (`raw`). From a Decimal that took about 4,000 machine
    instructions per order, a sixth of the compiled engine's work (docs/trading.md#speed).

    Kept normalized (no trailing zero in the coefficient; zero is 0E0), so equal numbers have
    equal fields. `str` is the plain decimal text without an exponent ("0.00000001"), which
    `parse` reads back, as it reads Decimal's text ("1E-8"): the journal stores that text, the
    same as it stored these amounts when commands carried Decimals. Treat instances as
    immutable.
    """

    __slots__ = ("coefficient", "exponent")

    def __init__(self, coefficient: int, exponent: int = 0) -> None:
        if coefficient == 0:
            exponent = 0
        else:
            while coefficient % 10 == 0:
                coefficient //= 10
                exponent += 1
        self.coefficient = coefficient
        self.exponent = exponent

    @classmethod
    def parse(cls, text: str) -> Scaled:
        """Read decimal text ("0.10000000", "5", "1E-8"); ValueError if it is not a number.

        Plain digits with an optional fraction (what the API admits) are read directly; any
        other text is read as `Decimal` reads it.
        """
        whole, _, fraction = text.partition(".")
        if text.isascii() and whole.isdigit() and (not fraction or fraction.isdigit()):
            return cls.from_digits(whole, fraction)
        try:
            return cls.of(Decimal(text))
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {text!r}") from None

    @classmethod
    def from_digits(cls, whole: str, fraction: str) -> Scaled:
        """The number `whole.fraction`, from ASCII digits the caller has checked."""
        fraction = fraction.rstrip("0")
        return cls(int(whole + fraction), -len(fraction))

    @classmethod
    def of(cls, value: Decimal | int) -> Scaled:
        """The same number as a finite Decimal (or an int); ValueError if it is not finite."""
        if isinstance(value, int):
            return cls(value)
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        coefficient = int("".join(map(str, digits)))
        return cls(-coefficient if sign else coefficient, exponent)

    def raw(self, decimals: int) -> int | None:
        """Return `self * 10**decimals` as an int, or None if that is not a whole number."""
        shift = self.exponent + decimals
        if shift < 0:
            return None  # normalized: the coefficient has no trailing zero to give
        power: int = _POWERS[shift] if shift < 40 else 10**shift
        return self.coefficient * power

    @property
    def decimal(self) -> Decimal:
        """The same number as a Decimal (exponent `exponent`)."""
        return Decimal(self.coefficient).scaleb(self.exponent, _EXACT)

    def __str__(self) -> str:
        digits = str(abs(self.coefficient))
        sign = "-" if self.coefficient < 0 else ""
        if self.exponent >= 0:
            return sign + digits + "0" * self.exponent
        digits = digits.rjust(1 - self.exponent, "0")
        return f"{sign}{digits[: self.exponent]}.{digits[self.exponent :]}"

    def __repr__(self) -> str:
        return f"Scaled('{self}')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scaled):
            return NotImplemented
        return self.coefficient == other.coefficient and self.exponent == other.exponent

    def __hash__(self) -> int:
        return hash((self.coefficient, self.exponent))

    def __reduce__(self) -> tuple[type[Scaled], tuple[int, int]]:
        return Scaled, (self.coefficient, self.exponent)
