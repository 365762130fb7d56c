"""Wire parameters -> typed values. Every malformed input maps to a catalog error here.

Both wires arrive as a mapping of name -> value: REST values are always strings (query string
and form body merged, query winning, rest-api.md "General Information on Endpoints"); WebSocket
API values are decoded JSON (str, int, bool, Decimal for numbers with a fraction, list).
Scalars are checked on their text, so `"timestamp": 1655716096498` and `timestamp=1655716096498`
pass or fail alike, with Binance's wording: a value outside its legal range gives
`-1100 Illegal characters found in parameter '%s'; legal range is '%s'.`, a missing mandatory
one `-1102 Mandatory parameter '%s' was not sent, was empty/null, or malformed.`
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from localspot import errors, jsonio
from localspot.domain.numbers import Scaled

E = TypeVar("E", bound=enum.Enum)

# Legal ranges as Binance prints them (binance-observed.md for `symbol`).
SYMBOL_RANGE = r"^[\w\-._&&[^a-z]]{1,50}$"
INTEGER_RANGE = r"^[0-9]{1,20}$"
SIGNED_INTEGER_RANGE = r"^-?[0-9]{1,20}$"
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
BOOLEAN_RANGE = r"^(true|false)$"
SYMBOLS_RANGE = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'
CLIENT_ID_RANGE = r"^[a-zA-Z0-9-_]{1,36}$"
STRING_RANGE = r"^.{1,100}$"

_SYMBOL_RE = re.compile(r"[\w\-.]{1,50}")
_LOWER_RE = re.compile(r"[a-z]")
_INTEGER_RE = re.compile(r"[0-9]{1,20}")
_SIGNED_INTEGER_RE = re.compile(r"-?[0-9]{1,20}")
_DECIMAL_RE = re.compile(r"([0-9]{1,20})(?:\.([0-9]{1,20}))?")
_LONG_MAX = 2**63 - 1


def value_text(value: Any) -> str | None:
    """Return the text a scalar wire value stands for (JSON true -> "true"), None for others."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return None


class Params(Mapping[str, Any]):
    """A request's parameters with typed, validating getters."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    def __getitem__(self, name: str) -> Any:
        return self._raw[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def has(self, name: str) -> bool:
        """Return True if `name` was sent with a non-empty value."""
        value = self._raw.get(name)
        return value is not None and value != ""

    def _text(self, name: str, required: bool, legal_range: str) -> str | None:
        value = self._raw.get(name)
        if value is None or value == "":
            if required:
                raise errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED.error(name)
            if value == "":
                raise errors.PARAM_EMPTY.error(name)
            return None
        text = value_text(value)
        if text is None:
            raise errors.ILLEGAL_CHARS_PARAM.error(name, legal_range)
        return text

    def string(self, name: str, *, required: bool = False, max_length: int = 100) -> str | None:
        """Return a free-text parameter."""
        value = self._raw.get(name)
        if value is not None and not isinstance(value, str):
            raise errors.ILLEGAL_CHARS_PARAM.error(name, f"^.{{1,{max_length}}}$")
        text = self._text(name, required, f"^.{{1,{max_length}}}$")
        if text is not None and len(text) > max_length:
            raise errors.ILLEGAL_CHARS_PARAM.error(name, f"^.{{1,{max_length}}}$")
        return text

    def client_id(self, name: str, *, required: bool = False) -> str | None:
        """Return a client order id (`^[a-zA-Z0-9-_]{1,36}$`)."""
        text = self._text(name, required, CLIENT_ID_RANGE)
        if text is not None and not re.fullmatch(r"[a-zA-Z0-9\-_]{1,36}", text):
            raise errors.ILLEGAL_CHARS_PARAM.error(name, CLIENT_ID_RANGE)
        return text

    def symbol(self, name: str = "symbol", *, required: bool = True) -> str | None:
        """Return a symbol name; lower case is illegal, as on Binance."""
        text = self._text(name, required, SYMBOL_RANGE)
        if text is not None and (not _SYMBOL_RE.fullmatch(text) or _LOWER_RE.search(text)):
            raise errors.ILLEGAL_CHARS_PARAM.error(name, SYMBOL_RANGE)
        return text

    def integer(self, name: str, *, required: bool = False, signed: bool = False) -> int | None:
        """Return an integer (INT/LONG) parameter."""
        legal = SIGNED_INTEGER_RANGE if signed else INTEGER_RANGE
        text = self._text(name, required, legal)
        if text is None:
            return None
        pattern = _SIGNED_INTEGER_RE if signed else _INTEGER_RE
        if not pattern.fullmatch(text):
            raise errors.ILLEGAL_CHARS_PARAM.error(name, legal)
        value = int(text)
        if not -_LONG_MAX - 1 <= value <= _LONG_MAX:
            raise errors.PARAM_OVERFLOW.error(name)
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        """Return a DECIMAL parameter, its text kept exactly."""
        found = self._decimal_digits(name, required)
        return None if found is None else Decimal(found[0])

    def scaled(self, name: str, *, required: bool = False) -> Scaled | None:
        """Return a DECIMAL parameter as the exact `Scaled` an order's command carries."""
        found = self._decimal_digits(name, required)
        return None if found is None else Scaled.from_digits(found[1], found[2] or "")

    def _decimal_digits(self, name: str, required: bool) -> re.Match[str] | None:
        # The pattern admits only valid numbers; its groups are the digits around the point.
        text = self._text(name, required, DECIMAL_RANGE)
        if text is None:
            return None
        found = _DECIMAL_RE.fullmatch(text)
        if found is None:
            raise errors.ILLEGAL_CHARS_PARAM.error(name, DECIMAL_RANGE)
        return found

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        """Return a BOOLEAN parameter (`true` / `false`, any case on REST)."""
        text = self._text(name, required, BOOLEAN_RANGE)
        if text is None:
            return None
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise errors.ILLEGAL_CHARS_PARAM.error(name, BOOLEAN_RANGE)
        return lowered == "true"

    def enum(
        self,
        name: str,
        enum_type: type[E],
        *,
        invalid: errors.ErrorSpec | None = None,
        required: bool = False,
    ) -> E | None:
        """Return an ENUM parameter; an unknown value raises `invalid` (or -1100)."""
        text = self._text(name, required, "^[A-Z_]{1,30}$")
        if text is None:
            return None
        try:
            return enum_type(text)
        except ValueError:
            if invalid is not None:
                raise invalid.error() from None
            raise errors.INVALID_PARAMETER.error(name) from None

    def string_list(self, name: str, *, legal_range: str = SYMBOLS_RANGE) -> list[str] | None:
        """Return an ARRAY of STRING: a JSON list on the WebSocket API, JSON text on REST."""
        value = self._raw.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = jsonio.loads(value) if value.startswith("[") else None
            except ValueError:
                value = None
            if value is None:
                raise errors.ILLEGAL_CHARS_PARAM.error(name, legal_range)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise errors.ILLEGAL_CHARS_PARAM.error(name, legal_range)
        return value

    def symbol_list(self, name: str = "symbols") -> list[str] | None:
        """Return a list of symbols; duplicates give -1151, bad names -1100."""
        names = self.string_list(name)
        if names is None:
            return None
        for symbol in names:
            if not _SYMBOL_RE.fullmatch(symbol) or _LOWER_RE.search(symbol):
                raise errors.ILLEGAL_CHARS_PARAM.error(name, SYMBOLS_RANGE)
        if len(set(names)) != len(names):
            raise errors.DUPLICATE_SYMBOLS.error()
        return names
