"""ping, time, exchangeInfo, executionRules over the WebSocket API and their REST twins."""

from __future__ import annotations

import json

import pytest

from localspot import errors

DEFAULT_SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC", "BNBBTC"]


async def _rest(server, path, headers=None):
    async with server.session.get(server.base + path, headers=headers or {}) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


async def test_rest_ping_and_time(server):
    status, body, headers = await _rest(server, "/api/v3/ping")
    assert (status, body) == (200, {})
    assert headers["Content-Type"] == "application/json;charset=UTF-8"
    assert headers["X-MBX-USED-WEIGHT-1M"] == "1"
    status, body, headers = await _rest(server, "/api/v3/time")
    assert status == 200
    assert list(body) == ["serverTime"]
    assert headers["X-MBX-USED-WEIGHT-1M"] == "2"


async def test_rest_time_in_microseconds(server):
    _, body, _ = await _rest(server, "/api/v3/time", {"X-MBX-TIME-UNIT": "MICROSECOND"})
    assert body["serverTime"] > 10**15
    status, body, _ = await _rest(server, "/api/v3/time", {"X-MBX-TIME-UNIT": "HOUR"})
    assert status == 400
    assert body == {"code": -1194, "msg": errors.INVALID_TIME_UNIT.message}


async def test_rest_unknown_path_is_404(server):
    async with server.session.get(server.base + "/api/v3/nothing") as resp:
        assert resp.status == 404
        assert await resp.text() == ""
    async with server.session.get(
        server.base + "/api/v3/nothing", headers={"Accept": "text/html"}
    ) as resp:
        assert resp.status == 404
        assert await resp.text() == "<html><body><h2>404 Not found</h2></body></html>"


async def test_rest_unknown_param(server):
    status, body, _ = await _rest(server, "/api/v3/time?foo=1")
    assert status == 400
    assert body == {
        "code": -1104,
        "msg": "Not all sent parameters were read; read '0' parameter(s) but was sent '1'.",
    }


async def test_rest_duplicate_param(server):
    status, body, _ = await _rest(server, "/api/v3/exchangeInfo?symbol=BTCUSDT&symbol=ETHUSDT")
    assert status == 400
    assert body == {"code": -1101, "msg": "Duplicate values for a parameter detected."}


async def test_exchange_info_all_symbols_and_key_order(server):
    ws = await server.ws()
    response = await ws.call("exchangeInfo")
    result = response["result"]
    assert list(result) == ["timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"]
    assert [s["symbol"] for s in result["symbols"]] == DEFAULT_SYMBOLS
    assert result["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
    }
    assert response["rateLimits"][0]["count"] == 2 + 20
    assert "sors" not in result


async def test_exchange_info_symbols_have_testnet_shape(server):
    with _fixture() as f:
        fixture = json.load(f)
    btc = fixture["symbols"][0]
    ws = await server.ws()
    result = (await ws.call("exchangeInfo", {"symbol": "BTCUSDT"}))["result"]
    assert result["symbols"] == [btc]
    for entry in (await ws.call("exchangeInfo"))["result"]["symbols"]:
        assert list(entry) == list(btc)
        assert [f["filterType"] for f in entry["filters"]] == [
            f["filterType"] for f in btc["filters"]
        ]
        assert entry["permissionSets"] == [["SPOT"]]


def _fixture():
    from pathlib import Path

    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "fixtures" / "exchangeInfo-testnet.json"
        if candidate.exists():
            return candidate.open()
    pytest.skip("shared fixtures not found")


async def test_exchange_info_symbols_list_on_both_wires(server):
    ws = await server.ws()
    result = (await ws.call("exchangeInfo", {"symbols": ["ETHBTC", "BNBBTC"]}))["result"]
    assert [s["symbol"] for s in result["symbols"]] == ["ETHBTC", "BNBBTC"]
    status, body, _ = await _rest(server, '/api/v3/exchangeInfo?symbols=["ETHBTC","BNBBTC"]')
    assert status == 200
    assert [s["symbol"] for s in body["symbols"]] == ["ETHBTC", "BNBBTC"]
    status, body, _ = await _rest(
        server, "/api/v3/exchangeInfo?symbols=%5B%22ETHBTC%22%2C%22BNBBTC%22%5D"
    )
    assert [s["symbol"] for s in body["symbols"]] == ["ETHBTC", "BNBBTC"]


@pytest.mark.parametrize(
    ("params", "spec", "args"),
    [
        ({"symbol": "NOPE"}, errors.BAD_SYMBOL, ()),
        ({"symbols": ["BTCUSDT", "NOPE"]}, errors.BAD_SYMBOL, ()),
        ({"symbol": "BTCUSDT", "symbols": ["ETHUSDT"]}, errors.OPTIONAL_PARAMS_BAD_COMBO, ()),
        ({"symbol": "BTCUSDT", "permissions": "SPOT"}, errors.OPTIONAL_PARAMS_BAD_COMBO, ()),
        ({"symbol": "BTCUSDT", "symbolStatus": "TRADING"}, errors.OPTIONAL_PARAMS_BAD_COMBO, ()),
        ({"symbolStatus": "NOPE"}, errors.INVALID_SYMBOLSTATUS, ()),
        (
            {"symbol": "btcusdt"},
            errors.ILLEGAL_CHARS_PARAM,
            ("symbol", r"^[\w\-._&&[^a-z]]{1,50}$"),
        ),
        ({"symbols": ["BTCUSDT", "BTCUSDT"]}, errors.DUPLICATE_SYMBOLS, ()),
        (
            {"symbol": ["BTCUSDT"]},
            errors.ILLEGAL_CHARS_PARAM,
            ("symbol", r"^[\w\-._&&[^a-z]]{1,50}$"),
        ),
        ({"symbol": "X" * 51}, errors.ILLEGAL_CHARS_PARAM, ("symbol", r"^[\w\-._&&[^a-z]]{1,50}$")),
        (
            {"showPermissionSets": "maybe"},
            errors.ILLEGAL_CHARS_PARAM,
            ("showPermissionSets", "^(true|false)$"),
        ),
    ],
)
async def test_exchange_info_bad_params(server, params, spec, args):
    ws = await server.ws()
    response = await ws.call("exchangeInfo", params)
    assert response["status"] == 400
    assert response["error"] == {
        "code": spec.code,
        "msg": spec.message % args if args else spec.message,
    }
    assert (await ws.call("ping"))["status"] == 200


async def test_exchange_info_permissions_status_and_permission_sets(server):
    ws = await server.ws()
    spot = (await ws.call("exchangeInfo", {"permissions": "SPOT"}))["result"]["symbols"]
    assert len(spot) == 5
    listed = (await ws.call("exchangeInfo", {"permissions": ["MARGIN", "SPOT"]}))["result"]
    assert len(listed["symbols"]) == 5
    margin = (await ws.call("exchangeInfo", {"permissions": ["MARGIN"]}))["result"]["symbols"]
    assert margin == []
    trading = (await ws.call("exchangeInfo", {"symbolStatus": "TRADING"}))["result"]["symbols"]
    assert len(trading) == 5
    halted = (await ws.call("exchangeInfo", {"symbolStatus": "HALT"}))["result"]["symbols"]
    assert halted == []
    hidden = (await ws.call("exchangeInfo", {"showPermissionSets": False}))["result"]["symbols"]
    assert all(s["permissionSets"] == [] for s in hidden)
    status, body, _ = await _rest(
        server, "/api/v3/exchangeInfo?permissions=SPOT&showPermissionSets=false"
    )
    assert status == 200
    assert all(s["permissionSets"] == [] for s in body["symbols"])


async def test_execution_rules_variants_and_weights(server):
    ws = await server.ws()
    one = await ws.call("executionRules", {"symbol": "BTCUSDT"})
    assert one["result"] == {"symbolRules": [{"symbol": "BTCUSDT", "rules": []}]}
    assert one["rateLimits"][0]["count"] == 2 + 2
    many = await ws.call("executionRules", {"symbols": ["BTCUSDT", "ETHBTC"]})
    assert [r["symbol"] for r in many["result"]["symbolRules"]] == ["BTCUSDT", "ETHBTC"]
    assert many["rateLimits"][0]["count"] == 4 + 4
    everything = await ws.call("executionRules")
    assert len(everything["result"]["symbolRules"]) == 5
    assert everything["rateLimits"][0]["count"] == 8 + 40
    bad = await ws.call("executionRules", {"symbol": "BTCUSDT", "symbolStatus": "TRADING"})
    assert bad["error"]["code"] == -1128
    status, body, _ = await _rest(server, "/api/v3/executionRules?symbol=ETHBTC")
    assert (status, body) == (200, {"symbolRules": [{"symbol": "ETHBTC", "rules": []}]})
