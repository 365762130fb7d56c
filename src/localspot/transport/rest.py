"""The REST transport (`/api/v3/...`): HTTP requests in, JSON bodies and headers out. Thin.

rest-api.md "General Information on Endpoints": GET parameters come in the query string;
POST/PUT/DELETE parameters in the query string, an `application/x-www-form-urlencoded` body, or
both (the query string wins for a parameter sent in both). The signature covers the query
string concatenated with the body exactly as received ("SIGNED Endpoint Examples").
Headers: `X-MBX-USED-WEIGHT-1M` on every answer, `X-MBX-ORDER-COUNT-*` on order placement,
`Retry-After` (seconds) on 418/429; `X-MBX-TIME-UNIT` selects microseconds.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from localspot import errors, jsonio
from localspot.auth.signatures import rest_signature_payload
from localspot.errors import BinanceError
from localspot.methods.context import Services
from localspot.pipeline import REST, Pipeline, Reply, Request
from localspot.transport.ws_api import time_unit_is_us

log = logging.getLogger("localspot.rest")

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
NOT_FOUND_HTML = "<html><body><h2>404 Not found</h2></body></html>"


def _parse(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def merge_params(query: list[tuple[str, str]], body: list[tuple[str, str]]) -> dict[str, str]:
    """Merge query and body parameters, the query winning; -1101 for a repeated name."""
    params: dict[str, str] = {}
    for source in (query, body):
        seen: set[str] = set()
        for name, value in source:
            if name in seen:
                raise errors.DUPLICATE_PARAMETER.error()
            seen.add(name)
            params.setdefault(name, value)
    return params


async def handle(request: web.Request, services: Services, pipeline: Pipeline) -> web.Response:
    """Serve one REST request through the method table."""
    spec = services.registry.by_route(request.method, request.path)
    if spec is None:
        return not_found(request)
    raw_query = request.rel_url.raw_query_string
    raw_body = ""
    if request.method != "GET" and request.can_read_body:
        raw_body = (await request.read()).decode("utf-8", errors="replace")
    ip = request.remote or "unknown"
    try:
        time_unit_us = time_unit_is_us(request.headers.get("X-MBX-TIME-UNIT"))
        params = merge_params(_parse(raw_query), _parse(raw_body))
    except BinanceError as exc:
        return _response(Reply(status=exc.status, error=exc), services, include_orders=False)
    rest_request = Request(
        transport=REST,
        ip=ip,
        params=params,
        spec=spec,
        header_api_key=request.headers.get("X-MBX-APIKEY"),
        rest_payload=rest_signature_payload(raw_query, raw_body) if spec.signed else None,
        time_unit_us=time_unit_us,
    )
    reply = await pipeline.dispatch(rest_request)
    response = _response(reply, services, include_orders=bool(spec.places_orders))
    if reply.deferred:
        # Events about this request's commands go out only after its response.
        await response.prepare(request)
        await response.write_eof()
        services.publish(reply.deferred)
    return response


def _response(reply: Reply, services: Services, *, include_orders: bool) -> web.Response:
    headers: dict[str, str] = {}
    for usage in reply.weight_usage:
        headers[f"X-MBX-USED-WEIGHT-{usage.rule.header_suffix}"] = str(usage.count)
    if reply.weight_usage:
        headers["X-MBX-USED-WEIGHT"] = str(reply.weight_usage[0].count)
    if include_orders:
        for usage in reply.order_usage:
            headers[f"X-MBX-ORDER-COUNT-{usage.rule.header_suffix}"] = str(usage.count)
    body: Any
    if reply.error is not None:
        body = reply.error.body()
        data = reply.error.data
        if reply.status in (418, 429) and data and "retryAfter" in data:
            now_ms = services.clock.now_ms()
            headers["Retry-After"] = str(max(1, -(-(data["retryAfter"] - now_ms) // 1000)))
        # The rate limits' `data` (serverTime, retryAfter) is a WebSocket API field; REST
        # sends Retry-After instead. Other `data` (order.cancelReplace) is in both APIs' docs.
        if data and "retryAfter" in data:
            body = {"code": body["code"], "msg": body["msg"]}
    else:
        body = reply.result
    headers["Content-Type"] = JSON_CONTENT_TYPE
    return web.Response(body=jsonio.dumps(body), status=reply.status, headers=headers)


def not_found(request: web.Request) -> web.Response:
    """Answer an unknown path: 404, with Binance's HTML body only when HTML is accepted."""
    if "text/html" in request.headers.get("Accept", ""):
        return web.Response(status=404, text=NOT_FOUND_HTML, content_type="text/html")
    return web.Response(status=404)
