"""Events about a request's state changes are published only after its response is sent."""

from __future__ import annotations

import time
from decimal import Decimal

from localspot.auth.keys import Security
from localspot.domain.commands import ChangeBalance
from localspot.methods.registry import method
from localspot.transport import ws_api
from support import sign_rest_hmac, sign_ws_hmac


def _register_deposit(server) -> None:
    async def deposit(call):
        await call.services.execute(
            ChangeBalance(call.api_key.account_id, "BTC", Decimal(1), "add")
        )
        return {}

    method(
        server.services.registry,
        "test.deposit",
        weight=1,
        security=Security.USER_DATA,
        rest=[("POST", "/api/v3/testDeposit")],
    )(deposit)


async def test_ws_response_is_sent_before_the_events(server, monkeypatch):
    _register_deposit(server)
    sent: list[dict] = []
    original = ws_api.WsApiConnection.send_json

    async def recording_send(self, payload):
        sent.append(payload)
        await original(self, payload)

    monkeypatch.setattr(ws_api.WsApiConnection, "send_json", recording_send)
    seen_at: list[int] = []
    server.services.subscribers.append(
        lambda command, now_ms, events: (
            isinstance(command, ChangeBalance) and seen_at.append(len(sent))
        )
    )
    account = await server.create_account()
    ws = await server.ws()
    params = sign_ws_hmac(
        {"timestamp": int(time.time() * 1000)}, account["apiKey"], account["secretKey"]
    )
    response = await ws.call("test.deposit", params)
    assert response["status"] == 200
    assert seen_at == [1]  # published after the one response frame


async def test_rest_events_follow_the_response_and_admin_ones_go_at_once(server):
    _register_deposit(server)
    seen: list[object] = []
    server.services.subscribers.append(lambda command, now_ms, events: seen.append(command))
    account = await server.create_account()
    assert len(seen) == 1  # the admin API's CreateAccount, outside any Binance request
    query = sign_rest_hmac({"timestamp": int(time.time() * 1000)}, account["secretKey"])
    async with server.session.post(
        f"{server.base}/api/v3/testDeposit?{query}", headers={"X-MBX-APIKEY": account["apiKey"]}
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {}
    assert [type(c).__name__ for c in seen] == ["CreateAccount", "ChangeBalance"]
