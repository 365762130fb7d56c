"""The WebSocket API envelope over a real socket: ids, statuses, errors, rateLimits, timeUnit."""

from __future__ import annotations

import aiohttp
import pytest

from localspot import errors
from support import refused_upgrade


def _assert_error(response: dict, spec: errors.ErrorSpec, *args: object) -> None:
    assert response["status"] == spec.status
    assert response["error"] == {
        "code": spec.code,
        "msg": spec.message % args if args else spec.message,
    }
    assert "result" not in response


@pytest.mark.parametrize(
    "request_id",
    [1, 0, -5, "abc", "e2a85d9f-07a5-4f94-8d5f-789dc3deb097", None, 2**70, "A_b-9" * 7],
)
async def test_id_is_echoed_exactly(server, request_id):
    ws = await server.ws()
    response = await ws.call("ping", id=request_id)
    assert response["id"] == request_id
    assert type(response["id"]) is type(request_id)
    assert response["status"] == 200
    assert response["result"] == {}
    assert list(response) == ["id", "status", "result", "rateLimits"]


async def test_time_result_and_rate_limits_shape(server):
    ws = await server.ws()
    response = await ws.call("time")
    assert isinstance(response["result"]["serverTime"], int)
    (limit,) = response["rateLimits"]
    assert limit == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
        "count": limit["count"],
    }
    # connecting costs 2, `time` costs 1
    assert limit["count"] == 3


async def test_method_name_accepts_v3_prefix(server):
    ws = await server.ws()
    response = await ws.call("v3/time")
    assert response["status"] == 200
    assert "serverTime" in response["result"]


@pytest.mark.parametrize("bad_id", [True, 1.5, {"a": 1}, [1], "x" * 37, "has space", ""])
async def test_invalid_id_gets_1135_and_close(server, bad_id):
    ws = await server.ws()
    response = await ws.call("ping", id=bad_id)
    assert response["id"] is None
    _assert_error(response, errors.INVALID_REQUEST_ID)
    msg = await ws.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.ws.close_code == 1008


@pytest.mark.parametrize("frame", ["{not json", "[1,2]", '"text"', "42", "null", ""])
async def test_bad_frames_get_an_error_and_connection_stays_usable(server, frame):
    ws = await server.ws()
    await ws.send_raw(frame)
    response = await ws.recv()
    assert response["id"] is None
    _assert_error(response, errors.INVALID_JSON)
    assert "rateLimits" in response
    assert (await ws.call("ping"))["status"] == 200


async def test_binary_frame_gets_an_error(server):
    ws = await server.ws()
    await ws.ws.send_bytes(b'{"id":1,"method":"ping"}')
    response = await ws.recv()
    _assert_error(response, errors.INVALID_JSON)
    assert (await ws.call("ping"))["status"] == 200


async def test_missing_method(server):
    ws = await server.ws()
    await ws.send_raw('{"id": 7}')
    response = await ws.recv()
    assert response["id"] == 7
    _assert_error(response, errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "method")


async def test_unknown_method(server):
    ws = await server.ws()
    response = await ws.call("no.such.method")
    _assert_error(response, errors.UNSUPPORTED_OPERATION)
    assert (await ws.call("ping"))["status"] == 200


@pytest.mark.parametrize("params", [[1], "x", 5, True])
async def test_params_not_an_object(server, params):
    ws = await server.ws()
    response = await ws.call("ping", params)
    _assert_error(response, errors.INVALID_PARAMS_OBJECT)


async def test_unknown_param_is_refused_with_counts(server):
    ws = await server.ws()
    response = await ws.call("time", {"foo": 1, "bar": 2})
    _assert_error(response, errors.UNREAD_PARAMETERS, 0, 2)
    response = await ws.call("exchangeInfo", {"symbol": "BTCUSDT", "foo": 1})
    _assert_error(response, errors.UNREAD_PARAMETERS, 1, 2)


async def test_null_params_and_missing_params_are_empty(server):
    ws = await server.ws()
    assert (await ws.call("ping", None))["status"] == 200
    await ws.send_raw('{"id": 3, "method": "ping", "params": null}')
    assert (await ws.recv())["status"] == 200


async def test_return_rate_limits_false_in_params(server):
    ws = await server.ws()
    response = await ws.call("time", {"returnRateLimits": False})
    assert "rateLimits" not in response
    assert list(response) == ["id", "status", "result"]


async def test_return_rate_limits_false_on_url_and_true_per_request(server):
    ws = await server.ws("?returnRateLimits=false")
    assert "rateLimits" not in await ws.call("time")
    assert "rateLimits" in await ws.call("time", {"returnRateLimits": True})
    # errors follow the same rule
    assert "rateLimits" not in await ws.call("nope")


async def test_time_unit_microsecond_on_url(server):
    ws = await server.ws("?timeUnit=MICROSECOND")
    us = (await ws.call("time"))["result"]["serverTime"]
    ws_ms = await server.ws("?timeUnit=millisecond")
    ms = (await ws_ms.call("time"))["result"]["serverTime"]
    assert us > 10**15
    assert ms < 10**14
    assert abs(us // 1000 - ms) < 5000


async def test_time_unit_invalid_is_refused(server):
    status, body = await refused_upgrade(server, "?timeUnit=SECOND")
    assert status == 400
    assert body == {"code": -1194, "msg": errors.INVALID_TIME_UNIT.message}


async def test_handler_exception_is_5xx_and_connection_survives(server, caplog):
    spec = server.services.registry.by_name("time")

    def boom(call):
        raise RuntimeError("bug")

    # MethodSpec is frozen; this server's registry is private to the test.
    object.__setattr__(spec, "handler", boom)
    ws = await server.ws()
    response = await ws.call("time")
    _assert_error(response, errors.UNEXPECTED_RESP)
    assert response["status"] >= 500
    assert "handler failed: method=time" in caplog.text
    assert (await ws.call("ping"))["status"] == 200


async def test_server_shutdown_event_is_sent_before_close(start_server):
    server = await start_server()
    ws = await server.ws()
    assert (await ws.call("ping"))["status"] == 200
    await server.server.close()
    event = await ws.recv()
    assert event["event"]["e"] == "serverShutdown"
    assert isinstance(event["event"]["E"], int)
    msg = await ws.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
