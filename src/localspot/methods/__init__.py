"""Binance methods, one handler each, shared by the WebSocket API and REST."""

from localspot.methods.registry import Registry


def build_registry() -> Registry:
    """Return the method table with every implemented method registered."""
    from localspot.methods import account, general, market, session, trading, user_stream

    registry = Registry()
    general.register(registry)
    session.register(registry)
    trading.register(registry)
    account.register(registry)
    user_stream.register(registry)
    market.register(registry)
    return registry
