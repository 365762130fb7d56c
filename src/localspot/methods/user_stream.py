"""User Data Stream requests (WebSocket API only): subscribe, unsubscribe, list subscriptions.

web-socket-api.md "User Data Stream requests". The subscriptions themselves and the delivery of
events live in userdata.py; these handlers check who may subscribe to what.

- `userDataStream.subscribe` (USER_STREAM, no parameters) subscribes the account of the key the
  connection logged on with (`session.logon`). The docs do not say how a connection that is not
  logged on is refused; localspot answers 401 `-2015` (docs/user-data-stream.md).
- `userDataStream.subscribe.signature` (USER_STREAM, signed with apiKey/timestamp/signature,
  any key type -- binance-observed.md saw an HMAC key succeed) subscribes that key's account.
- `userDataStream.unsubscribe` (NONE, CHANGELOG 2025-08-05) ends one `subscriptionId`, or all
  of them without it; `-2036` when there is nothing to end.
- `session.subscriptions` lists the active subscription ids in ascending order.
- One subscription per account per connection (`-2035`); ids count from 0 per connection.
"""

from __future__ import annotations

from typing import Any

from localspot import errors
from localspot.auth.keys import Security
from localspot.methods.context import Call, Session
from localspot.methods.registry import Registry, method


def register(registry: Registry) -> None:
    """Add the user data stream methods to `registry` (WebSocket API only)."""
    method(registry, "userDataStream.subscribe", weight=2)(user_data_stream_subscribe)
    method(
        registry,
        "userDataStream.subscribe.signature",
        weight=2,
        security=Security.USER_STREAM,
    )(user_data_stream_subscribe_signature)
    method(registry, "userDataStream.unsubscribe", weight=2, params=("subscriptionId",))(
        user_data_stream_unsubscribe
    )
    method(registry, "session.subscriptions", weight=2)(session_subscriptions)


def _session(call: Call) -> Session:
    if call.session is None:  # pragma: no cover - these methods exist on the WS API only
        raise errors.UNSUPPORTED_OPERATION.error()
    return call.session


def user_data_stream_subscribe(call: Call) -> dict[str, Any]:
    """Subscribe to the logged-on account's user data."""
    session = _session(call)
    logged_on = session.api_key
    key = call.services.keys.get(logged_on.api_key) if logged_on is not None else None
    if logged_on is not None and key is None:
        # The key was revoked since logon: the session is revoked too (as the pipeline does).
        session.api_key = None
        session.authorized_since_ms = None
    if key is None or not key.allows(Security.USER_STREAM):
        raise errors.REJECTED_MBX_KEY.error()
    subscription = call.services.user_streams.subscribe(
        session, key.account_id, key.api_key, via_session=True
    )
    return {"subscriptionId": subscription.subscription_id}


def user_data_stream_subscribe_signature(call: Call) -> dict[str, Any]:
    """Subscribe to the user data of the account whose key signed the request."""
    session = _session(call)
    call.params.string("apiKey", required=True, max_length=200)
    key = call.api_key
    assert key is not None, "the pipeline checked the signature"
    subscription = call.services.user_streams.subscribe(
        session, key.account_id, key.api_key, via_session=False
    )
    return {"subscriptionId": subscription.subscription_id}


def user_data_stream_unsubscribe(call: Call) -> dict[str, Any]:
    """End one subscription of this connection, or all of them."""
    session = _session(call)
    subscription_id = call.params.integer("subscriptionId")
    call.services.user_streams.unsubscribe(session, subscription_id, call.now_ms)
    return {}


def session_subscriptions(call: Call) -> list[dict[str, int]]:
    """List this connection's active subscriptions."""
    session = _session(call)
    return [{"subscriptionId": sid} for sid in sorted(session.subscriptions)]
