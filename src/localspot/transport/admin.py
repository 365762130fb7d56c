"""The admin API (`/admin/v1/...`): JSON over HTTP for people, tests and tools.

Not a Binance API, so its errors are plain `{"error": "<what is wrong>"}` with HTTP 400/401/
403/404. Reachable from loopback only unless `admin_allow_remote`; with an `admin_token`,
every request needs `Authorization: Bearer <token>`. docs/admin-api.md is the reference.
"""

from __future__ import annotations

import hmac
import ipaddress
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from localspot import jsonio
from localspot.auth.keys import ALL_PERMISSIONS, ApiKey, parse_permissions
from localspot.auth.signatures import KeyType, SignatureVerifier
from localspot.domain.accounts import BALANCE_DECIMALS, Account, CommissionRates, balance_decimal
from localspot.domain.commands import ChangeBalance, CreateAccount, LockBalance
from localspot.domain.events import AccountCreated, CommandRejected
from localspot.domain.numbers import decimals_of, format_decimal
from localspot.methods.context import Services
from localspot.storage.records import KeyRevoked, key_created

VERSION = "0.1.0"


class AdminError(Exception):
    """A bad admin request: HTTP status and a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=jsonio.dumps(payload), status=status, content_type="application/json")


def guard(request: web.Request, services: Services) -> None:
    """Refuse non-loopback callers (unless allowed) and callers without the token."""
    config = services.config
    if not config.admin_allow_remote and not _is_loopback(request.remote):
        raise AdminError(403, "the admin API accepts loopback clients only")
    if config.admin_token:
        expected = f"Bearer {config.admin_token}"
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise AdminError(401, "missing or wrong Authorization: Bearer token")


def _is_loopback(remote: str | None) -> bool:
    if remote is None:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = jsonio.loads(raw)
    except ValueError:
        raise AdminError(400, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise AdminError(400, "body must be a JSON object")
    return body


def _amount(
    asset: Any, value: Any, *, allow_negative: bool = False, what: str = "balance"
) -> Decimal:
    if not isinstance(asset, str) or not asset or not asset.isalnum() or not asset.isupper():
        raise AdminError(400, f"asset {asset!r} must be an upper-case name such as BTC")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise AdminError(400, f'{what} of {asset} must be a decimal string such as "10.5"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise AdminError(400, f"{what} of {asset} is not a number: {value!r}") from None
    if not amount.is_finite() or (amount < 0 and not allow_negative):
        raise AdminError(400, f"{what} of {asset} must be a finite number >= 0")
    return amount


def _balances(raw: Any, *, allow_negative: bool = False) -> dict[str, Decimal]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise AdminError(400, "balances must be an object of asset -> amount")
    balances = {a: _amount(a, v, allow_negative=allow_negative) for a, v in raw.items()}
    for asset, amount in balances.items():
        if decimals_of(amount) > BALANCE_DECIMALS:
            raise AdminError(400, f"balance of {asset} has more than {BALANCE_DECIMALS} decimals")
    return balances


def _key_request(body: dict[str, Any]) -> tuple[KeyType, str | None, frozenset[Any]]:
    raw_type = body.get("keyType", KeyType.HMAC_SHA256.value)
    try:
        key_type = KeyType(raw_type)
    except ValueError:
        names = ", ".join(k.value for k in KeyType)
        raise AdminError(400, f"keyType must be one of {names}") from None
    public_key = body.get("publicKey")
    if key_type is not KeyType.HMAC_SHA256 and not isinstance(public_key, str):
        raise AdminError(400, f"publicKey (PEM) is required for {key_type.value} keys")
    if key_type is KeyType.HMAC_SHA256 and public_key is not None:
        raise AdminError(400, "publicKey is not used by HMAC_SHA256 keys")
    if public_key is not None:
        try:
            verifier = SignatureVerifier.from_public_key_pem(public_key)
        except ValueError as exc:
            raise AdminError(400, f"publicKey: {exc}") from None
        if verifier.key_type is not key_type:
            raise AdminError(400, f"publicKey is a {verifier.key_type} key, not {key_type}")
    permissions = body.get("permissions")
    if permissions is None:
        return key_type, public_key, ALL_PERMISSIONS
    if not isinstance(permissions, list):
        raise AdminError(400, 'permissions must be a list such as ["USER_DATA"]')
    try:
        return key_type, public_key, parse_permissions(permissions)
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None


def _commission(raw: Any, services: Services) -> CommissionRates:
    default = services.config.commission
    base = {
        "maker": default.maker,
        "taker": default.taker,
        "buyer": default.buyer,
        "seller": default.seller,
    }
    if raw is None:
        return CommissionRates(**base)
    if not isinstance(raw, dict) or set(raw) - set(base):
        raise AdminError(400, "commission must be an object with maker/taker/buyer/seller")
    for name, value in raw.items():
        base[name] = _amount("COMMISSION", value)
    return CommissionRates(**base)


async def _create_key(services: Services, account_id: int, body: dict[str, Any]) -> ApiKey:
    key_type, public_key, permissions = _key_request(body)
    try:
        key = services.keys.create(
            account_id, key_type, public_key_pem=public_key, permissions=permissions
        )
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None
    await services.persist(key_created(key))
    return key


def render_key(key: ApiKey) -> dict[str, Any]:
    """Render a key for the admin API (the secret only for HMAC keys)."""
    out: dict[str, Any] = {"apiKey": key.api_key}
    if key.secret_key is not None:
        out["secretKey"] = key.secret_key
    out["keyType"] = key.key_type.value
    out["permissions"] = sorted(p.value for p in key.permissions)
    return out


def render_balances(account: Account) -> dict[str, dict[str, str]]:
    """Render balances as asset -> {free, locked} with 8 decimals."""
    return {
        asset: {"free": format_decimal(b.free, 8), "locked": format_decimal(b.locked, 8)}
        for asset, b in sorted(account.balances.items())
    }


def _account(services: Services, raw_id: str) -> Account:
    try:
        account_id = int(raw_id)
    except ValueError:
        raise AdminError(404, f"no account {raw_id}") from None
    account = services.engine.accounts.get(account_id)
    if account is None:
        raise AdminError(404, f"no account {account_id}")
    return account


async def create_account(request: web.Request, services: Services) -> dict[str, Any]:
    """POST /admin/v1/accounts: open an account, fund it, give it a key."""
    body = await _body(request)
    unknown = set(body) - {"balances", "keyType", "publicKey", "permissions", "commission"}
    if unknown:
        raise AdminError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    balances = _balances(body.get("balances"))
    commission = _commission(body.get("commission"), services)
    _key_request(body)  # validate before anything changes
    events = await services.execute(CreateAccount(tuple(balances.items()), commission))
    created = next(e for e in events if isinstance(e, AccountCreated))
    key = await _create_key(services, created.account_id, body)
    account = services.engine.accounts.get(created.account_id)
    assert account is not None
    return {
        "accountId": account.account_id,
        **render_key(key),
        "balances": render_balances(account),
    }


async def get_account(request: web.Request, services: Services) -> dict[str, Any]:
    """GET /admin/v1/accounts/{id}: balances, keys and commission rates."""
    account = _account(services, request.match_info["account_id"])
    keys = [render_key(k) for k in services.keys.of_account(account.account_id)]
    for key in keys:
        key.pop("secretKey", None)
    rates = account.commission
    return {
        "accountId": account.account_id,
        "balances": render_balances(account),
        "keys": keys,
        "commission": {
            "maker": format_decimal(rates.maker, 8),
            "taker": format_decimal(rates.taker, 8),
            "buyer": format_decimal(rates.buyer, 8),
            "seller": format_decimal(rates.seller, 8),
        },
    }


async def change_balances(request: web.Request, services: Services) -> dict[str, Any]:
    """POST /admin/v1/accounts/{id}/balances: `{"balances": {...}, "mode": "set" | "add"}`."""
    account = _account(services, request.match_info["account_id"])
    body = await _body(request)
    mode = body.get("mode", "set")
    if mode not in ("set", "add"):
        raise AdminError(400, 'mode must be "set" or "add"')
    balances = _balances(body.get("balances"), allow_negative=mode == "add")
    if not balances:
        raise AdminError(400, "balances must name at least one asset")
    for asset, amount in balances.items():
        events = await services.execute(ChangeBalance(account.account_id, asset, amount, mode))
        rejected = [e for e in events if isinstance(e, CommandRejected)]
        if rejected:
            raise AdminError(400, f"{asset}: {rejected[0].message}")
    return {"accountId": account.account_id, "balances": render_balances(account)}


async def lock_balance(request: web.Request, services: Services) -> dict[str, Any]:
    """POST /admin/v1/accounts/{id}/locks: `{"asset": "BTC", "delta": "0.5"}` (< 0 unlocks)."""
    account = _account(services, request.match_info["account_id"])
    body = await _body(request)
    unknown = set(body) - {"asset", "delta"}
    if unknown:
        raise AdminError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    asset = body.get("asset")
    delta = _amount(asset, body.get("delta"), allow_negative=True, what="delta")
    if not delta:
        raise AdminError(400, f"delta of {asset} must not be zero")
    if decimals_of(delta) > BALANCE_DECIMALS:
        raise AdminError(400, f"delta of {asset} has more than {BALANCE_DECIMALS} decimals")
    held = balance_decimal(account.external_locks.get(asset, 0))
    free = account.balances[asset].free if asset in account.balances else Decimal(0)
    events = await services.execute(LockBalance(account.account_id, asset, delta))
    rejected = [e for e in events if isinstance(e, CommandRejected)]
    if rejected:
        have, amount = ("free", free) if delta > 0 else ("externally locked", held)
        short = f"{have} is {format_decimal(amount, 8)}"
        raise AdminError(400, f"{asset}: {rejected[0].message} ({short})")
    return {"accountId": account.account_id, "balances": render_balances(account)}


async def add_key(request: web.Request, services: Services) -> dict[str, Any]:
    """POST /admin/v1/accounts/{id}/keys: another key for the same account."""
    account = _account(services, request.match_info["account_id"])
    body = await _body(request)
    unknown = set(body) - {"keyType", "publicKey", "permissions"}
    if unknown:
        raise AdminError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    key = await _create_key(services, account.account_id, body)
    return {"accountId": account.account_id, **render_key(key)}


async def revoke_key(request: web.Request, services: Services) -> dict[str, Any]:
    """DELETE /admin/v1/keys/{api_key}: revoke a key."""
    key = services.keys.revoke(request.match_info["api_key"])
    if key is None:
        raise AdminError(404, "no such apiKey")
    await services.persist(KeyRevoked(key.api_key))
    if services.user_streams is not None:
        # user-data-stream.md "Event Stream Terminated": its subscriptions end.
        services.user_streams.key_revoked(key.api_key, services.clock.now_ms())
    return {"apiKey": key.api_key, "revoked": True}


async def health(request: web.Request, services: Services) -> dict[str, Any]:
    """GET /admin/v1/health."""
    return {
        "status": "ok",
        "version": VERSION,
        "serverTime": services.clock.now_ms(),
        "accounts": len(services.engine.accounts),
        "connections": len(services.sessions),
    }


ROUTES = (
    ("POST", "/admin/v1/accounts", create_account),
    ("GET", "/admin/v1/accounts/{account_id}", get_account),
    ("POST", "/admin/v1/accounts/{account_id}/balances", change_balances),
    ("POST", "/admin/v1/accounts/{account_id}/locks", lock_balance),
    ("POST", "/admin/v1/accounts/{account_id}/keys", add_key),
    ("DELETE", "/admin/v1/keys/{api_key}", revoke_key),
    ("GET", "/admin/v1/health", health),
)


def add_routes(app: web.Application, services: Services) -> None:
    """Add the admin routes to `app`."""
    for http_method, path, handler in ROUTES:
        app.router.add_route(http_method, path, _wrap(handler, services))


def _wrap(handler: Any, services: Services) -> Any:
    async def serve(request: web.Request) -> web.Response:
        try:
            guard(request, services)
            return _json(await handler(request, services))
        except AdminError as exc:
            return _json({"error": exc.message}, exc.status)

    return serve
