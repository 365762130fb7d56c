"""The composition root: builds every part from a `Config` and wires them, in one screen.

Request path (STYLE.md): transport -> pipeline stages -> handler -> engine, and back through
the renderers. The stages are listed here, in order, once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from localspot import pipeline as stages
from localspot import userdata
from localspot.auth.keys import KeyStore
from localspot.clock import Clock, SystemClock
from localspot.config import Config
from localspot.domain.engine import Engine
from localspot.domain.symbols import SymbolSpec
from localspot.limits.limiter import RateLimiter
from localspot.marketdata import MarketData
from localspot.methods import build_registry
from localspot.methods.context import Services
from localspot.pipeline import Pipeline
from localspot.storage import Persistence, build_persistence
from localspot.transport import admin, admin_data, rest, ws_api, ws_streams

log = logging.getLogger("localspot")

SERVICES = web.AppKey("services", Services)
PIPELINE = web.AppKey("pipeline", Pipeline)
WS_CONNECTIONS = web.AppKey("ws_connections", set)
PERSISTENCE = web.AppKey("persistence", Persistence)

# The pipeline, in the order every request goes through it.
STAGES = (
    stages.resolve_method,  # which method (REST routes arrive resolved)
    stages.charge_request_weight,  # REQUEST_WEIGHT / RAW_REQUESTS per IP: 429, 418
    stages.check_params,  # -1104 for parameters the method does not read
    stages.authenticate,  # apiKey, signature, timestamp, permissions (SIGNED only)
    stages.check_order_rate,  # ORDERS per account (order-placing methods only)
    # fault injection will sit here: around the handler, never inside it
)


def build_services(config: Config, clock: Clock | None = None) -> Services:
    """Build the server's state and collaborators from `config`."""
    clock = clock or SystemClock()
    symbols: dict[str, dict[str, Any]] = {}
    execution_rules: dict[str, list[dict[str, Any]]] = {}
    for entry in config.symbols:
        entry = dict(entry)
        execution_rules[entry["symbol"]] = entry.pop("executionRules", [])
        symbols[entry["symbol"]] = entry
    engine = Engine(SymbolSpec.from_exchange_info(s) for s in symbols.values())
    limiter = RateLimiter(rules=config.rate_limits, connection_rule=config.connection_limit)
    services = Services(
        config=config,
        clock=clock,
        engine=engine,
        keys=KeyStore(),
        limiter=limiter,
        registry=build_registry(),
        symbols=symbols,
        execution_rules=execution_rules,
    )
    userdata.install(services)  # user data streams: engine events -> subscribed connections
    services.market_data = MarketData(lambda: services.engine)  # trades, klines, book ids
    return services


def build_app(config: Config, clock: Clock | None = None) -> web.Application:
    """Build the aiohttp application serving the WebSocket API, REST and admin API."""
    services = build_services(config, clock)
    pipeline = Pipeline(services, STAGES)
    app = web.Application(client_max_size=config.max_frame_bytes)
    app[SERVICES] = services
    app[PIPELINE] = pipeline
    connections: set[ws_api.WsApiConnection] = set()
    app[WS_CONNECTIONS] = connections

    async def ws_api_route(request: web.Request) -> web.StreamResponse:
        return await ws_api.open_connection(request, services, pipeline, connections)

    async def rest_route(request: web.Request) -> web.StreamResponse:
        return await rest.handle(request, services, pipeline)

    app.router.add_get("/ws-api/v3", ws_api_route)
    admin.add_routes(app, services)
    persistence = app[PERSISTENCE] = build_persistence(config, services)
    services.journal = persistence
    admin_data.add_routes(app, services, persistence)
    # Every /api/ path goes through the method table; unknown ones get Binance's 404.
    app.router.add_route("*", "/api/{tail:.*}", rest_route)
    # Market data streams: /ws, /ws/<streams>, /stream (and their 100 ms ticker).
    ws_streams.add_routes(app, services)
    app.on_shutdown.append(_shutdown_connections)
    app.cleanup_ctx.append(_storage_lifecycle)
    app.cleanup_ctx.append(_lifecycle)
    return app


async def _shutdown_connections(app: web.Application) -> None:
    for connection in list(app[WS_CONNECTIONS]):
        try:
            await connection.server_shutdown()
        except Exception:  # a broken socket must not stop the others' shutdown event
            log.exception(
                "serverShutdown to connection %s failed", connection.session.connection_id
            )


async def _storage_lifecycle(app: web.Application) -> AsyncIterator[None]:
    # Load and replay before serving; final snapshot and close after the last connection.
    persistence = app[PERSISTENCE]
    await persistence.open()
    try:
        yield
    finally:
        await persistence.close()


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    log.debug("localspot starting")
    yield
    log.debug("localspot stopped")
