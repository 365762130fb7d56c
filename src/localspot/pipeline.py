"""The request pipeline: transport -> stages (limits, params, auth, orders, faults) -> handler.

A WebSocket frame and a REST request both become a `Request`; the pipeline answers with a
`Reply` the transport turns into its own envelope. Stages are middleware: each takes the
in-flight `Exchange` and the next stage, may raise a `BinanceError` (answered as Binance does),
or wrap what follows (fault injection sits here, never inside handlers). The order of the stages
is listed once, in app.py.

An exception that is not a `BinanceError` escaping a handler is a bug: it is logged with the
request and answered with -1006 "... Execution status unknown." (status 500), and the
connection stays open.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from localspot import errors
from localspot.auth import timing
from localspot.auth.keys import Security
from localspot.auth.signatures import ws_signature_payload, ws_signature_payload_encoded
from localspot.errors import BinanceError
from localspot.limits.limiter import RateLimitUsage
from localspot.methods.context import DEFERRED_EVENTS, Call, Published, Services, Session
from localspot.methods.params import Params
from localspot.methods.registry import ENVELOPE_PARAMS, MethodSpec

log = logging.getLogger("localspot.pipeline")

WS = "ws"
REST = "rest"


@dataclass(slots=True)
class Request:
    """A method call as it came off either wire."""

    transport: str
    ip: str
    params: dict[str, Any]
    spec: MethodSpec | None = None
    method_name: str | None = None
    session: Session | None = None
    header_api_key: str | None = None
    rest_payload: bytes | None = None
    time_unit_us: bool = False


@dataclass(slots=True)
class Reply:
    """The outcome of a call, before a transport puts it in its envelope."""

    status: int = 200
    result: Any = None
    error: BinanceError | None = None
    weight_usage: list[RateLimitUsage] = field(default_factory=list)
    order_usage: list[RateLimitUsage] = field(default_factory=list)
    close_connection: bool = False
    # Events of the commands this call executed, to publish once the reply is sent.
    deferred: list[Published] = field(default_factory=list)

    @property
    def rate_limits(self) -> list[dict[str, Any]]:
        """Return the `rateLimits` array: ORDERS first, then REQUEST_WEIGHT (doc example)."""
        return [u.as_json() for u in self.order_usage] + [u.as_json() for u in self.weight_usage]


@dataclass(slots=True)
class Exchange:
    """A request in flight through the stages."""

    request: Request
    services: Services
    now_us: int
    reply: Reply
    params: Params
    call: Call | None = None


Next = Callable[[Exchange], Awaitable[None]]
Stage = Callable[[Exchange, Next], Awaitable[None]]


class Pipeline:
    """Runs each request through the stages in order, then the handler."""

    def __init__(self, services: Services, stages: Sequence[Stage]) -> None:
        self.services = services
        chain: Next = run_handler
        for stage in reversed(stages):
            chain = _link(stage, chain)
        self._chain = chain

    async def dispatch(self, request: Request) -> Reply:
        """Answer one request; never raises."""
        exchange = Exchange(
            request=request,
            services=self.services,
            now_us=self.services.clock.now_us(),
            reply=Reply(),
            params=Params(request.params),
        )
        token = DEFERRED_EVENTS.set(exchange.reply.deferred)
        try:
            await self._chain(exchange)
        except BinanceError as exc:
            exchange.reply.error = exc
            exchange.reply.status = exc.status
            exchange.reply.result = None
        except Exception:
            log.exception(
                "handler failed: method=%s params=%r",
                request.spec.name if request.spec else request.method_name,
                request.params,
            )
            exchange.reply.error = errors.UNEXPECTED_RESP.error()
            exchange.reply.status = errors.UNEXPECTED_RESP.status
            exchange.reply.result = None
        finally:
            DEFERRED_EVENTS.reset(token)
        return exchange.reply


def _link(stage: Stage, following: Next) -> Next:
    async def step(exchange: Exchange) -> None:
        await stage(exchange, following)

    return step


async def run_handler(exchange: Exchange) -> None:
    """The last stage: call the method's handler and keep its result."""
    call = exchange.call
    assert call is not None, "the auth stage builds the Call"
    result = call.spec.handler(call)
    if inspect.isawaitable(result):
        result = await result
    exchange.reply.result = result


# --- stages, in the order app.py lists them ------------------------------------------------


async def resolve_method(exchange: Exchange, following: Next) -> None:
    """Find the method (WebSocket API by name; REST routes arrive resolved)."""
    request = exchange.request
    if request.spec is None:
        name = request.method_name
        spec = exchange.services.registry.by_name(name) if name else None
        if spec is None:
            # Charge the minimum weight so rateLimits stay truthful for unknown methods.
            _charge(exchange, 1)
            if not name:
                raise errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED.error("method")
            raise errors.UNSUPPORTED_OPERATION.error()
        request.spec = spec
    await following(exchange)


async def charge_request_weight(exchange: Exchange, following: Next) -> None:
    """Count the request's weight per IP; 429 over the limit, 418 when banned.

    Order methods cost nothing when they succeed and their documented weight when they fail
    (CHANGELOG 2026-03-27): they are charged 0 up front (which still enforces bans and
    limits) and the weight afterwards if they fail.
    """
    spec = exchange.request.spec
    assert spec is not None
    try:
        weight = spec.weight_of(exchange.params)
    except BinanceError:
        weight = spec.weight if isinstance(spec.weight, int) else 1
    if not spec.free_on_success:
        _charge(exchange, weight)
        await following(exchange)
        return
    _charge(exchange, 0)
    try:
        await following(exchange)
    except BinanceError:
        _charge_failed(exchange, weight)
        raise


def _charge_failed(exchange: Exchange, weight: int) -> None:
    request = exchange.request
    limiter = exchange.services.limiter
    now_ms = exchange.now_us // 1_000
    if exchange.services.config.rate_limits_enabled:
        # The request has already failed; going over the limit here shows on the next one.
        with contextlib.suppress(BinanceError):
            limiter.charge_request(request.ip, weight, now_ms, raw=False)
    exchange.reply.weight_usage = limiter.weight_usage(request.ip, now_ms)


def _charge(exchange: Exchange, weight: int) -> None:
    services = exchange.services
    request = exchange.request
    now_ms = exchange.now_us // 1_000
    limiter = services.limiter
    if not services.config.rate_limits_enabled:
        exchange.reply.weight_usage = limiter.weight_usage(request.ip, now_ms)
        return
    try:
        exchange.reply.weight_usage = limiter.charge_request(
            request.ip, weight, now_ms, raw=request.transport == REST
        )
    except BinanceError as exc:
        exchange.reply.weight_usage = limiter.weight_usage(request.ip, now_ms)
        if exc.status == 418:
            exchange.reply.close_connection = True
        raise


async def check_params(exchange: Exchange, following: Next) -> None:
    """Refuse parameters the method does not read (-1104), as Binance counts them."""
    spec = exchange.request.spec
    assert spec is not None
    accepted = spec.accepted_params()
    sent = [
        name
        for name in exchange.params
        if not (exchange.request.transport == WS and name in ENVELOPE_PARAMS)
    ]
    read = sum(1 for name in sent if name in accepted)
    if read != len(sent):
        raise errors.UNREAD_PARAMETERS.error(read, len(sent))
    await following(exchange)


async def authenticate(exchange: Exchange, following: Next) -> None:
    """Check apiKey, signature, timestamp and permissions of SIGNED methods; build the Call."""
    request = exchange.request
    spec = request.spec
    assert spec is not None
    call = Call(
        spec=spec,
        params=exchange.params,
        services=exchange.services,
        now_us=exchange.now_us,
        transport=request.transport,
        ip=request.ip,
        time_unit_us=request.time_unit_us,
        session=request.session,
    )
    if spec.signed:
        call.api_key = _verify_signed(exchange, spec.security)
    exchange.call = call
    await following(exchange)


def _verify_signed(exchange: Exchange, security: Security) -> Any:
    request = exchange.request
    params = exchange.params
    services = exchange.services
    config = services.config
    session = request.session
    explicit_key = params.string("apiKey", max_length=200) or request.header_api_key
    timestamp = params.integer("timestamp", required=True)
    assert timestamp is not None
    recv_window = params.decimal("recvWindow")
    if recv_window is None:
        recv_window_us = config.recv_window_default_ms * 1_000
    else:
        if recv_window > config.recv_window_max_ms:
            raise errors.PARAM_GREATER_THAN.error("recvWindow", config.recv_window_max_ms)
        if recv_window.as_tuple().exponent < -3:  # type: ignore[operator]
            raise errors.BAD_PRECISION.error("recvWindow")
        recv_window_us = int(recv_window * 1_000)
    if explicit_key is None and session is not None and session.api_key is not None:
        key = services.keys.get(session.api_key.api_key)
        if key is None:
            session.api_key = None
            session.authorized_since_ms = None
            raise errors.REJECTED_MBX_KEY.error()
    else:
        key = _verify_signature(exchange, explicit_key)
    timestamp_us = timing.timestamp_to_us(timestamp)
    timing.check_timestamp(timestamp_us, recv_window_us, exchange.now_us)
    if not key.allows(security):
        raise errors.REJECTED_MBX_KEY.error()
    timing.check_still_in_window(timestamp_us, recv_window_us, services.clock.now_us())
    return key


def _verify_signature(exchange: Exchange, api_key: str | None) -> Any:
    request = exchange.request
    if api_key is None:
        if request.transport == REST:
            raise errors.BAD_API_KEY_FMT.error()
        raise errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED.error("apiKey")
    signature = exchange.params.string("signature", required=True, max_length=1024)
    assert signature is not None
    if not _is_key_format(api_key):
        raise errors.BAD_API_KEY_FMT.error()
    key = exchange.services.keys.get(api_key)
    if key is None:
        raise errors.REJECTED_MBX_KEY.error()
    payload = request.rest_payload
    if payload is None:
        payload = ws_signature_payload(request.params)
        if not key.verifier.verify(payload, signature):
            # binance-sdk-spot and python-binance sign the percent-encoded form of the
            # WebSocket API payload; the docs say plain. Accept both (docs/differences.md).
            encoded = ws_signature_payload_encoded(request.params)
            if encoded == payload or not key.verifier.verify(encoded, signature):
                raise errors.INVALID_SIGNATURE.error()
    elif not key.verifier.verify(payload, signature):
        raise errors.INVALID_SIGNATURE.error()
    return key


def _is_key_format(api_key: str) -> bool:
    return 0 < len(api_key) <= 128 and api_key.isascii() and api_key.isalnum()


async def check_order_rate(exchange: Exchange, following: Next) -> None:
    """Methods that place orders are refused past the account's ORDERS limits (429).

    The handler counts the orders it places (and takes fills off, order_count_decrement.md),
    so the reply's ORDERS usage is read again once it is done, whether it succeeded or not.
    """
    call = exchange.call
    assert call is not None
    spec = call.spec
    if not spec.places_orders or call.api_key is None:
        await following(exchange)
        return
    limiter = exchange.services.limiter
    account_id = call.api_key.account_id
    now_ms = exchange.now_us // 1_000
    exchange.reply.order_usage = limiter.order_usage(account_id, now_ms)
    if exchange.services.config.rate_limits_enabled and not _handler_checks_orders(exchange):
        limiter.check_order(account_id, now_ms)
    try:
        await following(exchange)
    finally:
        exchange.reply.order_usage = limiter.order_usage(account_id, now_ms)


def _handler_checks_orders(exchange: Exchange) -> bool:
    # web-socket-api.md "Cancel and replace order": with orderRateLimitExceededMode=CANCEL_ONLY
    # the cancel goes ahead over the limit; the handler reports the -1015 in its answer.
    spec = exchange.request.spec
    return (
        spec is not None
        and spec.name == "order.cancelReplace"
        and exchange.params.get("orderRateLimitExceededMode") == "CANCEL_ONLY"
    )
