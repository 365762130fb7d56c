"""Binance methods, one handler each, shared by the WebSocket API and REST."""

from localspot.methods.registry import Registry


def build_registry() -> Registry:
    """Return the method table with every implemented method registered."""
    from localspot.methods import account, general, session, trading

    registry = Registry()
    general.register(registry)
    session.register(registry)
    trading.register(registry)
    account.register(registry)
    return registry
