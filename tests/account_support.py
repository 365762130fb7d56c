"""Helpers for the account-method tests: a funded account that calls signed methods on both
wires, and orders placed straight through the engine door (`Services.execute`).

The server runs on a `FakeClock`, so every signature uses that clock's time and tests move
time by hand (`trader.clock.advance(ms)`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localspot.clock import FakeClock
from localspot.domain.commands import AmendOrder, PlaceOrder
from localspot.domain.enums import OrderType, Side, StpMode, TimeInForce
from localspot.domain.events import CommandRejected, OrderAccepted
from localspot.domain.numbers import Scaled
from localspot.domain.orders import Order
from support import Server, WsClient, sign_rest_hmac, sign_ws_hmac

START_MS = 1_700_000_000_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass
class Trader:
    """One account on a server: signed WebSocket API and REST calls, engine-door orders."""

    server: Server
    clock: FakeClock
    account: dict[str, Any]
    ws: WsClient

    @property
    def account_id(self) -> int:
        return self.account["accountId"]

    def _signed(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "timestamp": self.clock.now_ms()}

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a signed WebSocket API request; return the whole envelope."""
        signed = sign_ws_hmac(
            self._signed(params), self.account["apiKey"], self.account["secretKey"]
        )
        return await self.ws.call(method, signed)

    async def ok(self, method: str, **params: Any) -> Any:
        """Call and return the result, asserting success."""
        response = await self.call(method, **params)
        assert response["status"] == 200, response
        return response["result"]

    async def error(self, method: str, **params: Any) -> dict[str, Any]:
        """Call and return the error object, asserting a 400."""
        response = await self.call(method, **params)
        assert response["status"] == 400, response
        return response["error"]

    async def weight_of(self, method: str, **params: Any) -> int:
        """Return the REQUEST_WEIGHT a call adds (the clock stands still between calls)."""
        before = await self.call("ping")
        after = await self.call(method, **params)
        return _weight(after) - _weight(before)

    async def rest(
        self, path: str, headers: dict[str, str] | None = None, **params: Any
    ) -> tuple[int, Any, Any]:
        """Send a signed REST GET; return (status, decoded JSON keeping key order, headers)."""
        query = sign_rest_hmac(self._signed(params), self.account["secretKey"])
        request_headers = {"X-MBX-APIKEY": self.account["apiKey"], **(headers or {})}
        url = f"{self.server.base}{path}?{query}"
        async with self.server.session.get(url, headers=request_headers) as resp:
            return resp.status, json.loads(await resp.text()), resp.headers

    async def rest_weight_of(self, path: str, **params: Any) -> int:
        """Return the REQUEST_WEIGHT a REST call adds (per IP, shared with the WebSocket API)."""
        async with self.server.session.get(f"{self.server.base}/api/v3/ping") as resp:
            before = int(resp.headers["X-MBX-USED-WEIGHT-1M"])
        status, body, headers = await self.rest(path, **params)
        assert status == 200, body
        return int(headers["X-MBX-USED-WEIGHT-1M"]) - before

    async def place(
        self,
        side: Side,
        quantity: str,
        price: str,
        *,
        symbol: str = "BTCUSDT",
        stp_mode: StpMode = StpMode.NONE,
        client_order_id: str | None = None,
        order_type: OrderType = OrderType.LIMIT,
        **extra: Any,
    ) -> Order:
        """Place a GTC LIMIT order (by default) through the engine door."""
        command = PlaceOrder(
            account_id=self.account_id,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=TimeInForce.GTC if order_type is OrderType.LIMIT else None,
            quantity=Scaled.parse(quantity),
            price=Scaled.parse(price),
            stp_mode=stp_mode,
            client_order_id=client_order_id,
            **extra,
        )
        events = await self.server.services.execute(command)
        rejected = [e for e in events if isinstance(e, CommandRejected)]
        assert not rejected, rejected
        return next(e.order for e in events if isinstance(e, OrderAccepted))

    async def amend(self, order: Order, new_qty: str, new_client_order_id: str | None = None):
        events = await self.server.services.execute(
            AmendOrder(
                account_id=self.account_id,
                symbol=order.symbol,
                new_qty=Scaled.parse(new_qty),
                order_id=order.order_id,
                new_client_order_id=new_client_order_id,
            )
        )
        assert not [e for e in events if isinstance(e, CommandRejected)], events
        return events


def _weight(response: dict[str, Any]) -> int:
    (usage,) = [r for r in response["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT"]
    return usage["count"]


async def new_trader(server: Server, clock: FakeClock, **account: Any) -> Trader:
    """Create an account on `server` and open a WebSocket API connection for it."""
    created = await server.create_account(**account)
    return Trader(server, clock, created, await server.ws())
