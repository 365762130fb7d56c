"""General methods and session methods against the docs' examples, key by key and type by type.

Each test sends the docs' own request example (its `id` included) and compares the answer with
the docs' `**Response:**` example through `assert_same_shape` (keys, key order, JSON types,
decimal strings), then compares the values that are not volatile. Ids the docs invent, times,
and `count`s are volatile; everything else that differs from the example is listed below with
its reason, as LocalStack's snapshot tests list their transformers.

The session examples and the `executionRules` example carry no `rateLimits` and show
`"returnRateLimits": false`: they were taken on a connection opened with
`?returnRateLimits=false`, so those tests open theirs the same way.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import pytest
from doc_examples import (
    REST_API,
    WS_API,
    assert_same_shape,
    code_blocks,
    filter_example,
    parse_js_json,
    request_example,
    response_example,
    rest_endpoint,
)

from support import ed25519_pair, sign_ws_ed25519

# --- known differences, each with its reason ------------------------------------------------

NO_SORS = {
    "result.sors": "localspot has no SOR; the testnet omits `sors` for a `symbols=` request "
    "(shared/fixtures/exchangeInfo-testnet.json)",
}
REST_NO_SORS = {"sors": NO_SORS["result.sors"]}

# Values of the docs' BNBBTC (WS) / ETHBTC (REST) entries that the testnet serves differently:
# localspot serves the testnet shape for every symbol (shared/fixtures/README.md).
SYMBOL_VALUE_DIFFERENCES = {
    "orderTypes": "the testnet also lists STOP_LOSS and TAKE_PROFIT",
    "allowTrailingStop": "true on the testnet",
    "cancelReplaceAllowed": "true on the testnet",
    "amendAllowed": "true on the testnet",
    "isMarginTradingAllowed": "no margin trading on the Spot testnet",
    "filters": "the docs show PRICE_FILTER and LOT_SIZE; the testnet entry has eleven filters, "
    "each compared with its filters.md example",
    "permissionSets": '[["SPOT"]] on the testnet',
    "defaultSelfTradePreventionMode": "EXPIRE_MAKER on the testnet",
    "allowedSelfTradePreventionModes": "all six STP modes on the testnet",
}

# The WS example's fourth global rate limit is the WebSocket connection limit
# (CONNECTIONS, 5 MINUTE, 300); the testnet's exchangeInfo lists RAW_REQUESTS 5 MINUTE 300000
# there (shared/fixtures/exchangeInfo-testnet.json; CHANGELOG.md "RAW_REQUESTS ... 300,000").
RATE_LIMIT_VALUE_DIFFERENCES = {3: "RAW_REQUESTS (testnet capture) where the docs show CONNECTIONS"}

NO_PRICE_RANGE_RULES = {
    "result.symbolRules[].rules": "localspot's default symbols have no PRICE_RANGE execution "
    "rule configured, so `rules` is []; the list itself and the symbolRules item are checked",
}

REST_RATE_LIMIT_PLACEHOLDER = {
    "rateLimits[]": "rest-api.md prints an empty placeholder object; the items are compared "
    "with web-socket-api.md's exchangeInfo example instead",
}

VOLATILE_RATE_LIMIT_KEYS = ("count",)


def _filter_examples(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Return filters.md's example for every filter type the entries use."""
    types = {f["filterType"] for entry in entries for f in entry["filters"]}
    return {name: filter_example(name) for name in types}


def _assert_rate_limits_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]):
    """Compare `rateLimits` arrays of envelopes by value, `count` excepted (volatile)."""
    strip = [
        {k: v for k, v in item.items() if k not in VOLATILE_RATE_LIMIT_KEYS} for item in actual
    ]
    want = [
        {k: v for k, v in item.items() if k not in VOLATILE_RATE_LIMIT_KEYS} for item in expected
    ]
    # The docs' examples were taken on fresh connections with only REQUEST_WEIGHT affected.
    assert strip == want


async def _send_doc_request(ws, request: dict[str, Any]) -> dict[str, Any]:
    await ws.send_raw(json.dumps(request))
    return await ws.recv()


async def _rest(server, path: str) -> tuple[int, Any]:
    async with server.session.get(server.base + path) as resp:
        return resp.status, json.loads(await resp.text())


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- WebSocket API envelope ---------------------------------------------------------------------


async def test_envelope_matches_how_to_interpret_rate_limits(server):
    (block,) = code_blocks(WS_API, "How to interpret rate limits")
    expected = block.json()
    ws = await server.ws()
    response = await ws.call("time", id=expected["id"])
    assert_same_shape(response, expected)
    assert response["id"] == expected["id"]
    assert response["status"] == 200
    _assert_rate_limits_match(response["rateLimits"], expected["rateLimits"])


async def test_envelope_matches_response_format_examples(server):
    success, failure = (b.json() for b in code_blocks(WS_API, "Response format")[:2])
    ws = await server.ws()
    order_place = {"result": "the example is an order.place result, not a general method's"}
    ok = await ws.call("ping", id=success["id"])
    assert_same_shape(ok, success, unchecked=order_place)
    error = await ws.call("exchangeInfo", {"symbol": "NOPE"}, id=failure["id"])
    assert_same_shape(error, failure)
    assert error["status"] == 400
    assert error["id"] == failure["id"]


async def test_envelope_without_rate_limits_matches_show_hide_example(server):
    blocks = code_blocks(WS_API, "How to show/hide rate limit information")
    request, expected = blocks[2].json(), blocks[3].json()
    ws = await server.ws()
    response = await _send_doc_request(ws, request)
    assert_same_shape(response, expected)
    assert list(response) == ["id", "status", "result"]


# --- ping, time ---------------------------------------------------------------------------------


async def test_ping_matches_docs(server):
    request = request_example("Test connectivity")
    expected = response_example(WS_API, "Test connectivity")
    ws = await server.ws()
    response = await _send_doc_request(ws, request)
    assert_same_shape(response, expected)
    assert response["id"] == expected["id"]
    assert response["result"] == {}
    _assert_rate_limits_match(response["rateLimits"], expected["rateLimits"])


async def test_time_matches_docs(server):
    request = request_example("Check server time")
    expected = response_example(WS_API, "Check server time")
    ws = await server.ws()
    response = await _send_doc_request(ws, request)
    assert_same_shape(response, expected)
    assert response["id"] == expected["id"]
    _assert_rate_limits_match(response["rateLimits"], expected["rateLimits"])


async def test_rest_ping_and_time_match_docs(server):
    for title in ("Test connectivity", "Check server time"):
        method, path = rest_endpoint(title)
        assert method == "GET"
        status, body = await _rest(server, path)
        assert status == 200
        assert_same_shape(body, response_example(REST_API, title))
    assert (await _rest(server, "/api/v3/ping"))[1] == {}


# --- exchangeInfo -------------------------------------------------------------------------------


async def test_exchange_info_matches_docs(server):
    request = request_example("Exchange information")
    assert request["params"] == {"symbols": ["BNBBTC"]}
    expected = response_example(WS_API, "Exchange information")
    ws = await server.ws()
    response = await _send_doc_request(ws, request)
    symbols = response["result"]["symbols"]
    assert_same_shape(
        response,
        expected,
        absent=NO_SORS,
        element_examples={"result.symbols[].filters": _filter_examples(symbols)},
    )
    assert response["id"] == expected["id"]
    _assert_rate_limits_match(response["rateLimits"], expected["rateLimits"])
    result, want = response["result"], expected["result"]
    assert result["timezone"] == want["timezone"]
    assert result["exchangeFilters"] == want["exchangeFilters"]
    _assert_global_rate_limits(result["rateLimits"], want["rateLimits"])
    (entry,) = symbols
    _assert_symbol_values(entry, want["symbols"][0])


def _assert_global_rate_limits(actual: list[Any], expected: list[Any]) -> None:
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
        if index not in RATE_LIMIT_VALUE_DIFFERENCES:
            assert got == want, index
    assert actual[3] == {
        "rateLimitType": "RAW_REQUESTS",
        "interval": "MINUTE",
        "intervalNum": 5,
        "limit": 300000,
    }


def _assert_symbol_values(entry: dict[str, Any], documented: dict[str, Any]) -> None:
    """Same values as the docs' entry, apart from the listed testnet differences."""
    for key, value in documented.items():
        if key not in SYMBOL_VALUE_DIFFERENCES:
            assert entry[key] == value, key
    assert entry["isMarginTradingAllowed"] is False
    # The filters the docs do show come first, with the docs' values.
    shown = documented["filters"]
    assert entry["filters"][: len(shown)] == shown


async def test_rest_exchange_info_matches_docs(server):
    method, path = rest_endpoint("Exchange information")
    assert (method, path) == ("GET", "/api/v3/exchangeInfo")
    expected = response_example(REST_API, "Exchange information")
    documented = expected["symbols"][0]
    status, body = await _rest(server, f"{path}?symbol={documented['symbol']}")
    assert status == 200
    assert_same_shape(
        body,
        expected,
        absent=REST_NO_SORS,
        unchecked=REST_RATE_LIMIT_PLACEHOLDER,
        element_examples={"symbols[].filters": _filter_examples(body["symbols"])},
    )
    ws_expected = response_example(WS_API, "Exchange information")["result"]
    assert_same_shape(body["rateLimits"], ws_expected["rateLimits"], "rateLimits")
    _assert_global_rate_limits(body["rateLimits"], ws_expected["rateLimits"])
    (entry,) = body["symbols"]
    for key, value in documented.items():
        if key not in SYMBOL_VALUE_DIFFERENCES:
            assert entry[key] == value, key


# --- executionRules -----------------------------------------------------------------------------


async def test_execution_rules_matches_docs(server):
    request = copy.deepcopy(request_example("Query Execution Rules"))
    # The docs' BAZUSD does not exist here.
    request["params"] = {"symbol": "BTCUSDT"}
    expected = response_example(WS_API, "Query Execution Rules")
    ws = await server.ws("?returnRateLimits=false")
    response = await _send_doc_request(ws, request)
    assert_same_shape(response, expected, may_be_empty=NO_PRICE_RANGE_RULES)
    assert response["id"] == expected["id"]
    assert response["result"] == {"symbolRules": [{"symbol": "BTCUSDT", "rules": []}]}


async def test_execution_rules_envelope_has_rate_limits_by_default(server):
    (how_to,) = code_blocks(WS_API, "How to interpret rate limits")
    expected = how_to.json()
    ws = await server.ws()
    response = await ws.call("executionRules", {"symbol": "BTCUSDT"}, id=expected["id"])
    assert_same_shape(response, expected, unchecked={"result": "another method's result"})


async def test_rest_execution_rules_matches_docs(server):
    method, path = rest_endpoint("Query Execution Rules")
    assert method == "GET"
    expected = response_example(REST_API, "Query Execution Rules")
    status, body = await _rest(server, f"{path}?symbol=BTCUSDT")
    assert status == 200
    assert_same_shape(
        body,
        expected,
        may_be_empty={"symbolRules[].rules": NO_PRICE_RANGE_RULES["result.symbolRules[].rules"]},
    )


# --- session.* ----------------------------------------------------------------------------------


def _unauthenticated(example: dict[str, Any]) -> dict[str, Any]:
    # web-socket-api.md "Query session status": "if the connection is not authenticated,
    # "apiKey" and "authorizedSince" will be shown as null".
    anonymous = copy.deepcopy(example)
    anonymous["result"]["apiKey"] = None
    anonymous["result"]["authorizedSince"] = None
    anonymous["result"]["userDataStream"] = False
    return anonymous


async def test_session_status_unauthenticated_matches_docs(server):
    request = request_example("Query session status")
    expected = _unauthenticated(response_example(WS_API, "Query session status"))
    ws = await server.ws("?returnRateLimits=false")
    response = await _send_doc_request(ws, request)
    assert_same_shape(response, expected)
    assert response["id"] == expected["id"]
    result = response["result"]
    assert (result["apiKey"], result["authorizedSince"]) == (None, None)
    assert (result["returnRateLimits"], result["userDataStream"]) == (False, False)
    assert result["connectedSince"] <= result["serverTime"]


async def test_session_logon_status_logout_match_docs(server):
    private, pem = ed25519_pair()
    account = await server.create_account(keyType="ED25519", publicKey=pem)
    api_key = account["apiKey"]
    ws = await server.ws("?returnRateLimits=false")

    logon_request = copy.deepcopy(request_example("Log in with API key (SIGNED)"))
    assert sorted(logon_request["params"]) == ["apiKey", "signature", "timestamp"]
    logon_request["params"] = sign_ws_ed25519({"timestamp": _now_ms()}, api_key, private)
    logon_expected = response_example(WS_API, "Log in with API key (SIGNED)")
    logon = await _send_doc_request(ws, logon_request)
    assert_same_shape(logon, logon_expected)
    assert logon["id"] == logon_expected["id"]
    assert logon["result"]["apiKey"] == api_key
    assert logon["result"]["returnRateLimits"] is False
    assert logon["result"]["userDataStream"] is False
    assert logon["result"]["authorizedSince"] >= logon["result"]["connectedSince"]

    status_expected = response_example(WS_API, "Query session status")
    status = await _send_doc_request(ws, request_example("Query session status"))
    # The docs' example has a User Data Stream subscription; this connection has none.
    assert_same_shape(status, status_expected)
    assert status["result"]["apiKey"] == api_key
    assert status["result"]["authorizedSince"] == logon["result"]["authorizedSince"]

    logout_expected = response_example(WS_API, "Log out of the session")
    logout = await _send_doc_request(ws, request_example("Log out of the session"))
    assert_same_shape(logout, logout_expected)
    assert logout["id"] == logout_expected["id"]
    assert logout["result"]["apiKey"] is None
    assert logout["result"]["authorizedSince"] is None
    assert logout["result"]["connectedSince"] == logon["result"]["connectedSince"]


async def test_session_logout_when_not_logged_in_matches_docs(server):
    expected = response_example(WS_API, "Log out of the session")
    ws = await server.ws("?returnRateLimits=false")
    response = await _send_doc_request(ws, request_example("Log out of the session"))
    assert_same_shape(response, expected)
    assert response["result"]["apiKey"] is None


async def test_session_methods_carry_rate_limits_by_default(server):
    ws = await server.ws()
    expected = response_example(WS_API, "Query session status")
    response = await ws.call("session.status")
    # The docs' examples hide rateLimits; a default connection shows them, like any method.
    assert list(response) == ["id", "status", "result", "rateLimits"]
    assert response["result"]["returnRateLimits"] is True
    assert_same_shape(response["result"], _unauthenticated(expected)["result"], "result")


# --- the checker itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "message"),
    [
        ({"b": 1, "a": 2}, {"a": 1, "b": 2}, "at <root>: keys ['b', 'a'] where the docs show"),
        ({"a": 1}, {"a": 1, "b": 2}, "missing ['b']"),
        ({"a": "1"}, {"a": 1}, "at a: type str"),
        ({"a": True}, {"a": 1}, "at a: type bool"),
        ({"a": None}, {"a": "x"}, "at a: type null"),
        ({"a": "0.1000"}, {"a": "0.10000000"}, "at a: '0.1000' has 4 decimals"),
        ({"a": 0.1}, {"a": "0.10000000"}, "at a: type float"),
        ({"a": "BTC"}, {"a": "1.5"}, "is not a decimal string"),
        ({"a": []}, {"a": [1]}, "at a: empty list"),
        ({"a": [{"x": 1}, {"y": 1}]}, {"a": [{"x": 0}]}, "at a[1]: keys ['y']"),
    ],
)
def test_shape_checker_names_the_difference(actual, expected, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        assert_same_shape(actual, expected)


def test_shape_checker_allowances_and_tagged_lists():
    expected = {"a": [{"t": "X", "v": "1.00"}], "gone": 1, "rules": [{"r": 1}]}
    actual = {"a": [{"t": "Y", "w": 2}], "rules": []}
    assert_same_shape(
        actual,
        expected,
        absent={"gone": "test"},
        may_be_empty={"rules": "test"},
        element_examples={"a": {"X": {"t": "X", "v": "1.00"}, "Y": {"t": "Y", "w": 1}}},
    )
    with pytest.raises(AssertionError, match=re.escape("at a[0]: t='Z' has no example")):
        assert_same_shape({"a": [{"t": "Z"}]}, {"a": []}, element_examples={"a": {"X": {"t": 1}}})


def test_doc_parser_keeps_strings_and_drops_comments():
    text = '{\n "a": "x // not a comment", // a comment\n "b": [1, 2,], /* c */ "c": "\\"//",\n}'
    assert parse_js_json(text) == {"a": "x // not a comment", "b": [1, 2], "c": '"//'}
