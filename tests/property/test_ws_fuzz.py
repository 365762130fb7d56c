"""Malformed and odd frames thrown at one WebSocket API connection of a real in-process server.

Properties checked after every frame (web-socket-api.md "Request format", "Response format",
"Status codes"; binance-observed.md "WebSocket API framing"):

- exactly one response frame arrives, a JSON text frame holding an object whose keys are, in
  order, `id`, `status`, exactly one of `result` / `error`, then optionally `rateLimits`;
- `status` is 200 with `result`, or one of 400, 401, 403, 409, 418, 429 with `error`; a 5xx
  for any of these inputs is a bug (an exception escaped a handler);
- `error` is `{"code": int, "msg": str}` (`data` may follow, as for -1003);
- `id` is the sent `id` when that was valid (an integer, null or absent, or a string matching
  `^[a-zA-Z0-9-_]{1,36}$`), and null otherwise;
- an invalid `id` in a JSON object is answered, then the connection is closed with 1008 (the
  live testnet does this); the test reconnects and goes on;
- otherwise the same connection still answers a `ping` with 200, and that answer is the very
  next frame (so no second response to the fuzzed frame was sent).

The oracle parses what it sent with the standard library (numbers with a fraction as Decimal,
NaN/Infinity refused), independently of localspot's own parser. The server runs with rate
limits disabled so the fuzz never meets a 429. Nesting stays shallow here: deep nesting is its
own test at the end (`test_deeply_nested_json_is_answered`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

# Hypothesis imports its regex module lazily, on the first draw of a regex strategy. Under a
# deep recursive strategy that import (rewritten by pytest) can hit CPython 3.11's "AST
# constructor recursion depth mismatch" SystemError; importing it here, at depth 0, avoids it.
from hypothesis.strategies._internal import regex as _hypothesis_regex  # noqa: F401

from support import Server

ID_RE = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
ERROR_STATUSES = {400, 401, 403, 409, 418, 429}
METHODS = ("ping", "time", "exchangeInfo", "executionRules", "session.status")
EXCHANGE_INFO_PARAMS = ("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus")
ACCEPTED_PARAMS: dict[str, tuple[str, ...]] = {
    "ping": (),
    "time": (),
    "session.status": (),
    "exchangeInfo": EXCHANGE_INFO_PARAMS,
    "executionRules": ("symbol", "symbols", "symbolStatus"),
}
KNOWN_PARAMS = (
    "symbol",
    "symbols",
    "permissions",
    "showPermissionSets",
    "symbolStatus",
    "returnRateLimits",
    "apiKey",
    "signature",
    "timestamp",
    "recvWindow",
)
RATE_LIMIT_KEYS = ["rateLimitType", "interval", "intervalNum", "limit", "count"]
TIMEOUT_S = 5.0
MAX_FRAME_BYTES = 1 << 20  # Config.max_frame_bytes; larger frames are outside this test

# LOCALSPOT_FUZZ_SCALE=20 runs twenty times as many examples (a longer hunt, outside CI).
SCALE = int(os.environ.get("LOCALSPOT_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=150 * SCALE,
    deadline=None,
    # One server and one connection serve every example on purpose: state that leaks from one
    # frame into the next is part of what is being tested.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the oracle ---------------------------------------------------------------------------------


class _Unparsable(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _Unparsable(name)


def parse_sent(text: str) -> Any:
    """Parse a sent frame as a strict JSON reader would; raise _Unparsable if it is not JSON."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _Unparsable(str(exc)) from exc


def is_valid_id(value: Any) -> bool:
    """web-socket-api.md "Request format": INT / STRING / null (the string as observed)."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class Expectation:
    """What the answer to one frame must look like."""

    response_id: Any
    closes: bool


def expect_for_text(text: str) -> Expectation:
    """Derive the expected `id` and whether the server hangs up, from the sent text."""
    try:
        frame = parse_sent(text)
    except _Unparsable:
        return Expectation(None, closes=False)
    if not isinstance(frame, dict):
        return Expectation(None, closes=False)
    sent_id = frame.get("id")
    if not is_valid_id(sent_id):
        return Expectation(None, closes=True)
    return Expectation(sent_id, closes=False)


def _pairs_no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in a response: {keys}"
    return dict(pairs)


def check_envelope(raw: str, expectation: Expectation, sent: str | bytes) -> dict[str, Any]:
    """Assert the envelope properties; return the parsed response."""
    where = f"sent {sent!r:.300}\ngot {raw!r:.600}"
    response = json.loads(raw, object_pairs_hook=_pairs_no_duplicates, parse_float=Decimal)
    assert isinstance(response, dict), where
    keys = list(response)
    assert keys[:2] == ["id", "status"], where
    assert keys[2:3] in (["result"], ["error"]), where
    assert keys[3:] in ([], ["rateLimits"]), where
    status = response["status"]
    assert type(status) is int, where
    assert status < 500, f"5xx for a client-side input (a server bug)\n{where}"
    if "result" in response:
        assert status == 200, where
    else:
        assert status in ERROR_STATUSES, where
        error = response["error"]
        assert isinstance(error, dict), where
        assert list(error)[:2] == ["code", "msg"], where
        assert list(error)[2:] in ([], ["data"]), where
        assert type(error["code"]) is int, where
        assert isinstance(error["msg"], str), where
    for limit in response.get("rateLimits", []):
        # web-socket-api.md "How to interpret rate limits"
        assert list(limit) == RATE_LIMIT_KEYS, where
        assert all(type(limit[k]) is int for k in RATE_LIMIT_KEYS[2:]), where
    got_id = response["id"]
    assert got_id == expectation.response_id, where
    assert type(got_id) is type(expectation.response_id), where
    return response


# --- the connection under fuzz ------------------------------------------------------------------


@dataclass
class Target:
    """One server, one WebSocket API connection, reopened only after an invalid `id`."""

    server: Server
    ws: aiohttp.ClientWebSocketResponse | None = None
    frames: int = 0

    async def connection(self) -> aiohttp.ClientWebSocketResponse:
        if self.ws is None or self.ws.closed:
            self.ws = await self.server.session.ws_connect(self.server.ws_api_url)
        return self.ws

    async def throw_text(self, text: str) -> None:
        ws = await self.connection()
        await ws.send_str(text)
        await self._check_answer(ws, expect_for_text(text), text)

    async def throw_bytes(self, data: bytes) -> None:
        ws = await self.connection()
        await ws.send_bytes(data)
        # A binary frame is not a request (requests are text frames), so no id is read.
        await self._check_answer(ws, Expectation(None, closes=False), data)

    async def _check_answer(
        self, ws: aiohttp.ClientWebSocketResponse, expectation: Expectation, sent: str | bytes
    ) -> None:
        self.frames += 1
        msg = await ws.receive(timeout=TIMEOUT_S)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"sent {sent!r:.300}\ngot {msg!r:.300}"
        response = check_envelope(msg.data, expectation, sent)
        if currently_in_test_context():
            error = response.get("error")
            event(f"status {response['status']} {error['code'] if error else ''}".strip())
        if expectation.closes:
            closing = await ws.receive(timeout=TIMEOUT_S)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), closing
            assert ws.close_code == 1008
            await ws.close()
            ws = await self.connection()
        await self._still_answers_ping(ws, sent)

    async def _still_answers_ping(self, ws: aiohttp.ClientWebSocketResponse, sent: Any) -> None:
        ping_id = f"ping-{self.frames}"
        await ws.send_str(json.dumps({"id": ping_id, "method": "ping"}))
        msg = await ws.receive(timeout=TIMEOUT_S)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"after {sent!r:.300}: {msg!r:.300}"
        answer = json.loads(msg.data)
        assert answer["id"] == ping_id, f"an extra frame after {sent!r:.300}: {msg.data:.300}"
        assert answer["status"] == 200, answer

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


@pytest.fixture
async def target(start_server):
    server = await start_server(rate_limits_enabled=False)
    fuzzed = Target(server)
    yield fuzzed
    await fuzzed.close()


# --- strategies ---------------------------------------------------------------------------------

HUGE_INTS = st.sampled_from(
    [2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**100, -(10**300), 10**4000]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
huge_strings = st.builds(
    lambda char, count: char * count,
    st.characters(codec="utf-8"),
    st.integers(min_value=1_000, max_value=50_000),
)

valid_ids = (
    st.none()
    | st.integers()
    | HUGE_INTS.filter(lambda n: abs(n) < 10**4300)
    | st.from_regex(r"\A[a-zA-Z0-9\-_]{1,36}\Z")
)
invalid_ids = (
    st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60).filter(lambda s: ID_RE.fullmatch(s) is None)
    | st.from_regex(r"\A[a-zA-Z0-9\-_]{37,60}\Z")
    | st.lists(scalars, max_size=3)
    | st.dictionaries(st.text(max_size=5), scalars, max_size=3)
)
any_ids = valid_ids | invalid_ids

method_names = (
    st.sampled_from(METHODS)
    | st.sampled_from(METHODS).map(lambda m: "v3/" + m)
    | st.sampled_from([m.upper() for m in METHODS] + [" ping", "ping ", "v4/ping", "", "v3/"])
    | st.text(max_size=40)
    | json_values
)
param_values = json_values | huge_strings | HUGE_INTS | st.just({"nested": {"deeper": [1, [2]]}})
plausible_values = st.sampled_from(
    [
        "BTCUSDT",
        "ETHBTC",
        "btcusdt",
        "NOPE",
        "BTC/USDT",
        "TRADING",
        "HALT",
        "BREAK",
        "PRE_TRADING",
        "SPOT",
        "MARGIN",
        "true",
        "false",
        "TRUE",
        True,
        False,
        "",
        '["BTCUSDT","ETHBTC"]',
        '["BTCUSDT",]',
        "[",
        ["BTCUSDT"],
        ["BTCUSDT", "BTCUSDT"],
        ["btcusdt"],
        [],
        [["BTCUSDT"]],
        ["SPOT", 1],
        "\u0000",
        "ÄÖÜ€",
        "🙂",
    ]
)
param_names = st.sampled_from(KNOWN_PARAMS) | st.text(max_size=20)
params_objects = st.dictionaries(param_names, param_values, max_size=5)


def dumps(value: Any, *, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


def fits_in_a_frame(text: str) -> bool:
    return len(text.encode()) < MAX_FRAME_BYTES


@st.composite
def request_objects(draw: st.DrawFn) -> str:
    """A JSON object with random `id`, `method`, `params` (each maybe absent) and extra keys."""
    frame: dict[str, Any] = {}
    optional = {"id": any_ids, "method": method_names, "params": json_values | params_objects}
    for key in draw(st.permutations(list(optional))):
        if draw(st.booleans()):
            frame[key] = draw(optional[key])
    extra = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2))
    frame.update({k: v for k, v in extra.items() if k not in optional})
    return dumps(frame, ascii_only=draw(st.booleans()))


@st.composite
def method_calls(draw: st.DrawFn) -> str:
    """A well-formed request to a real method: mostly its own params, odd or plausible values."""
    method = draw(st.sampled_from(METHODS))
    names = st.sampled_from((*ACCEPTED_PARAMS[method], "returnRateLimits"))
    values = plausible_values | param_values
    params = draw(st.dictionaries(names, values, max_size=3))
    if draw(st.integers(0, 4)) == 0:
        params.update(draw(params_objects))
    frame = {"id": draw(valid_ids), "method": method, "params": params}
    return dumps(frame, ascii_only=draw(st.booleans()))


# --- the fuzz tests -----------------------------------------------------------------------------


@FUZZ
@given(text=st.text(max_size=200))
async def test_random_text(target, text):
    await target.throw_text(text)


@FUZZ
@given(value=json_values, ascii_only=st.booleans())
async def test_random_json_values(target, value, ascii_only):
    await target.throw_text(dumps(value, ascii_only=ascii_only))


@settings(FUZZ, max_examples=300 * SCALE)
@given(text=request_objects().filter(fits_in_a_frame))
async def test_objects_with_random_id_method_params(target, text):
    await target.throw_text(text)


@settings(FUZZ, max_examples=300 * SCALE)
@given(text=method_calls().filter(fits_in_a_frame))
async def test_valid_methods_with_random_params(target, text):
    await target.throw_text(text)


@FUZZ
@given(data=st.binary(max_size=200) | st.text(max_size=100).map(str.encode))
async def test_binary_frames(target, data):
    await target.throw_bytes(data)


@FUZZ
@given(
    value=st.sampled_from(["1e999999", "-0", "1E400", "0.1", "12345678901234567890.5"]),
    method=st.sampled_from(METHODS),
)
async def test_number_edge_cases_as_id_and_params(target, value, method):
    await target.throw_text(f'{{"id":{value},"method":"{method}"}}')
    await target.throw_text(f'{{"id":7,"method":"{method}","params":{{"symbol":{value}}}}}')


@pytest.mark.parametrize(
    "text",
    [
        '{"id":"\\ud800","method":"ping"}',
        '{"id":1,"method":"\\ud800"}',
        '{"id":1,"method":"exchangeInfo","params":{"\\udfff":1}}',
        '{"id":1,"method":"exchangeInfo","params":{"symbol":"\\ud800"}}',
        '{"id":1,"method":"ping","id":2}',
        '{"id":1,"method":"ping","method":"time"}',
        '{"id":1,"method":"ping","params":{}}  ',
        '\ufeff{"id":1,"method":"ping"}',
        '{"id":1,"method":"ping"} {"id":2,"method":"ping"}',
        '{"id":1,"method":"ping",}',
        '{"id":NaN,"method":"ping"}',
        '{"id":1,"method":"time","params":{"returnRateLimits":"false"}}',
        '{"id":1,"method":"time","params":{"returnRateLimits":{"a":1}}}',
        '{"id":"' + "9" * 36 + '","method":"ping"}',
        '{"id":' + "9" * 4300 + ',"method":"ping"}',
        '{"id":' + "9" * 4301 + ',"method":"ping"}',
    ],
)
async def test_awkward_frames(target, text):
    await target.throw_text(text)


# web-socket-api.md says nothing about nesting; a JSON parser answers "Invalid JSON" (Jackson,
# which Binance's Java servers use, refuses nesting deeper than 1000 by default) or the request's
# own error, and the connection stays usable either way.
@pytest.mark.parametrize(
    "text",
    [
        "[" * 400 + "]" * 400,
        "[" * 3000 + "]" * 3000,
        '{"id":1,"method":"ping","params":{"a":' + "[" * 1500 + "]" * 1500 + "}}",
    ],
    ids=["list-400", "list-3000", "params-1500"],
)
async def test_deeply_nested_json_is_answered(target, text):
    await target.throw_text(text)


async def test_moderate_nesting_is_answered(target):
    await target.throw_text("[" * 300 + "]" * 300)
    await target.throw_text('{"id":1,"method":"ping","params":{"a":' + "[" * 300 + "]" * 300 + "}}")
