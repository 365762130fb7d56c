"""A versioned JSON codec for journal entries: frozen dataclasses in, bytes out, and back.

Derived from the dataclass fields and their declared types (`_field_types`), so a new command
needs no code here beyond being listed in `domain.commands.Command` (or `storage.records`):
- the kind is the class name; the payload is a JSON object of field name -> value;
- Decimal and `Scaled` are their exact text (`Scaled.parse` reads Decimal's, so journals
  written when orders' amounts were Decimals read the same), an enum its value, a tuple a
  list, a nested dataclass an object;
  `encode` lets orjson walk the dataclass itself (it runs for every command, on the event
  loop), calling back only for decimals; the bytes equal orjson's of `_encode_value`'s object;
- on decoding, a missing field takes the dataclass default (fields added later with a default
  read old journals), an unknown field or kind is refused (data from a newer version).

`CODEC_VERSION` is stored in the data dir; a change that breaks old payloads must bump it and
add a migration in sqlite.py.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Iterable
from decimal import Decimal
from importlib import resources
from typing import Any

import orjson

from localspot.domain import commands
from localspot.domain.numbers import Scaled
from localspot.storage import records

CODEC_VERSION = 1


class CodecError(ValueError):
    """A payload this codec cannot read; the message names the kind and the problem."""


def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal | Scaled):
        return str(value)
    if isinstance(value, tuple | list | frozenset):
        return [_encode_value(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise CodecError(f"cannot encode {type(value).__name__} value {value!r}")


def _encode_default(value: Any) -> Any:
    # orjson calls this for what it does not serialize natively: decimals, frozensets, and
    # dataclasses it does not recognise (compiled by mypyc, say).
    if isinstance(value, Decimal | Scaled):
        return str(value)
    if isinstance(value, frozenset):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode_value(value)
    raise CodecError(f"cannot encode {type(value).__name__} value {value!r}")


Decoder = Callable[[Any], Any]


def _decoder_for(hint: Any) -> Decoder:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        decode = _decoder_for(inner[0]) if len(inner) == 1 else _identity
        return lambda v: None if v is None else decode(v)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder_for(args[0])
            return lambda v: tuple(item(x) for x in v)
        parts = [_decoder_for(a) for a in args]
        return lambda v: tuple(p(x) for p, x in zip(parts, v, strict=True))
    if origin is frozenset:
        item = _decoder_for(args[0])
        return lambda v: frozenset(item(x) for x in v)
    if hint is Decimal:
        return _decimal
    if hint is Scaled:
        return _scaled
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    if hint in (int, str, bool):
        return _checked(hint)
    return _identity


def _identity(value: Any) -> Any:
    return value


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise CodecError(f"decimal must be a string, got {value!r}")
    return Decimal(value)


def _scaled(value: Any) -> Scaled:
    if not isinstance(value, str):
        raise CodecError(f"decimal must be a string, got {value!r}")
    try:
        return Scaled.parse(value)
    except ValueError as exc:
        raise CodecError(str(exc)) from None


def _checked(kind: type) -> Decoder:
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CodecError(f"expected {kind.__name__}, got {value!r}")
        return value

    return check


def _field_types(cls: type) -> dict[str, Any]:
    """Return the declared type of each field of the dataclass `cls`, read from its source.

    Not `typing.get_type_hints(cls)`: a class compiled by mypyc (the engine's, setup.py) keeps
    only erased types in `__annotations__` (`Decimal | None` becomes `type`, `tuple[str, ...]`
    becomes `tuple`), and `dataclasses.fields(cls)[i].type` is that same object. A table of
    the types beside the classes would repeat every annotation and could drift from them. The
    class statement in the module's source is the declaration itself, the same in both builds
    (the source ships beside a compiled module; snapshot.py hashes it too): its annotations'
    text is what `from __future__ import annotations` leaves in an interpreted class's
    `__annotations__`, and `get_type_hints` evaluates it the same way, in the module's
    namespace. Only a top-level class whose fields are all annotated in its own statement
    (no inherited fields) can be read; any other raises TypeError when the codec is built.
    """
    package, _, module = cls.__module__.rpartition(".")
    statement = _class_statements(package, module).get(cls.__qualname__) if package else None
    if statement is None:
        raise TypeError(
            f"{cls.__qualname__}: no top-level class statement in a package's module "
            f"({cls.__module__}) to read its field types from"
        )
    written = {
        node.target.id: ast.unparse(node.annotation)
        for node in statement.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    names = [f.name for f in dataclasses.fields(cls)]
    missing = [name for name in names if name not in written]
    if missing:
        raise TypeError(f"{cls.__qualname__}: field(s) {missing} not annotated in its statement")
    # A stand-in class holding only the annotations' text, for get_type_hints to evaluate.
    declared = type(
        cls.__name__,
        (),
        {"__module__": cls.__module__, "__annotations__": {name: written[name] for name in names}},
    )
    return typing.get_type_hints(declared)


@functools.cache
def _class_statements(package: str, module: str) -> dict[str, ast.ClassDef]:
    source = resources.files(package).joinpath(f"{module}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _dataclass_decoder(cls: type) -> Decoder:
    hints = _field_types(cls)
    fields = {f.name: _decoder_for(hints[f.name]) for f in dataclasses.fields(cls)}

    def decode(value: Any) -> Any:
        if not isinstance(value, dict):
            raise CodecError(f"{cls.__name__}: expected an object, got {value!r}")
        unknown = set(value) - set(fields)
        if unknown:
            raise CodecError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
        return cls(**{name: fields[name](v) for name, v in value.items()})

    return decode


class Codec:
    """Encode and decode the journal entry types it was built with."""

    def __init__(self, entry_types: Iterable[type]) -> None:
        self._types = {cls.__name__: cls for cls in entry_types}
        self._decoders = {name: _dataclass_decoder(cls) for name, cls in self._types.items()}

    def kinds(self) -> list[str]:
        """Return the entry kinds this codec knows."""
        return sorted(self._types)

    def encode(self, entry: Any) -> tuple[str, bytes]:
        """Return (kind, JSON payload) for an entry."""
        kind = type(entry).__name__
        if self._types.get(kind) is not type(entry):
            raise CodecError(f"{kind} is not a journal entry type")
        try:
            return kind, orjson.dumps(entry, default=_encode_default)
        except orjson.JSONEncodeError as exc:
            cause = exc.__cause__
            raise cause if isinstance(cause, CodecError) else CodecError(f"{kind}: {exc}") from exc

    def decode(self, kind: str, payload: bytes) -> Any:
        """Rebuild the entry of `kind` from its payload; CodecError if it cannot."""
        decoder = self._decoders.get(kind)
        if decoder is None:
            raise CodecError(f"unknown journal entry kind {kind!r} (written by a newer version?)")
        try:
            return decoder(orjson.loads(payload))
        except (orjson.JSONDecodeError, TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, CodecError):
                raise
            raise CodecError(f"{kind}: {exc}") from exc

    def to_json(self, entry: Any) -> dict[str, Any]:
        """Return the entry as a JSON-ready object `{"kind", "fields"}` (export)."""
        kind, _ = self.encode(entry)
        fields: dict[str, Any] = _encode_value(entry)
        return {"kind": kind, "fields": fields}

    def from_json(self, obj: Any) -> Any:
        """Rebuild an entry from `to_json`'s form (import)."""
        if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
            raise CodecError(f"expected {{kind, fields}}, got {obj!r}")
        return self.decode(obj["kind"], orjson.dumps(obj.get("fields", {})))


def default_codec() -> Codec:
    """Return the codec for every engine command and key record."""
    return Codec([*typing.get_args(commands.Command), *records.RECORD_TYPES])
