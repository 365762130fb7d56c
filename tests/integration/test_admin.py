"""The admin API: accounts, balances, keys, health, loopback-only and the bearer token."""

from __future__ import annotations

import pytest

from localspot.transport import admin
from support import ed25519_pair


async def test_create_hmac_account(server):
    status, created = await server.admin(
        "POST", "/admin/v1/accounts", {"balances": {"BTC": "10", "USDT": "1000000"}}
    )
    assert status == 200
    assert list(created) == [
        "accountId",
        "apiKey",
        "secretKey",
        "keyType",
        "permissions",
        "balances",
    ]
    assert created["keyType"] == "HMAC_SHA256"
    assert len(created["apiKey"]) == 64
    assert len(created["secretKey"]) == 64
    assert created["balances"] == {
        "BTC": {"free": "10.00000000", "locked": "0.00000000"},
        "USDT": {"free": "1000000.00000000", "locked": "0.00000000"},
    }
    assert created["permissions"] == ["TRADE", "USER_DATA", "USER_STREAM"]


async def test_create_ed25519_account_and_more_keys(server):
    _, pem = ed25519_pair()
    created = await server.create_account(
        keyType="ED25519", publicKey=pem, permissions=["USER_DATA"]
    )
    assert created["keyType"] == "ED25519"
    assert "secretKey" not in created
    assert created["permissions"] == ["USER_DATA"]
    account_id = created["accountId"]
    status, key = await server.admin("POST", f"/admin/v1/accounts/{account_id}/keys", {})
    assert status == 200
    assert key["keyType"] == "HMAC_SHA256"
    status, account = await server.admin("GET", f"/admin/v1/accounts/{account_id}")
    assert status == 200
    assert {k["apiKey"] for k in account["keys"]} == {created["apiKey"], key["apiKey"]}
    assert all("secretKey" not in k for k in account["keys"])


async def test_account_ids_are_sequential(server):
    first = await server.create_account()
    second = await server.create_account()
    assert second["accountId"] == first["accountId"] + 1


async def test_set_and_adjust_balances(server):
    created = await server.create_account(balances={"BTC": "1"})
    path = f"/admin/v1/accounts/{created['accountId']}/balances"
    status, body = await server.admin("POST", path, {"balances": {"BTC": "5", "ETH": "2.5"}})
    assert status == 200
    assert body["balances"]["BTC"]["free"] == "5.00000000"
    assert body["balances"]["ETH"]["free"] == "2.50000000"
    status, body = await server.admin("POST", path, {"balances": {"BTC": "-1.5"}, "mode": "add"})
    assert body["balances"]["BTC"]["free"] == "3.50000000"
    status, body = await server.admin("POST", path, {"balances": {"BTC": "-10"}, "mode": "add"})
    assert status == 400
    assert "insufficient balance" in body["error"]


async def test_lock_and_unlock_part_of_a_balance(server):
    created = await server.create_account(balances={"BTC": "1"})
    path = f"/admin/v1/accounts/{created['accountId']}/locks"
    status, body = await server.admin("POST", path, {"asset": "BTC", "delta": "0.75"})
    assert (status, body) == (
        200,
        {
            "accountId": created["accountId"],
            "balances": {"BTC": {"free": "0.25000000", "locked": "0.75000000"}},
        },
    )
    status, body = await server.admin("POST", path, {"asset": "BTC", "delta": "-0.5"})
    assert body["balances"]["BTC"] == {"free": "0.75000000", "locked": "0.25000000"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"asset": "BTC", "delta": "2"}, "insufficient balance for requested action. (free is 1"),
        ({"asset": "BTC", "delta": "-1"}, "(externally locked is 0.00000000)"),
        ({"asset": "BTC", "delta": "0"}, "must not be zero"),
        ({"asset": "BTC", "delta": "0.000000001"}, "more than 8 decimals"),
        ({"asset": "BTC", "delta": "x"}, "delta of BTC is not a number"),
        ({"asset": "BTC"}, "delta of BTC must be a decimal string"),
        ({"asset": "btc", "delta": "1"}, "upper-case"),
        ({"asset": "BTC", "delta": "1", "reason": "x"}, "unknown field(s): reason"),
    ],
)
async def test_bad_locks_get_400_naming_the_problem(server, body, fragment):
    created = await server.create_account(balances={"BTC": "1"})
    path = f"/admin/v1/accounts/{created['accountId']}/locks"
    status, answer = await server.admin("POST", path, body)
    assert status == 400
    assert fragment.lower() in answer["error"].lower()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"balances": {"BTC": "abc"}}, "not a number"),
        ({"balances": {"BTC": "-1"}}, ">= 0"),
        ({"balances": {"BTC": "0.000000001"}}, "balance of BTC has more than 8 decimals"),
        ({"balances": {"btc": "1"}}, "upper-case"),
        ({"balances": {"BTC": True}}, "decimal string"),
        ({"balances": ["BTC"]}, "object"),
        ({"keyType": "DSA"}, "keyType must be one of"),
        ({"keyType": "ED25519"}, "publicKey (PEM) is required"),
        ({"keyType": "ED25519", "publicKey": "garbage"}, "PEM"),
        ({"permissions": ["ADMIN"]}, "unknown permission"),
        ({"colour": "red"}, "unknown field(s): colour"),
    ],
)
async def test_bad_account_bodies_get_400_naming_the_problem(server, body, fragment):
    status, answer = await server.admin("POST", "/admin/v1/accounts", body)
    assert status == 400
    assert fragment.lower() in answer["error"].lower()


async def test_bad_json_body(server):
    async with server.session.post(server.base + "/admin/v1/accounts", data=b"{nope") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "body is not valid JSON"


async def test_unknown_account_is_404(server):
    status, body = await server.admin("GET", "/admin/v1/accounts/999")
    assert status == 404
    assert body == {"error": "no account 999"}


async def test_health(server):
    status, body = await server.admin("GET", "/admin/v1/health")
    assert status == 200
    assert body["status"] == "ok"


async def test_admin_token_is_required_when_set(start_server):
    server = await start_server(admin_token="s3cret")
    status, body = await server.admin("GET", "/admin/v1/health")
    assert status == 401
    assert body == {"error": "missing or wrong Authorization: Bearer token"}
    async with server.session.get(
        server.base + "/admin/v1/health", headers={"Authorization": "Bearer s3cret"}
    ) as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [("127.0.0.1", True), ("::1", True), ("127.8.9.10", True), ("10.0.0.1", False), (None, False)],
)
def test_loopback_check(remote, allowed):
    assert admin._is_loopback(remote) is allowed
