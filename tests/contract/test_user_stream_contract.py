"""User Data Stream requests and events against the docs' examples, key by key, type by type.

Requests: web-socket-api.md "User Data Stream requests" (the examples carry no `rateLimits`, so
the connection is opened with `?returnRateLimits=false`). Events: user-data-stream.md's
payloads, web-socket-api.md "Event format", and the MARKET order sample of
faqs/market_orders_faq.md (NEW, TRADE, TRADE, EXPIRED, outboundAccountPosition).
"""

from __future__ import annotations

import time
from typing import Any

from doc_examples import WS_API, assert_same_shape, code_blocks, parse_js_json, request_example

from localspot.domain.commands import PlaceOrder
from localspot.domain.enums import OrderType, Side, TimeInForce
from localspot.domain.numbers import Scaled
from support import ed25519_pair, sign_ws_ed25519, sign_ws_hmac

USER_DATA = "user-data-stream.md"
MARKET_ORDERS_FAQ = "../faqs/market_orders_faq.md"

SUBSCRIBE = "Subscribe to User Data Stream (USER_STREAM)"
UNSUBSCRIBE = "Unsubscribe from User Data Stream"
LIST = "Listing all subscriptions"
SUBSCRIBE_SIGNATURE = "Subscribe to User Data Stream through signature subscription (USER_STREAM)"

NOT_STP = {"event.v": "the prevented match id appears only on STP reports (conditional fields)"}
ACCOUNT_UPDATE_DECIMALS = {
    "event.B": "user-data-stream.md prints balances with 6 decimals; the Event format example "
    "and the FAQ's capture print 8, as account.status does (compared below)",
}
EXPIRY_REASON_IS_NEWER = (
    "eR",
    "the FAQ's capture (2024-06) predates `eR` (CHANGELOG: added to execution reports later)",
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _last_block(title: str) -> Any:
    # The response example is the section's last block ("**Response**:" spelled two ways).
    return code_blocks(WS_API, title)[-1].json()


def _payload(title: str) -> Any:
    return code_blocks(USER_DATA, title)[0].json()


async def _logged_on(server, query: str = "?returnRateLimits=false"):
    private, public_pem = ed25519_pair()
    account = await server.create_account(keyType="ED25519", publicKey=public_pem)
    ws = await server.ws(query)
    logon = await ws.call(
        "session.logon", sign_ws_ed25519({"timestamp": _now_ms()}, account["apiKey"], private)
    )
    assert logon["status"] == 200, logon
    return ws, account


async def _event(ws) -> dict[str, Any]:
    frame = await ws.recv()
    assert "event" in frame, frame
    return frame


async def test_subscribe_unsubscribe_and_list_match_the_examples(server):
    ws, _ = await _logged_on(server)
    request = request_example(SUBSCRIBE)
    response = await ws.call(request["method"], request.get("params"), id=request["id"])
    assert_same_shape(response, _last_block(SUBSCRIBE))
    assert response["result"] == {"subscriptionId": 0}

    other = await server.create_account()
    signature_request = request_example(SUBSCRIBE_SIGNATURE)
    params = sign_ws_hmac({"timestamp": _now_ms()}, other["apiKey"], other["secretKey"])
    assert set(params) == set(signature_request["params"])
    response = await ws.call(signature_request["method"], params, id=signature_request["id"])
    assert_same_shape(response, _last_block(SUBSCRIBE_SIGNATURE))
    assert response["result"] == {"subscriptionId": 1}

    request = request_example(LIST)
    response = await ws.call(request["method"], request.get("params"), id=request["id"])
    expected = _last_block(LIST)
    assert_same_shape(response, expected)
    assert response["result"] == expected["result"]  # [{0}, {1}], as in the docs

    request = request_example(UNSUBSCRIBE)
    response = await ws.call(request["method"], request.get("params"), id=request["id"])
    assert_same_shape(response, _last_block(UNSUBSCRIBE))
    assert response == {"id": request["id"], "status": 200, "result": {}}
    for _ in range(2):
        assert_same_shape(await _event(ws), _payload("Event Stream Terminated"))


async def test_deposit_events_match_the_examples(server):
    ws, account = await _logged_on(server)
    await ws.call("userDataStream.subscribe")
    status, _ = await server.admin(
        "POST",
        f"/admin/v1/accounts/{account['accountId']}/balances",
        {"balances": {"BTC": "100"}, "mode": "add"},
    )
    assert status == 200
    update = await _event(ws)
    assert_same_shape(update, _payload("Balance Update"))
    assert update["event"]["d"] == "100.00000000"
    position = await _event(ws)
    assert_same_shape(position, _payload("Account Update"), unchecked=ACCOUNT_UPDATE_DECIMALS)
    # web-socket-api.md "Event format" shows the same event with 8-decimal balances.
    assert_same_shape(position, code_blocks(WS_API, "Event format")[0].json())


async def test_new_order_report_matches_the_order_update_example(server):
    ws, account = await _logged_on(server)
    await ws.call("userDataStream.subscribe")
    await server.services.execute(
        PlaceOrder(account["accountId"], "BTCUSDT", Side.BUY, OrderType.LIMIT, TimeInForce.GTC,
                   quantity=Scaled.parse("0.001"), price=Scaled.parse("30000"))
    )  # fmt: skip
    report = await _event(ws)
    assert_same_shape(report, _payload("Order Update"), absent=NOT_STP)
    assert (report["event"]["x"], report["event"]["r"], report["event"]["N"]) == (
        "NEW",
        "NONE",
        None,
    )


async def test_market_order_reports_match_the_market_orders_faq_capture(server):
    ws, taker = await _logged_on(server)
    maker = await server.create_account()
    services = server.services
    for price in ("30000", "30001"):
        await services.execute(
            PlaceOrder(maker["accountId"], "BTCUSDT", Side.SELL, OrderType.LIMIT,
                       TimeInForce.GTC, quantity=Scaled.parse("0.001"), price=Scaled.parse(price))
        )  # fmt: skip
    await ws.call("userDataStream.subscribe")
    await services.execute(
        PlaceOrder(taker["accountId"], "BTCUSDT", Side.BUY, OrderType.MARKET,
                   quantity=Scaled.parse("0.003"))
    )  # fmt: skip
    (block,) = code_blocks(MARKET_ORDERS_FAQ, "MARKET orders")[-1:]
    samples = parse_js_json(f"[{block.text}]")
    assert [s.get("x") for s in samples] == ["NEW", "TRADE", "TRADE", "EXPIRED", None]
    for sample in samples:
        frame = await _event(ws)
        event = frame["event"]
        if event.get("eR") is not None:
            assert event.pop(EXPIRY_REASON_IS_NEWER[0]) == "INSUFFICIENT_LIQUIDITY"
        assert_same_shape(event, sample)
        if sample["e"] == "executionReport":
            assert (event["x"], event["X"], event["w"], event["M"]) == (
                sample["x"],
                sample["X"],
                sample["w"],
                sample["M"],
            )
