"""SIGNED requests over both wires: keys, signatures, timing, permissions, session logon."""

from __future__ import annotations

import time

import pytest

from localspot import errors
from localspot.auth.keys import Security
from localspot.methods.registry import method
from support import (
    ed25519_pair,
    hmac_sign,
    sign_rest_hmac,
    sign_ws_ed25519,
    sign_ws_hmac,
)


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
async def signed_server(server):
    """A server with a USER_DATA test method `whoami` (the engine's methods come later)."""

    def whoami(call):
        return {"accountId": call.api_key.account_id}

    method(
        server.services.registry,
        "test.whoami",
        weight=3,
        security=Security.USER_DATA,
        params=("extra",),
        rest=[("GET", "/api/v3/testWhoami"), ("POST", "/api/v3/testWhoami")],
    )(whoami)
    method(
        server.services.registry,
        "test.trade",
        weight=1,
        security=Security.TRADE,
        rest=[("POST", "/api/v3/testTrade")],
    )(whoami)
    return server


async def test_hmac_signed_ws_request(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = sign_ws_hmac({"timestamp": _now_ms()}, account["apiKey"], account["secretKey"])
    response = await ws.call("test.whoami", params)
    assert response["status"] == 200, response
    assert response["result"] == {"accountId": account["accountId"]}


async def test_hmac_signature_is_case_insensitive(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = sign_ws_hmac({"timestamp": _now_ms()}, account["apiKey"], account["secretKey"])
    params["signature"] = params["signature"].upper()
    assert (await ws.call("test.whoami", params))["status"] == 200


async def test_wrong_signature_is_1022(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = sign_ws_hmac({"timestamp": _now_ms()}, account["apiKey"], account["secretKey"])
    params["timestamp"] += 1
    response = await ws.call("test.whoami", params)
    assert response["status"] == 400
    assert response["error"]["code"] == errors.INVALID_SIGNATURE.code
    assert response["error"]["msg"] == "Signature for this request is not valid."


async def test_unknown_key_is_2015_with_401(signed_server):
    ws = await signed_server.ws()
    params = sign_ws_hmac({"timestamp": _now_ms()}, "A" * 64, "secret")
    response = await ws.call("test.whoami", params)
    assert response["status"] == 401
    assert response["error"] == {
        "code": -2015,
        "msg": "Invalid API-key, IP, or permissions for action.",
    }


async def test_malformed_key_is_2014(signed_server):
    ws = await signed_server.ws()
    params = sign_ws_hmac({"timestamp": _now_ms()}, "not a key!", "secret")
    response = await ws.call("test.whoami", params)
    assert response["error"] == {"code": -2014, "msg": "API-key format invalid."}


async def test_missing_timestamp_and_signature(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    response = await ws.call("test.whoami", {"apiKey": account["apiKey"], "signature": "00"})
    assert response["error"] == {
        "code": -1102,
        "msg": "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    }
    response = await ws.call("test.whoami", {"apiKey": account["apiKey"], "timestamp": _now_ms()})
    assert response["error"]["msg"] == (
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
    )


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "spec"),
    [
        (-6000, None, errors.TIMESTAMP_OUTSIDE_RECV_WINDOW),
        (-2000, 1000, errors.TIMESTAMP_OUTSIDE_RECV_WINDOW),
        (5000, None, errors.TIMESTAMP_AHEAD),
    ],
)
async def test_timestamp_outside_window_is_1021(signed_server, offset_ms, recv_window, spec):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = {"timestamp": _now_ms() + offset_ms}
    if recv_window is not None:
        params["recvWindow"] = recv_window
    response = await ws.call(
        "test.whoami", sign_ws_hmac(params, account["apiKey"], account["secretKey"])
    )
    assert response["status"] == 400
    assert response["error"] == {"code": -1021, "msg": spec.message}


async def test_timestamp_in_microseconds_and_recv_window_with_decimals(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = {"timestamp": int(time.time() * 1_000_000), "recvWindow": "6000.346"}
    response = await ws.call(
        "test.whoami", sign_ws_hmac(params, account["apiKey"], account["secretKey"])
    )
    assert response["status"] == 200, response


async def test_recv_window_over_max(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = {"timestamp": _now_ms(), "recvWindow": 60001}
    response = await ws.call(
        "test.whoami", sign_ws_hmac(params, account["apiKey"], account["secretKey"])
    )
    assert response["error"] == {
        "code": -1102,
        "msg": "'recvWindow' contains unexpected value. Cannot be greater than 60000.",
    }


async def test_key_without_trade_permission_cannot_trade(signed_server):
    account = await signed_server.create_account(permissions=["USER_DATA"])
    ws = await signed_server.ws()
    sign = lambda: sign_ws_hmac(  # noqa: E731
        {"timestamp": _now_ms()}, account["apiKey"], account["secretKey"]
    )
    assert (await ws.call("test.whoami", sign()))["status"] == 200
    response = await ws.call("test.trade", sign())
    assert response["status"] == 401
    assert response["error"]["code"] == -2015


async def test_ed25519_signed_request_and_session_logon(signed_server):
    private, pem = ed25519_pair()
    account = await signed_server.create_account(keyType="ED25519", publicKey=pem)
    assert "secretKey" not in account
    ws = await signed_server.ws()
    status = await ws.call("session.status")
    assert status["result"]["apiKey"] is None
    assert status["result"]["authorizedSince"] is None
    assert (await ws.call("test.whoami", {"timestamp": _now_ms()}))["status"] == 400

    logon = await ws.call(
        "session.logon", sign_ws_ed25519({"timestamp": _now_ms()}, account["apiKey"], private)
    )
    assert logon["status"] == 200, logon
    assert list(logon["result"]) == [
        "apiKey",
        "authorizedSince",
        "connectedSince",
        "returnRateLimits",
        "serverTime",
        "userDataStream",
    ]
    assert logon["result"]["apiKey"] == account["apiKey"]
    assert logon["result"]["userDataStream"] is False
    # signed methods now need only the timestamp
    response = await ws.call("test.whoami", {"timestamp": _now_ms()})
    assert response["result"] == {"accountId": account["accountId"]}
    assert (await ws.call("session.status"))["result"]["apiKey"] == account["apiKey"]

    logout = await ws.call("session.logout")
    assert logout["result"]["apiKey"] is None
    assert (await ws.call("test.whoami", {"timestamp": _now_ms()}))["status"] == 400


async def test_session_logon_refuses_hmac_keys(signed_server):
    account = await signed_server.create_account()
    ws = await signed_server.ws()
    params = sign_ws_hmac({"timestamp": _now_ms()}, account["apiKey"], account["secretKey"])
    response = await ws.call("session.logon", params)
    assert response["status"] == 401
    assert response["error"] == {"code": -1002, "msg": errors.UNAUTHORIZED.message}


async def test_revoked_key_ends_the_session(signed_server):
    private, pem = ed25519_pair()
    account = await signed_server.create_account(keyType="ED25519", publicKey=pem)
    ws = await signed_server.ws()
    await ws.call(
        "session.logon", sign_ws_ed25519({"timestamp": _now_ms()}, account["apiKey"], private)
    )
    status, _ = await signed_server.admin("DELETE", f"/admin/v1/keys/{account['apiKey']}")
    assert status == 200
    response = await ws.call("test.whoami", {"timestamp": _now_ms()})
    assert response["status"] == 401
    assert response["error"]["code"] == -2015
    assert (await ws.call("session.status"))["result"]["apiKey"] is None


async def test_rest_signed_in_query(signed_server):
    account = await signed_server.create_account()
    query = sign_rest_hmac({"timestamp": _now_ms()}, account["secretKey"])
    headers = {"X-MBX-APIKEY": account["apiKey"]}
    async with signed_server.session.get(
        f"{signed_server.base}/api/v3/testWhoami?{query}", headers=headers
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {"accountId": account["accountId"]}
        assert resp.headers["X-MBX-USED-WEIGHT-1M"] == "3"


async def test_rest_signed_mixed_query_and_body_in_client_order(signed_server):
    account = await signed_server.create_account()
    query = f"timestamp={_now_ms()}"
    body = "extra=%EF%BC%91x"  # a percent-encoded non-ASCII value, unsorted order
    signature = hmac_sign(account["secretKey"], query + body)
    async with signed_server.session.post(
        f"{signed_server.base}/api/v3/testWhoami?{query}",
        data=f"{body}&signature={signature}",
        headers={
            "X-MBX-APIKEY": account["apiKey"],
            "Content-Type": "application/x-www-form-urlencoded",
        },
    ) as resp:
        assert resp.status == 200, await resp.text()


async def test_rest_missing_api_key_is_2014(signed_server):
    async with signed_server.session.get(
        f"{signed_server.base}/api/v3/testWhoami?timestamp={_now_ms()}&signature=00"
    ) as resp:
        assert resp.status == 401
        assert await resp.json() == {"code": -2014, "msg": "API-key format invalid."}


async def test_rest_bad_signature_is_1022(signed_server):
    account = await signed_server.create_account()
    async with signed_server.session.get(
        f"{signed_server.base}/api/v3/testWhoami?timestamp={_now_ms()}&signature=00",
        headers={"X-MBX-APIKEY": account["apiKey"]},
    ) as resp:
        assert resp.status == 400
        assert await resp.json() == {
            "code": -1022,
            "msg": "Signature for this request is not valid.",
        }


async def test_percent_encoded_ws_payload_is_accepted_as_clients_sign_it(signed_server):
    # binance-sdk-spot and python-binance sign urlencode(params), not the plain text.
    from urllib.parse import urlencode

    account = await signed_server.create_account()
    params = {"apiKey": account["apiKey"], "extra": "a:b/c １", "timestamp": _now_ms()}
    params["signature"] = hmac_sign(account["secretKey"], urlencode(sorted(params.items())))
    ws = await signed_server.ws()
    assert (await ws.call("test.whoami", params))["status"] == 200
