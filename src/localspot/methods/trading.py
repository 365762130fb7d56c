"""Trading methods (being written)."""

from __future__ import annotations

from localspot.methods.registry import Registry


def register(registry: Registry) -> None:
    """Add the trading methods to `registry`."""
