"""Session authentication: `session.logon`, `session.status`, `session.logout` (WS API only).

web-socket-api.md "Session Authentication" and "Authentication requests". Only Ed25519 keys
may log on, as documented. The docs do not say how other key types are refused; localspot
answers 401 `-1002 You are not authorized to execute this request.` (docs/differences.md).
"""

from __future__ import annotations

from typing import Any

from localspot import errors
from localspot.auth.signatures import KeyType
from localspot.methods.context import Call, Session
from localspot.methods.registry import Registry, method


def register(registry: Registry) -> None:
    """Add the session methods to `registry` (WebSocket API only)."""
    method(registry, "session.logon", weight=2, signed=True)(session_logon)
    method(registry, "session.status", weight=2)(session_status)
    method(registry, "session.logout", weight=2)(session_logout)


def _session(call: Call) -> Session:
    if call.session is None:  # pragma: no cover - these methods exist on the WS API only
        raise errors.UNSUPPORTED_OPERATION.error()
    return call.session


def session_logon(call: Call) -> dict[str, Any]:
    """Authenticate the connection with an Ed25519 API key."""
    session = _session(call)
    call.params.string("apiKey", required=True, max_length=200)
    key = call.api_key
    assert key is not None
    if key.key_type is not KeyType.ED25519:
        raise errors.UNAUTHORIZED.error()
    session.api_key = key
    session.authorized_since_ms = call.now_ms
    return session_info(call, session)


def session_status(call: Call) -> dict[str, Any]:
    """Return the connection's authentication state."""
    session = _session(call)
    if session.api_key is not None and call.services.keys.get(session.api_key.api_key) is None:
        session.api_key = None
        session.authorized_since_ms = None
    return session_info(call, session)


def session_logout(call: Call) -> dict[str, Any]:
    """Forget the connection's API key (and end the subscriptions made through it)."""
    session = _session(call)
    if call.services.user_streams is not None:
        call.services.user_streams.end_session_subscriptions(session, call.now_ms)
    session.api_key = None
    session.authorized_since_ms = None
    return session_info(call, session)


def session_info(call: Call, session: Session) -> dict[str, Any]:
    """Render the session state in the documented key order."""
    since = session.authorized_since_ms
    return {
        "apiKey": session.api_key.api_key if session.api_key else None,
        "authorizedSince": call.timestamp(since) if since is not None else None,
        "connectedSince": call.timestamp(session.connected_since_ms),
        "returnRateLimits": session.return_rate_limits,
        "serverTime": call.server_time(),
        "userDataStream": bool(session.subscriptions),
    }
