"""Unmodified Binance clients against a live localspot: python-binance, binance-sdk-spot, ccxt.

If a client's own parsers, signers and error mapping accept our bytes, the wire format is right.
Each client is pointed at the in-process server the way a user would point it at localspot (see
the README); only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt_async
import pytest
from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketAPI
from binance_common.errors import BadRequestError
from binance_common.utils import send_request
from binance_sdk_spot.rest_api.models import ExchangeInfoResponse
from binance_sdk_spot.rest_api.models import TimeResponse as RestTimeResponse
from binance_sdk_spot.spot import Spot
from binance_sdk_spot.websocket_api.models import ExchangeInfoResponse as WsExchangeInfoResponse
from binance_sdk_spot.websocket_api.models import TimeResponse as WsTimeResponse
from cryptography.hazmat.primitives import serialization

from localspot.auth.keys import Security
from localspot.methods.registry import method
from support import ed25519_pair

with warnings.catch_warnings():
    # python-binance imports `websockets.WebSocketClientProtocol`, deprecated in websockets 14+.
    warnings.simplefilter("ignore", DeprecationWarning)
    from binance import AsyncClient, Client
    from binance.exceptions import BinanceAPIException

# python-binance evaluates `ws.WebSocketClientProtocol` again each time it builds a client.
pytestmark = pytest.mark.filterwarnings(
    "ignore:websockets.WebSocketClientProtocol is deprecated:DeprecationWarning"
)

DEFAULT_SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC", "BNBBTC"]
WRONG_SECRET = "0" * 64
T = TypeVar("T")


@pytest.fixture
async def signed_server(server):
    """A server with a USER_DATA test method (the account methods come later)."""

    def whoami(call):
        return {"accountId": call.api_key.account_id}

    method(
        server.services.registry,
        "test.whoami",
        weight=3,
        security=Security.USER_DATA,
        rest=[("GET", "/api/v3/testWhoami")],
    )(whoami)
    return server


async def _ed25519_account(server) -> tuple[dict[str, Any], str]:
    """An account with an Ed25519 key, and that key's private half as PKCS#8 PEM."""
    private, public_pem = ed25519_pair()
    account = await server.create_account(keyType="ED25519", publicKey=public_pem)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return account, private_pem


async def _rest_json(server, path: str) -> Any:
    async with server.session.get(server.base + path) as resp:
        assert resp.status == 200
        return await resp.json(content_type=None)


def _filters(symbol_info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in symbol_info["filters"]}


def _assert_recent_ms(server_time: int) -> None:
    assert abs(server_time - int(time.time() * 1000)) < 5000


async def _in_thread(fn: Callable[[], T]) -> T:
    """Run a blocking client call in a worker thread with its own (closed afterwards) loop.

    python-binance's constructor calls `asyncio.get_event_loop()`, which in a worker thread would
    otherwise create a loop that is never closed (a ResourceWarning when the thread ends).
    """

    def run() -> T:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return fn()
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    return await asyncio.to_thread(run)


# --- python-binance ---------------------------------------------------------------------------


def _python_binance_classes(server) -> tuple[type[Client], type[AsyncClient]]:
    """Subclasses pointing the testnet URLs at localspot, as in the README."""

    class LocalSpot(Client):
        API_TESTNET_URL = f"{server.base}/api"
        WS_API_TESTNET_URL = server.ws_api_url

    class AsyncLocalSpot(AsyncClient):
        API_TESTNET_URL = f"{server.base}/api"
        WS_API_TESTNET_URL = server.ws_api_url

    return LocalSpot, AsyncLocalSpot


async def _python_binance_async(server, api_key=None, api_secret=None, **kw) -> AsyncClient:
    _, cls = _python_binance_classes(server)
    client = await cls.create(api_key, api_secret, testnet=True, **kw)
    # The read loop waits this long for a frame before it notices a close; keep closing quick.
    client.ws_api.TIMEOUT = 0.2
    return client


async def test_python_binance_readme_example(server):
    sync_cls, _ = _python_binance_classes(server)

    def readme() -> tuple[Any, Any, Any]:
        client = sync_cls("key", "secret", testnet=True)  # pings at construction
        try:
            return (
                client.get_server_time(),
                client.get_exchange_info(),
                client.get_symbol_info("BTCUSDT"),
            )
        finally:
            client.close_connection()

    server_time, info, btcusdt = await _in_thread(readme)
    _assert_recent_ms(server_time["serverTime"])
    assert [s["symbol"] for s in info["symbols"]] == DEFAULT_SYMBOLS
    assert btcusdt["filters"][0] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.01000000",
    }


async def test_python_binance_rest_general(server):
    client = await _python_binance_async(server)
    try:
        assert await client.ping() == {}
        _assert_recent_ms((await client.get_server_time())["serverTime"])
        # create() measured the offset to our clock.
        assert abs(client.timestamp_offset) < 5000
        info = await client.get_exchange_info()
        assert [s["symbol"] for s in info["symbols"]] == DEFAULT_SYMBOLS
        assert client.response.headers["X-MBX-USED-WEIGHT-1M"].isdigit()
        btcusdt = await client.get_symbol_info("BTCUSDT")
        filters = _filters(btcusdt)
        assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
        assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
        assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
        assert await client.get_symbol_info("NOPEUSDT") is None
    finally:
        await client.close_connection()


async def test_python_binance_rest_invalid_symbol_is_1121(server):
    client = await _python_binance_async(server)
    try:
        with pytest.raises(BinanceAPIException) as caught:
            await client._get("exchangeInfo", data={"symbol": "NOPE"})
    finally:
        await client.close_connection()
    assert caught.value.status_code == 400
    assert caught.value.code == -1121
    assert caught.value.message == "Invalid symbol."


async def test_python_binance_rest_wrong_secret_is_1022(signed_server):
    account = await signed_server.create_account()
    client = await _python_binance_async(signed_server, account["apiKey"], WRONG_SECRET)
    try:
        with pytest.raises(BinanceAPIException) as caught:
            await client._get("testWhoami", signed=True, data={})
    finally:
        await client.close_connection()
    assert caught.value.status_code == 400
    assert caught.value.code == -1022
    assert caught.value.message == "Signature for this request is not valid."


async def test_python_binance_ws_api(server):
    client = await _python_binance_async(server)
    try:
        _assert_recent_ms((await client.ws_get_time())["serverTime"])
        info = await client.ws_get_exchange_info(symbol="ETHBTC")
        assert [s["symbol"] for s in info["symbols"]] == ["ETHBTC"]
        assert info["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        assert await client.ws_ping() == {}
        with pytest.raises(BinanceAPIException) as caught:
            await client.ws_get_exchange_info(symbol="NOPE")
        assert (caught.value.status_code, caught.value.code) == (400, -1121)
    finally:
        await client.close_connection()


@pytest.mark.parametrize("key_type", ["HMAC_SHA256", "ED25519"])
async def test_python_binance_signed_both_wires(signed_server, key_type):
    if key_type == "ED25519":
        account, private_pem = await _ed25519_account(signed_server)
        credentials: dict[str, Any] = {"private_key": private_pem}
    else:
        account = await signed_server.create_account()
        credentials = {"api_secret": account["secretKey"]}
    client = await _python_binance_async(signed_server, account["apiKey"], **credentials)
    expected = {"accountId": account["accountId"]}
    try:
        # No signed spot method is served yet: the generic helpers reach the test method.
        assert await client._get("testWhoami", signed=True, data={}) == expected
        assert await client._ws_api_request("test.whoami", True, {}) == expected
    finally:
        await client.close_connection()


# --- binance-sdk-spot -------------------------------------------------------------------------


def _sdk_rest(server, **config: Any) -> Spot:
    return Spot(config_rest_api=ConfigurationRestAPI(base_path=server.base, **config))


def _close_sdk_rest(client: Spot) -> None:
    # SpotRestAPI has no close(); its requests.Session would otherwise leak a pooled socket.
    client.rest_api._session.close()


def _warnings_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _assert_no_model_fallback(caplog) -> None:
    """The SDK logs (and relaxes the model, for good) when our JSON does not fit its types."""
    assert _warnings_logged(caplog) == []


async def test_sdk_rest_general(server, caplog):
    client = _sdk_rest(server)

    def calls() -> tuple[Any, Any, Any]:
        try:
            return (
                client.rest_api.ping(),
                client.rest_api.time(),
                client.rest_api.exchange_info(symbol="BTCUSDT"),
            )
        finally:
            _close_sdk_rest(client)

    with caplog.at_level(logging.WARNING):
        ping, server_time, info = await _in_thread(calls)
        time_data = server_time.data()
        info_data = info.data()
    _assert_no_model_fallback(caplog)

    assert ping.status == 200
    assert isinstance(time_data, RestTimeResponse)
    _assert_recent_ms(time_data.server_time)
    assert isinstance(info_data, ExchangeInfoResponse)
    assert info_data.timezone == "UTC"
    assert [s.symbol for s in info_data.symbols] == ["BTCUSDT"]
    btcusdt = info_data.symbols[0]
    assert (btcusdt.base_asset, btcusdt.quote_asset) == ("BTC", "USDT")
    price_filter = btcusdt.filters[0].actual_instance
    assert price_filter.filter_type == "PRICE_FILTER"
    assert price_filter.tick_size == "0.01000000"
    assert info_data.rate_limits[0].limit == 6000
    weights = {(r.rateLimitType, r.interval, r.intervalNum): r.count for r in info.rate_limits}
    assert weights[("REQUEST_WEIGHT", "MINUTE", 1)] == 1 + 1 + 20


async def test_sdk_rest_invalid_symbol_is_bad_request(server):
    client = _sdk_rest(server)

    def call() -> Any:
        try:
            return client.rest_api.exchange_info(symbol="NOPE")
        finally:
            _close_sdk_rest(client)

    with pytest.raises(BadRequestError) as caught:
        await _in_thread(call)
    # The SDK puts Binance's error code in `status_code`.
    assert caught.value.status_code == -1121
    assert caught.value.error_message == "Invalid symbol."


@pytest.mark.parametrize(
    ("key_type", "wrong"), [("HMAC_SHA256", False), ("HMAC_SHA256", True), ("ED25519", False)]
)
async def test_sdk_rest_signed(signed_server, key_type, wrong):
    if key_type == "ED25519":
        account, private_pem = await _ed25519_account(signed_server)
        client = _sdk_rest(signed_server, api_key=account["apiKey"], private_key=private_pem)
    else:
        account = await signed_server.create_account()
        secret = WRONG_SECRET if wrong else account["secretKey"]
        client = _sdk_rest(signed_server, api_key=account["apiKey"], api_secret=secret)

    def call() -> Any:
        # SpotRestAPI.send_signed_request() is broken in this SDK version (it subscripts a plain
        # function: `send_request[T](...)` -> TypeError), so call the helper every typed method
        # uses, with the same session, configuration and signing.
        rest_api = client.rest_api
        try:
            return send_request(
                rest_api._session,
                rest_api.configuration,
                "GET",
                "/api/v3/testWhoami",
                is_signed=True,
                signer=rest_api._signer,
            ).data()
        finally:
            _close_sdk_rest(client)

    if wrong:
        with pytest.raises(BadRequestError) as caught:
            await _in_thread(call)
        assert caught.value.status_code == -1022
    else:
        assert await _in_thread(call) == {"accountId": account["accountId"]}


# binance_common passes `timeout=<float>` to aiohttp's ws_connect, deprecated in aiohttp 3.12+;
# with warnings as errors the deprecation would abort the connection.
@pytest.mark.filterwarnings("ignore:parameter 'timeout' of type 'float':DeprecationWarning")
async def test_sdk_ws_api(server, caplog):
    client = Spot(config_ws_api=ConfigurationWebSocketAPI(stream_url=server.ws_api_url))
    ws_api = client.websocket_api
    try:
        connection = await ws_api.create_connection()
        assert connection is not None, caplog.text  # create_connection() logs and returns None
        with caplog.at_level(logging.WARNING):
            server_time = await connection.time()
            info = await connection.exchange_info(symbol="BNBBTC")
            bad = await connection.exchange_info(symbol="NOPE")
        time_data = server_time.data()
        info_data = info.data()
    finally:
        await ws_api.close_connection(close_session=True)

    assert isinstance(time_data, WsTimeResponse)
    assert time_data.status == 200
    _assert_recent_ms(time_data.result.server_time)
    assert server_time.rate_limits[0].rateLimitType == "REQUEST_WEIGHT"
    # This SDK validates the whole envelope against the *result* model of exchangeInfo (so the
    # envelope's rateLimits land in `rate_limits` and `result` in additional_properties), as it
    # would with the real testnet; validate our `result` against that model as well.
    assert isinstance(info_data, WsExchangeInfoResponse)
    assert info_data.rate_limits[0].count == 2 + 1 + 20  # connection, time, exchangeInfo
    result = WsExchangeInfoResponse.from_dict(info_data.additional_properties["result"])
    assert result.timezone == "UTC"
    _assert_recent_ms(result.server_time)
    assert [s.symbol for s in result.symbols] == ["BNBBTC"]
    assert result.symbols[0].filters[1].actual_instance.step_size == "0.00100000"
    # WebSocket API errors do not raise: the SDK logs them and hands back {"error": ...}.
    assert bad.data() == {"error": {"code": -1121, "msg": "Invalid symbol."}}
    assert [m for m in _warnings_logged(caplog) if "Invalid symbol" not in m] == []


# --- ccxt -------------------------------------------------------------------------------------


def _ccxt(server, api_key: str | None = None, secret: str | None = None) -> ccxt_async.binance:
    exchange = ccxt_async.binance(
        {
            "apiKey": api_key,
            "secret": secret,
            "options": {
                "fetchMarkets": {"types": ["spot"]},  # no fapi/dapi/eapi exchangeInfo
                "fetchCurrencies": False,  # sapi capital/config/getall is not served
            },
        }
    )
    exchange.set_sandbox_mode(True)
    api = f"{server.base}/api"
    exchange.urls["api"] = {
        **exchange.urls["api"],
        "public": f"{api}/v3",
        "private": f"{api}/v3",
        "v1": f"{api}/v1",
    }
    return exchange


async def test_ccxt_time_and_markets(server):
    expected = _filters(
        (await _rest_json(server, "/api/v3/exchangeInfo?symbol=BTCUSDT"))["symbols"][0]
    )
    exchange = _ccxt(server)
    try:
        _assert_recent_ms(await exchange.fetch_time())
        markets = await exchange.load_markets()
    finally:
        await exchange.close()

    assert sorted(markets) == ["BNB/BTC", "BNB/USDT", "BTC/USDT", "ETH/BTC", "ETH/USDT"]
    market = markets["BTC/USDT"]
    assert (market["id"], market["base"], market["quote"]) == ("BTCUSDT", "BTC", "USDT")
    assert market["spot"] is True
    assert market["active"] is True
    precision = market["precision"]
    assert Decimal(str(precision["price"])) == Decimal(expected["PRICE_FILTER"]["tickSize"])
    assert Decimal(str(precision["amount"])) == Decimal(expected["LOT_SIZE"]["stepSize"])
    limits = market["limits"]
    assert Decimal(str(limits["price"]["min"])) == Decimal(expected["PRICE_FILTER"]["minPrice"])
    assert Decimal(str(limits["price"]["max"])) == Decimal(expected["PRICE_FILTER"]["maxPrice"])
    assert Decimal(str(limits["amount"]["min"])) == Decimal(expected["LOT_SIZE"]["minQty"])
    assert Decimal(str(limits["amount"]["max"])) == Decimal(expected["LOT_SIZE"]["maxQty"])
    assert Decimal(str(limits["cost"]["min"])) == Decimal(expected["NOTIONAL"]["minNotional"])
    assert Decimal(str(limits["market"]["max"])) == Decimal(expected["MARKET_LOT_SIZE"]["maxQty"])


async def test_ccxt_invalid_symbol_is_bad_symbol(server):
    exchange = _ccxt(server)
    try:
        with pytest.raises(ccxt_async.BadSymbol, match="-1121"):
            await exchange.publicGetExchangeInfo({"symbol": "NOPE"})
    finally:
        await exchange.close()


@pytest.mark.parametrize("key_type", ["HMAC_SHA256", "ED25519"])
async def test_ccxt_signed(signed_server, key_type):
    if key_type == "ED25519":
        account, secret = await _ed25519_account(signed_server)  # ccxt takes the PEM as secret
    else:
        account = await signed_server.create_account()
        secret = account["secretKey"]
    exchange = _ccxt(signed_server, account["apiKey"], secret)
    try:
        # No private spot endpoint is served yet: the generic request reaches the test method.
        response = await exchange.request("testWhoami", ["private"], "GET")
    finally:
        await exchange.close()
    assert response == {"accountId": account["accountId"]}


async def test_ccxt_wrong_secret_is_authentication_error(signed_server):
    account = await signed_server.create_account()
    exchange = _ccxt(signed_server, account["apiKey"], WRONG_SECRET)
    try:
        with pytest.raises(ccxt_async.AuthenticationError, match="-1022"):
            await exchange.request("testWhoami", ["private"], "GET")
    finally:
        await exchange.close()
