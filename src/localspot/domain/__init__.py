"""The matching engine: pure and deterministic (no asyncio, I/O, wall clock or randomness).

The package may be compiled with mypyc (setup.py, `LOCALSPOT_COMPILE=1`). A compiled module
shadows its source, so an edited source would be silently ignored; importing the package warns
when a source file is newer than its compiled module.

Compiled, the classes marked `@mypyc_attr(acyclic=True)` (orders, trades, events, balances,
price levels) are left out of the cyclic garbage collector: they point only at values, specs
and orders, never back at what holds them, so they cannot be part of a cycle. The engine keeps
every order and trade, and full collections would otherwise walk them all. Keep it so when
adding fields. Interpreted, the marker does nothing.
"""

from __future__ import annotations

import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

_SLACK_S = 5.0  # an install writes both files within moments of each other


def stale_compiled_modules(directory: Path = Path(__file__).parent) -> list[str]:
    """Return the source files in `directory` newer than the compiled module beside them."""
    stale = []
    for source in sorted(directory.glob("*.py")):
        for suffix in EXTENSION_SUFFIXES:
            compiled = source.with_name(source.stem + suffix)
            if compiled.exists():
                if source.stat().st_mtime > compiled.stat().st_mtime + _SLACK_S:
                    stale.append(source.name)
                break
    return stale


def is_compiled() -> bool:
    """True if the engine runs compiled (mypyc) rather than interpreted."""
    from localspot.domain import engine

    return not str(engine.__file__).endswith(".py")


_stale = stale_compiled_modules()
if _stale:
    warnings.warn(
        f"localspot.domain: {', '.join(_stale)} changed after the engine was compiled and are "
        "ignored; rebuild (LOCALSPOT_COMPILE=1 pip install -e .) or delete the compiled modules",
        RuntimeWarning,
        stacklevel=2,
    )
