"""Test helpers: a server handle, a bare WebSocket API client, signing, polling."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from localspot import jsonio
from localspot.app import SERVICES


@dataclass
class Server:
    """A running localspot reachable over loopback."""

    server: TestServer
    session: aiohttp.ClientSession
    clients: list[WsClient] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def ws_api_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws-api/v3"

    @property
    def services(self) -> Any:
        return self.server.app[SERVICES]

    async def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, json=body) as resp:
            return resp.status, await resp.json(content_type=None)

    async def create_account(self, **body: Any) -> dict[str, Any]:
        body.setdefault("balances", {"BTC": "10", "USDT": "100000"})
        status, created = await self.admin("POST", "/admin/v1/accounts", body)
        assert status == 200, created
        return created

    async def ws(self, query: str = "") -> WsClient:
        ws = await self.session.ws_connect(self.ws_api_url + query, autoping=True)
        client = WsClient(ws)
        self.clients.append(client)
        return client

    async def close(self) -> None:
        """Close every client this handle opened, then the HTTP session and the server."""
        for client in self.clients:
            await client.close()
        await self.session.close()
        await self.server.close()


class WsClient:
    """A bare WebSocket API client: send frames, read envelopes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._next_id = 0

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        return jsonio.loads(msg.data)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, **frame: Any
    ) -> dict[str, Any]:
        if "id" not in frame:
            self._next_id += 1
            frame["id"] = self._next_id
        frame["method"] = method
        if params is not None:
            frame["params"] = params
        await self.ws.send_str(jsonio.dumps_text(frame))
        return await self.recv()

    async def close(self) -> None:
        await self.ws.close()


def hmac_sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def ws_payload(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={_text(v)}" for k, v in sorted(params.items()) if k != "signature")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign_ws_hmac(params: dict[str, Any], api_key: str, secret: str) -> dict[str, Any]:
    signed = {**params, "apiKey": api_key}
    signed["signature"] = hmac_sign(secret, ws_payload(signed))
    return signed


def sign_ws_ed25519(
    params: dict[str, Any], api_key: str, private_key: ed25519.Ed25519PrivateKey
) -> dict[str, Any]:
    signed = {**params, "apiKey": api_key}
    signed["signature"] = base64.b64encode(private_key.sign(ws_payload(signed).encode())).decode()
    return signed


def sign_rest_hmac(params: dict[str, Any], secret: str) -> str:
    query = urlencode(params)
    return f"{query}&signature={hmac_sign(secret, query)}"


def ed25519_pair() -> tuple[ed25519.Ed25519PrivateKey, str]:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, pem


async def eventually(
    condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01
) -> None:
    """Wait until `condition()` is truthy (polling), failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


ServerFactory = Callable[..., Any]


UPGRADE_HEADERS = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


async def refused_upgrade(server: Server, query: str = "") -> tuple[int, Any]:
    """Try a WebSocket API upgrade that should be refused; return (status, JSON body).

    A plain request with upgrade headers: aiohttp's ws_connect leaks its connection when the
    handshake is refused, which warnings-as-errors would report in a later test.
    """
    url = server.ws_api_url.replace("ws://", "http://") + query
    async with server.session.get(url, headers=UPGRADE_HEADERS) as resp:
        return resp.status, await resp.json(content_type=None)
