"""User Data Stream subscriptions over the WebSocket API, end to end on a real server.

Subscribe (session logon or signature), list, unsubscribe, logout, key revocation, several
accounts on one connection, and the events themselves: execution reports and balances after the
response of the request that caused them, in the engine's order.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import aiohttp

from localspot import errors, jsonio, userdata
from localspot.domain.commands import ChangeBalance, PlaceOrder
from localspot.domain.enums import OrderType, Side, TimeInForce
from localspot.domain.numbers import Scaled
from localspot.methods.context import DEFERRED_EVENTS
from support import WsClient, ed25519_pair, eventually, sign_ws_ed25519, sign_ws_hmac


def _now_ms() -> int:
    return int(time.time() * 1000)


def _signed(account: dict[str, Any], **params: Any) -> dict[str, Any]:
    return sign_ws_hmac({**params, "timestamp": _now_ms()}, account["apiKey"], account["secretKey"])


async def _subscribe(ws: WsClient, account: dict[str, Any]) -> int:
    response = await ws.call("userDataStream.subscribe.signature", _signed(account))
    assert response["status"] == 200, response
    return response["result"]["subscriptionId"]


async def _deposit(server, account: dict[str, Any], asset: str, amount: str) -> None:
    status, body = await server.admin(
        "POST",
        f"/admin/v1/accounts/{account['accountId']}/balances",
        {"balances": {asset: amount}, "mode": "add"},
    )
    assert status == 200, body


async def _event(ws: WsClient) -> dict[str, Any]:
    frame = await ws.recv()
    assert set(frame) == {"subscriptionId", "event"}, frame
    return frame


async def _no_frame(ws: WsClient) -> None:
    # Nothing is queued: a ping's answer is the very next frame.
    response = await ws.call("ping", {})
    assert response["result"] == {}, response


def _error(response: dict[str, Any], spec: errors.ErrorSpec, *args: object) -> None:
    assert response["status"] == spec.status, response
    assert response["error"] == spec.error(*args).body()


async def _ed25519_logon(server, ws: WsClient) -> dict[str, Any]:
    private, public_pem = ed25519_pair()
    account = await server.create_account(keyType="ED25519", publicKey=public_pem)
    params = sign_ws_ed25519({"timestamp": _now_ms()}, account["apiKey"], private)
    response = await ws.call("session.logon", params)
    assert response["status"] == 200, response
    return account


# --- subscriptions -----------------------------------------------------------------------------


async def test_signature_subscription_with_an_hmac_key_counts_from_zero(server):
    account = await server.create_account()
    ws = await server.ws()
    response = await ws.call("userDataStream.subscribe.signature", _signed(account))
    assert response["result"] == {"subscriptionId": 0}  # binance-observed.md
    assert response["rateLimits"][0]["count"] == 2 + 2
    listed = await ws.call("session.subscriptions")
    assert listed["result"] == [{"subscriptionId": 0}]
    status = await ws.call("session.status")
    assert status["result"]["userDataStream"] is True
    assert status["result"]["apiKey"] is None  # a signature subscription is not a logon


async def test_one_subscription_per_account_several_accounts_per_connection(server):
    first, second = await server.create_account(), await server.create_account()
    ws = await server.ws()
    assert await _subscribe(ws, first) == 0
    _error(
        await ws.call("userDataStream.subscribe.signature", _signed(first)),
        errors.SUBSCRIPTION_ACTIVE,
    )
    assert await _subscribe(ws, second) == 1
    listed = await ws.call("session.subscriptions")
    assert listed["result"] == [{"subscriptionId": 0}, {"subscriptionId": 1}]
    await _deposit(server, second, "ETH", "3")
    update = await _event(ws)
    assert update["subscriptionId"] == 1
    assert update["event"]["e"] == "balanceUpdate"
    assert (update["event"]["a"], update["event"]["d"]) == ("ETH", "3.00000000")
    position = await _event(ws)
    assert position["subscriptionId"] == 1
    assert position["event"]["B"] == [{"a": "ETH", "f": "3.00000000", "l": "0.00000000"}]
    await _deposit(server, first, "BTC", "1")
    assert (await _event(ws))["subscriptionId"] == 0


async def test_two_connections_subscribed_to_one_account_both_get_its_events(server):
    account = await server.create_account()
    one, two = await server.ws(), await server.ws()
    assert await _subscribe(one, account) == 0
    assert await _subscribe(two, account) == 0  # ids are per connection
    await _deposit(server, account, "BTC", "1")
    for ws in (one, two):
        assert (await _event(ws))["event"]["e"] == "balanceUpdate"


async def test_signature_subscription_errors(server):
    account = await server.create_account()
    ws = await server.ws()
    params = _signed(account)
    params["signature"] = "0" * 64
    _error(await ws.call("userDataStream.subscribe.signature", params), errors.INVALID_SIGNATURE)
    response = await ws.call("userDataStream.subscribe.signature", {"timestamp": _now_ms()})
    _error(response, errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED, "apiKey")
    limited = await server.create_account(permissions=["USER_DATA"])
    _error(
        await ws.call("userDataStream.subscribe.signature", _signed(limited)),
        errors.REJECTED_MBX_KEY,
    )
    status, _ = await server.admin("DELETE", f"/admin/v1/keys/{account['apiKey']}")
    assert status == 200
    _error(
        await ws.call("userDataStream.subscribe.signature", _signed(account)),
        errors.REJECTED_MBX_KEY,
    )
    assert (await ws.call("session.subscriptions"))["result"] == []


async def test_subscribe_needs_an_ed25519_logon(server):
    ws = await server.ws()
    _error(await ws.call("userDataStream.subscribe"), errors.REJECTED_MBX_KEY)
    account = await _ed25519_logon(server, ws)
    response = await ws.call("userDataStream.subscribe")
    assert response["result"] == {"subscriptionId": 0}
    _error(await ws.call("userDataStream.subscribe"), errors.SUBSCRIPTION_ACTIVE)
    # subscribe.signature wants its own apiKey and signature even on a logged-on session.
    params = {"timestamp": _now_ms()}
    _error(
        await ws.call("userDataStream.subscribe.signature", params),
        errors.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        "apiKey",
    )
    await _deposit(server, account, "BTC", "1")
    assert [(await _event(ws))["subscriptionId"] for _ in range(2)] == [0, 0]
    _error(
        await ws.call("userDataStream.subscribe", {"apiKey": account["apiKey"]}),
        errors.UNREAD_PARAMETERS,
        0,
        1,
    )  # as the live API answered (binance/binance-connector-js#318)


async def test_logout_ends_only_the_session_subscription(server):
    ws = await server.ws()
    logged_on = await _ed25519_logon(server, ws)
    other = await server.create_account()
    assert (await ws.call("userDataStream.subscribe"))["result"] == {"subscriptionId": 0}
    assert await _subscribe(ws, other) == 1
    response = await ws.call("session.logout")
    assert response["result"]["userDataStream"] is True  # the signature one is still active
    terminated = await _event(ws)
    assert terminated["subscriptionId"] == 0
    assert terminated["event"]["e"] == "eventStreamTerminated"
    assert abs(terminated["event"]["E"] - _now_ms()) < 5000
    assert (await ws.call("session.subscriptions"))["result"] == [{"subscriptionId": 1}]
    await _deposit(server, logged_on, "BTC", "1")
    await _deposit(server, other, "BTC", "1")
    # Nothing for the logged-out account.
    assert [(await _event(ws))["subscriptionId"] for _ in range(2)] == [1, 1]
    # A new subscription gets a new id.
    await _ed25519_logon(server, ws)
    assert (await ws.call("userDataStream.subscribe"))["result"] == {"subscriptionId": 2}


async def test_logout_without_session_subscription_sends_nothing(server):
    ws = await server.ws()
    account = await server.create_account()
    await _subscribe(ws, account)
    response = await ws.call("session.logout")
    assert response["result"]["userDataStream"] is True
    await _no_frame(ws)


async def test_unsubscribe_one_then_all(server):
    accounts = [await server.create_account() for _ in range(3)]
    ws = await server.ws()
    for account in accounts:
        await _subscribe(ws, account)
    response = await ws.call("userDataStream.unsubscribe", {"subscriptionId": 1})
    assert response["result"] == {}
    assert response["rateLimits"][0]["count"] == 2 + 3 * 2 + 2
    terminated = await _event(ws)
    assert terminated["subscriptionId"] == 1
    assert list(terminated["event"]) == ["e", "E"]
    _error(
        await ws.call("userDataStream.unsubscribe", {"subscriptionId": 1}),
        errors.SUBSCRIPTION_INACTIVE,
    )
    _error(
        await ws.call("userDataStream.unsubscribe", {"subscriptionId": "x"}),
        errors.ILLEGAL_CHARS_PARAM,
        "subscriptionId",
        "^[0-9]{1,20}$",
    )
    assert (await ws.call("userDataStream.unsubscribe"))["result"] == {}
    ended = [await _event(ws), await _event(ws)]
    assert sorted(f["subscriptionId"] for f in ended) == [0, 2]
    assert {f["event"]["e"] for f in ended} == {"eventStreamTerminated"}
    status = await ws.call("session.status")
    assert status["result"]["userDataStream"] is False
    _error(await ws.call("userDataStream.unsubscribe"), errors.SUBSCRIPTION_INACTIVE)
    await _deposit(server, accounts[0], "BTC", "1")
    await _no_frame(ws)
    # Resubscribing gives a fresh id: ids are never reused on a connection.
    assert await _subscribe(ws, accounts[0]) == 3


async def test_revoking_a_key_terminates_its_subscriptions(server):
    account = await server.create_account()
    status, second_key = await server.admin(
        "POST", f"/admin/v1/accounts/{account['accountId']}/keys", {}
    )
    assert status == 200
    ws, other_ws = await server.ws(), await server.ws()
    await _subscribe(ws, account)
    await _subscribe(other_ws, {**account, **second_key})
    status, _ = await server.admin("DELETE", f"/admin/v1/keys/{account['apiKey']}")
    assert status == 200
    terminated = await _event(ws)
    assert terminated["subscriptionId"] == 0
    assert terminated["event"] == {"e": "eventStreamTerminated", "E": terminated["event"]["E"]}
    assert (await ws.call("session.subscriptions"))["result"] == []
    await _deposit(server, account, "BTC", "1")
    # The subscription made with the account's other key goes on.
    assert (await _event(other_ws))["event"]["e"] == "balanceUpdate"
    await _no_frame(ws)


async def test_revoking_the_logon_key_terminates_the_session_subscription(server):
    ws = await server.ws()
    account = await _ed25519_logon(server, ws)
    await ws.call("userDataStream.subscribe")
    await server.admin("DELETE", f"/admin/v1/keys/{account['apiKey']}")
    assert (await _event(ws))["event"]["e"] == "eventStreamTerminated"
    _error(await ws.call("userDataStream.subscribe"), errors.REJECTED_MBX_KEY)
    assert (await ws.call("session.status"))["result"]["apiKey"] is None


async def test_closing_the_connection_forgets_its_subscriptions(server):
    account = await server.create_account()
    ws = await server.ws()
    await _subscribe(ws, account)
    streams = server.services.user_streams
    await ws.close()
    await eventually(lambda: not streams._by_account and not streams._outboxes)
    await _deposit(server, account, "BTC", "1")


# --- events ------------------------------------------------------------------------------------


async def _balances(server, account: dict[str, Any]) -> dict[str, dict[str, str]]:
    status, body = await server.admin("GET", f"/admin/v1/accounts/{account['accountId']}")
    assert status == 200
    return body["balances"]


async def test_engine_door_orders_reach_the_subscribed_maker_and_taker(server):
    maker, taker = await server.create_account(), await server.create_account()
    ws = await server.ws()
    assert await _subscribe(ws, maker) == 0
    assert await _subscribe(ws, taker) == 1
    services = server.services
    await services.execute(
        PlaceOrder(maker["accountId"], "BTCUSDT", Side.SELL, OrderType.LIMIT,
                   TimeInForce.GTC, quantity=Scaled.parse("0.5"), price=Scaled.parse("30000"))
    )  # fmt: skip
    new = await _event(ws)
    assert (new["subscriptionId"], new["event"]["x"], new["event"]["w"]) == (0, "NEW", True)
    locked = await _event(ws)
    assert locked["event"]["B"] == [{"a": "BTC", "f": "9.50000000", "l": "0.50000000"}]
    await services.execute(
        PlaceOrder(taker["accountId"], "BTCUSDT", Side.BUY, OrderType.MARKET,
                   quantity=Scaled.parse("0.2"))
    )  # fmt: skip
    frames = [await _event(ws) for _ in range(5)]
    assert [(f["subscriptionId"], f["event"]["e"], f["event"].get("x")) for f in frames] == [
        (1, "executionReport", "NEW"),
        (0, "executionReport", "TRADE"),
        (1, "executionReport", "TRADE"),
        (0, "outboundAccountPosition", None),
        (1, "outboundAccountPosition", None),
    ]
    maker_fill, taker_fill = frames[1]["event"], frames[2]["event"]
    assert (maker_fill["X"], maker_fill["m"], maker_fill["w"]) == ("PARTIALLY_FILLED", True, True)
    assert (taker_fill["X"], taker_fill["m"], taker_fill["L"]) == (
        "FILLED",
        False,
        "30000.00000000",
    )
    for frame, account in ((frames[3], maker), (frames[4], taker)):
        balances = await _balances(server, account)
        for row in frame["event"]["B"]:
            assert balances[row["a"]] == {"free": row["f"], "locked": row["l"]}


async def test_order_place_response_comes_before_its_events(server):
    maker, taker = await server.create_account(), await server.create_account()
    ws = await server.ws()
    await _subscribe(ws, taker)
    await server.services.execute(
        PlaceOrder(maker["accountId"], "BTCUSDT", Side.SELL, OrderType.LIMIT,
                   TimeInForce.GTC, quantity=Scaled.parse("0.01"), price=Scaled.parse("30000"))
    )  # fmt: skip
    response = await ws.call(
        "order.place",
        _signed(taker, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01"),
    )
    assert response["status"] == 200, response
    assert response["result"]["status"] == "FILLED"
    new, trade, position = [(await _event(ws))["event"] for _ in range(3)]
    assert (new["x"], new["X"], new["i"]) == ("NEW", "NEW", response["result"]["orderId"])
    assert (trade["x"], trade["X"], trade["z"]) == ("TRADE", "FILLED", "0.01000000")
    assert trade["c"] == response["result"]["clientOrderId"]
    assert trade["t"] == response["result"]["fills"][0]["tradeId"]
    assert trade["n"] == response["result"]["fills"][0]["commission"]
    assert position["e"] == "outboundAccountPosition"
    # The balances match what account.status answers.
    status = await ws.call("account.status", _signed(taker))
    assert status["status"] == 200, status
    reported = {b["asset"]: b for b in status["result"]["balances"]}
    for row in position["B"]:
        assert (reported[row["a"]]["free"], reported[row["a"]]["locked"]) == (row["f"], row["l"])


async def test_events_keep_the_engine_order_across_requests(server):
    # A command whose request has not answered yet holds back later commands' events.
    account = await server.create_account()
    ws = await server.ws()
    await _subscribe(ws, account)
    services = server.services
    deferred: list[Any] = []
    token = DEFERRED_EVENTS.set(deferred)
    try:
        await services.execute(
            PlaceOrder(account["accountId"], "BTCUSDT", Side.BUY, OrderType.LIMIT,
                       TimeInForce.GTC, quantity=Scaled.parse("0.01"), price=Scaled.parse("1000"),
                       client_order_id="first")
        )  # fmt: skip
    finally:
        DEFERRED_EVENTS.reset(token)
    await services.execute(
        PlaceOrder(account["accountId"], "BTCUSDT", Side.BUY, OrderType.LIMIT,
                   TimeInForce.GTC, quantity=Scaled.parse("0.01"), price=Scaled.parse("1000"),
                   client_order_id="second")
    )  # fmt: skip
    await _no_frame(ws)
    services.publish(deferred)
    reports = [(await _event(ws))["event"] for _ in range(4)]
    assert [r.get("c") for r in reports if r["e"] == "executionReport"] == ["first", "second"]


async def test_admin_lock_sends_external_lock_update_then_account_position(server):
    account = await server.create_account(balances={"BTC": "10"})
    ws = await server.ws()
    subscription_id = await _subscribe(ws, account)
    status, body = await server.admin(
        "POST",
        f"/admin/v1/accounts/{account['accountId']}/locks",
        {"asset": "BTC", "delta": "2.5"},
    )
    assert status == 200, body
    lock, position = await _event(ws), await _event(ws)
    assert lock["subscriptionId"] == position["subscriptionId"] == subscription_id
    assert list(lock["event"]) == ["e", "E", "a", "d", "T"]
    assert lock["event"]["e"] == "externalLockUpdate"
    assert (lock["event"]["a"], lock["event"]["d"]) == ("BTC", "2.50000000")
    assert lock["event"]["T"] == lock["event"]["E"]
    assert abs(lock["event"]["E"] - _now_ms()) < 5_000
    assert position["event"]["e"] == "outboundAccountPosition"
    assert position["event"]["B"] == [{"a": "BTC", "f": "7.50000000", "l": "2.50000000"}]
    await _no_frame(ws)


async def test_microsecond_connection_gets_microsecond_times(server):
    account = await server.create_account()
    ws = await server.ws("?timeUnit=MICROSECOND")
    await _subscribe(ws, account)
    await _deposit(server, account, "BTC", "1")
    update = (await _event(ws))["event"]
    assert abs(update["E"] - _now_ms() * 1000) < 5_000_000
    assert update["T"] == update["E"]


async def test_a_client_that_does_not_read_is_disconnected(server, monkeypatch):
    account = await server.create_account()
    ws = await server.ws()
    streams = server.services.user_streams
    monkeypatch.setattr(streams, "max_queued_frames", 3)
    await _subscribe(ws, account)
    (session,) = [s for s in server.services.sessions if s.subscriptions]
    stuck = asyncio.Event()

    async def never_sends(payload: dict[str, Any]) -> None:
        await stuck.wait()

    monkeypatch.setattr(session.sender, "send_json", never_sends)
    for _ in range(4):
        await _deposit(server, account, "BTC", "1")  # two frames each
    msg = await ws.ws.receive(timeout=5)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
    stuck.set()


async def test_event_frames_are_one_json_object_per_text_frame(server):
    account = await server.create_account()
    ws = await server.ws()
    await _subscribe(ws, account)
    await _deposit(server, account, "BTC", "1")
    msg = await ws.ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.TEXT
    assert jsonio.loads(msg.data)["event"]["e"] == "balanceUpdate"


async def test_subscription_ids_run_out_after_65535(server):
    account = await server.create_account()
    ws = await server.ws()
    (session,) = server.services.sessions
    session.next_subscription_id = 65_535
    _error(
        await ws.call("userDataStream.subscribe.signature", _signed(account)),
        errors.MAXIMUM_SUBSCRIPTION_IDS,
    )


async def test_events_of_a_command_never_published_are_not_held_forever(server, monkeypatch):
    monkeypatch.setattr(userdata, "RELEASE_AFTER_S", 0.05)
    account = await server.create_account()
    ws = await server.ws()
    await _subscribe(ws, account)
    token = DEFERRED_EVENTS.set([])  # a request that fails before it publishes
    try:
        await server.services.execute(ChangeBalance(account["accountId"], "BTC", Decimal(1), "add"))
    finally:
        DEFERRED_EVENTS.reset(token)
    await _deposit(server, account, "ETH", "1")
    assert [(await _event(ws))["event"].get("a") for _ in range(4)] == ["BTC", None, "ETH", None]
