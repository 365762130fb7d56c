"""Pickling the engine's classes the same way interpreted or compiled (snapshots).

storage/snapshot.py pickles the whole `Engine`. A class compiled by mypyc (setup.py) makes its
instances only through `__init__`, so pickle's default (a blank instance, then its attributes)
fails for a class whose `__init__` takes arguments. Such classes define

    def __reduce__(self) -> Reduced:
        return reduce_with(self, placeholder_args)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore(self, state)

so that pickle calls the class with placeholder arguments, then sets every attribute. The
placeholders must reference nothing that refers back to the instance (pickle saves them
before it remembers the instance). Mutable dataclasses with the generated `__init__` need none
of this. One that writes out its `__init__` (to have it compiled, events.py), and a frozen one
(compiled, it refuses attributes set after it is made: commands.py, symbols.py), is rebuilt
from its fields by `__reduce__` returning `by_fields(self)`, which needs the same care: no field
may refer back to the instance.
"""

from __future__ import annotations

import dataclasses
from typing import Any

Reduced = tuple[type[Any], tuple[Any, ...], dict[str, Any]]
ByFields = tuple[type[Any], tuple[Any, ...]]


def attribute_names(cls: type[Any]) -> tuple[str, ...]:
    """Names of the instance attributes of `cls` declared by mypyc or by `__slots__`."""
    names: tuple[str, ...] | None = getattr(cls, "__mypyc_attrs__", None)
    if names is not None:
        return names
    found: list[str] = []
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        found.extend([slots] if isinstance(slots, str) else slots)
    return tuple(found)


def reduce_with(obj: object, args: tuple[Any, ...]) -> Reduced:
    """Return pickle's recipe for `obj`: call its class with `args`, then set its state."""
    state = {
        name: getattr(obj, name)
        for name in attribute_names(type(obj))
        if name != "__dict__" and hasattr(obj, name)
    }
    state.update(getattr(obj, "__dict__", {}))
    return type(obj), args, state


def restore(obj: object, state: dict[str, Any]) -> None:
    """Set every attribute in `state` on `obj` (its `__setstate__`)."""
    for name, value in state.items():
        setattr(obj, name, value)


def by_fields(obj: Any) -> ByFields:
    """Return pickle's recipe for a dataclass instance: call its class with its fields' values.

    Fields that `__init__` does not take (`field(init=False)`) are left to it to compute.
    """
    return type(obj), tuple([getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init])
