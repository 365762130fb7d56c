"""The one method table: Binance method name -> handler, weight, security, REST route.

Each Binance method is written once, as a handler taking a `Call`; the WebSocket API finds it by
name (`order.place`, also `v3/order.place`), REST by its route (`POST /api/v3/order`). Both go
through the same pipeline (pipeline.py) and the same handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localspot.auth.keys import Security

if TYPE_CHECKING:
    from localspot.methods.context import Call
    from localspot.methods.params import Params

Handler = Callable[["Call"], Any | Awaitable[Any]]
Weight = int | Callable[["Params"], int]

# Parameters every SIGNED method accepts besides its own.
SIGNED_PARAMS = frozenset({"apiKey", "signature", "timestamp", "recvWindow"})
# Envelope parameters of the WebSocket API that are not the method's.
ENVELOPE_PARAMS = frozenset({"returnRateLimits"})


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One Binance method: its handler and everything the pipeline needs to know about it."""

    name: str
    handler: Handler
    weight: Weight
    security: Security
    params: frozenset[str]
    rest: tuple[tuple[str, str], ...] = ()
    ws: bool = True
    places_orders: int = 0
    signed: bool = False
    free_on_success: bool = False

    def __post_init__(self) -> None:
        if self.security is not Security.NONE:
            object.__setattr__(self, "signed", True)

    def weight_of(self, params: Params) -> int:
        """Return this call's request weight."""
        return self.weight if isinstance(self.weight, int) else self.weight(params)

    def accepted_params(self) -> frozenset[str]:
        """Return every parameter name this method reads."""
        extra = SIGNED_PARAMS if self.signed else frozenset()
        return self.params | extra


class Registry:
    """Methods by WebSocket API name and by REST route."""

    def __init__(self) -> None:
        self._by_name: dict[str, MethodSpec] = {}
        self._by_route: dict[tuple[str, str], MethodSpec] = {}

    def add(self, spec: MethodSpec) -> None:
        """Register a method; names and routes must be unique."""
        if spec.name in self._by_name:
            raise ValueError(f"method {spec.name} registered twice")
        self._by_name[spec.name] = spec
        for route in spec.rest:
            if route in self._by_route:
                raise ValueError(f"route {route} registered twice")
            self._by_route[route] = spec

    def by_name(self, name: str) -> MethodSpec | None:
        """Return the WebSocket API method called `name` (a `v3/` prefix is accepted)."""
        if name.startswith("v3/"):
            name = name[3:]
        spec = self._by_name.get(name)
        return spec if spec is not None and spec.ws else None

    def by_route(self, http_method: str, path: str) -> MethodSpec | None:
        """Return the method served at a REST route."""
        return self._by_route.get((http_method, path))

    def routes(self) -> Iterable[tuple[str, str]]:
        """Return every REST route."""
        return self._by_route.keys()

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_name.values())


def method(
    registry: Registry,
    name: str,
    *,
    weight: Weight,
    security: Security = Security.NONE,
    params: Iterable[str] = (),
    rest: Iterable[tuple[str, str]] = (),
    ws: bool = True,
    places_orders: int = 0,
    signed: bool = False,
    free_on_success: bool = False,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of Binance method `name`."""

    def register(handler: Handler) -> Handler:
        registry.add(
            MethodSpec(
                name=name,
                handler=handler,
                weight=weight,
                security=security,
                params=frozenset(params),
                rest=tuple(rest),
                ws=ws,
                places_orders=places_orders,
                signed=signed,
                free_on_success=free_on_success,
            )
        )
        return handler

    return register
