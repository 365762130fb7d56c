"""Admin routes for durable state: reset, snapshot, export, import (docs/persistence.md).

Same rules as admin.py (loopback only unless allowed, optional bearer token, plain
`{"error": ...}` bodies). Import reads bodies past `max_frame_bytes`: an export can be large.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from localspot import jsonio
from localspot.methods.context import Services
from localspot.storage import Persistence, StorageError
from localspot.storage.persistence import ImportRefused
from localspot.transport.admin import AdminError, _body, _json, guard


async def reset(request: web.Request, persistence: Persistence) -> dict[str, Any]:
    """POST /admin/v1/reset: `{}` forgets everything; `{"keepAccounts": true}` keeps accounts
    and keys with balances back to their initial funding."""
    body = await _body(request)
    unknown = set(body) - {"keepAccounts"}
    if unknown:
        raise AdminError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    keep = body.get("keepAccounts", False)
    if not isinstance(keep, bool):
        raise AdminError(400, "keepAccounts must be true or false")
    try:
        return await persistence.reset(keep_accounts=keep)
    except StorageError as exc:
        raise AdminError(409, str(exc)) from None


async def snapshot(request: web.Request, persistence: Persistence) -> dict[str, Any]:
    """POST /admin/v1/snapshot: write a snapshot now."""
    return await persistence.snapshot()


async def export(request: web.Request, persistence: Persistence) -> dict[str, Any]:
    """GET /admin/v1/export: the journal since the last reset plus a readable state view."""
    return await persistence.export()


async def import_(request: web.Request, persistence: Persistence) -> dict[str, Any]:
    """POST /admin/v1/import: replace the whole state with an export's journal."""
    raw = await request.content.read()
    try:
        document = jsonio.loads(raw)
    except ValueError:
        raise AdminError(400, "body is not valid JSON") from None
    try:
        return await persistence.import_(document)
    except ImportRefused as exc:
        raise AdminError(400, str(exc)) from None


ROUTES = (
    ("POST", "/admin/v1/reset", reset),
    ("POST", "/admin/v1/snapshot", snapshot),
    ("GET", "/admin/v1/export", export),
    ("POST", "/admin/v1/import", import_),
)


def add_routes(app: web.Application, services: Services, persistence: Persistence) -> None:
    """Add the durable-state admin routes to `app`."""
    for http_method, path, handler in ROUTES:
        app.router.add_route(http_method, path, _wrap(handler, services, persistence))


def _wrap(handler: Any, services: Services, persistence: Persistence) -> Any:
    async def serve(request: web.Request) -> web.Response:
        try:
            guard(request, services)
            return _json(await handler(request, persistence))
        except AdminError as exc:
            return _json({"error": exc.message}, exc.status)

    return serve
