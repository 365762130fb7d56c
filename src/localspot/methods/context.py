"""What a handler sees: the `Call` (method, params, caller) and the `Services` it may use."""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from localspot import errors
from localspot.errors import BinanceError

if TYPE_CHECKING:
    from localspot.auth.keys import ApiKey, KeyStore
    from localspot.clock import Clock
    from localspot.config import Config
    from localspot.domain.accounts import Account
    from localspot.domain.commands import Command
    from localspot.domain.engine import Engine
    from localspot.domain.events import Event
    from localspot.limits.limiter import RateLimiter
    from localspot.methods.params import Params
    from localspot.methods.registry import MethodSpec, Registry

_connection_ids = itertools.count(1)


@dataclass
class Services:
    """The server's state and collaborators, built once in app.py."""

    config: Config
    clock: Clock
    engine: Engine
    keys: KeyStore
    limiter: RateLimiter
    registry: Registry
    symbols: dict[str, dict[str, Any]]
    execution_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sessions: set[Session] = field(default_factory=set)
    journal: Journal = field(default_factory=lambda: NullJournal())
    # Called with (command, now_ms, events) once the command is durable and the reply to the
    # request that caused it has been sent: market data streams, user data streams, the
    # dashboard. They must not block and must not raise.
    subscribers: list[Callable[[Command, int, list[Event]], None]] = field(default_factory=list)
    # Called with (command, now_ms, events) right after the engine applied the command, in the
    # engine's order, before anything else runs: for consumers that must see the state as of
    # that command or keep the engine's order (userdata.py). Must not block and must not raise.
    observers: list[Callable[[Command, int, list[Event]], None]] = field(default_factory=list)
    # The user data stream subscriptions (userdata.UserDataStreams), set by app.py.
    user_streams: Any = None
    # Trade tapes and book update ids for market data methods and streams
    # (marketdata.MarketData), set by app.py.
    market_data: Any = None

    async def execute(self, command: Command) -> list[Event]:
        """Apply one state-changing command: the single door into the engine.

        The command is applied, then journaled with the `now_ms` the engine saw; the caller
        (which replies) resumes only once the journal says it is durable. The engine is
        deterministic, so replaying the journal rebuilds this state. Events are published
        after the reply: inside a request they wait in that request's deferred list until the
        transport has sent the response (`publish`); outside one they go out at once.
        """
        return await self.execute_view(command, _identity)

    async def execute_view(self, command: Command, view: Callable[[list[Event]], T]) -> T:
        """Like `execute`, returning `view(events)` computed right after the engine applied it.

        A reply must describe the state its own command produced: while this call waits for
        the journal, other commands may change the same orders. A `BinanceError` from `view`
        (a rejection) is raised once the command is durable, like the view's result.
        """
        now_ms = self.clock.now_ms()
        events = self.engine.apply(command, now_ms)
        for observer in self.observers:
            observer(command, now_ms, events)
        failure: BinanceError | None = None
        try:
            result = view(events)
        except BinanceError as exc:
            failure = exc
        await self.journal.append(command, now_ms)
        deferred = DEFERRED_EVENTS.get()
        if deferred is None:
            self.publish([(command, now_ms, events)])
        else:
            deferred.append((command, now_ms, events))
        if failure is not None:
            raise failure
        return result

    def publish(self, batches: list[Published]) -> None:
        """Hand executed commands' events to every subscriber, in order."""
        for command, now_ms, events in batches:
            for subscriber in self.subscribers:
                subscriber(command, now_ms, events)

    async def persist(self, record: Any) -> None:
        """Make a change kept outside the engine (an API key created or revoked) durable.

        Call it right after making the change, with no await in between, as `execute` does.
        """
        await self.journal.append(record, self.clock.now_ms())


Published = tuple["Command", int, list["Event"]]
T = TypeVar("T")


def _identity(events: list[Event]) -> list[Event]:
    return events


# Set by the pipeline for the duration of one request: events to publish after its reply.
DEFERRED_EVENTS: contextvars.ContextVar[list[Published] | None] = contextvars.ContextVar(
    "deferred_events", default=None
)


class Journal(Protocol):
    """Where state-changing commands are made durable (storage/)."""

    async def append(self, command: Command | Any, now_ms: int) -> None:
        """Return once `command` (applied at `now_ms`; or a key record) is durable."""
        ...


class NullJournal:
    """Keeps nothing: the in-memory server."""

    async def append(self, command: Command, now_ms: int) -> None:
        """Return at once."""


@dataclass(eq=False)
class Session:
    """One WebSocket API connection's state (web-socket-api.md "Session Authentication")."""

    ip: str
    connected_since_ms: int
    return_rate_limits: bool = True
    time_unit_us: bool = False
    api_key: ApiKey | None = None
    authorized_since_ms: int | None = None
    # subscriptionId -> subscription, filled by the user data stream methods.
    subscriptions: dict[int, Any] = field(default_factory=dict)
    next_subscription_id: int = 0
    # The connection (transport/ws_api.WsApiConnection: send_json, close), set when it opens.
    sender: Any = None
    # Run once after the response to the current request has been sent (userdata.py).
    after_reply: list[Callable[[], None]] = field(default_factory=list)
    # Run once when the connection has closed.
    on_close: list[Callable[[], None]] = field(default_factory=list)
    connection_id: int = field(default_factory=lambda: next(_connection_ids))

    def __hash__(self) -> int:
        return self.connection_id


@dataclass(slots=True)
class Call:
    """One method call, from either wire, after the pipeline has checked it."""

    spec: MethodSpec
    params: Params
    services: Services
    now_us: int
    transport: str
    ip: str
    time_unit_us: bool = False
    session: Session | None = None
    api_key: ApiKey | None = None

    @property
    def now_ms(self) -> int:
        """Return the call's time in milliseconds."""
        return self.now_us // 1_000

    def timestamp(self, ms: int) -> int:
        """Render a millisecond timestamp in the caller's time unit."""
        return ms * 1_000 if self.time_unit_us else ms

    def server_time(self) -> int:
        """Return the current time in the caller's time unit."""
        return self.now_us if self.time_unit_us else self.now_us // 1_000

    @property
    def account(self) -> Account:
        """Return the calling account (SIGNED methods only)."""
        if self.api_key is None:  # pragma: no cover - the pipeline guarantees a key
            raise errors.REJECTED_MBX_KEY.error()
        account = self.services.engine.accounts.get(self.api_key.account_id)
        if account is None:
            raise errors.REJECTED_MBX_KEY.error()
        return account
