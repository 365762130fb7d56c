"""Helpers for the market data tests: a server on a FakeClock, two funded accounts, and orders
placed through the engine door (`Services.execute`), as the trading methods would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localspot.clock import FakeClock
from localspot.domain.commands import CancelOrder, PlaceOrder
from localspot.domain.enums import OrderType, Side, TimeInForce
from localspot.domain.events import Event, OrderAccepted
from localspot.domain.numbers import Scaled
from support import Server

START_MS = 1_700_000_040_000  # 2023-11-14 22:14:00 UTC, the start of a minute
SYMBOL = "BTCUSDT"


@dataclass
class Market:
    """A server with a maker and a taker account."""

    server: Server
    clock: FakeClock
    maker: int
    taker: int

    async def place(
        self,
        account: int,
        side: Side,
        qty: str,
        price: str | None = None,
        symbol: str = SYMBOL,
    ) -> list[Event]:
        """Place a LIMIT GTC order (or MARKET without a price)."""
        order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
        command = PlaceOrder(
            account,
            symbol,
            side,
            order_type,
            time_in_force=TimeInForce.GTC if price is not None else None,
            quantity=Scaled.parse(qty),
            price=Scaled.parse(price) if price is not None else None,
        )
        return await self.server.services.execute(command)

    async def rest_order(self, account: int, side: Side, qty: str, price: str) -> int:
        """Place a resting LIMIT order; return its order id."""
        events = await self.place(account, side, qty, price)
        accepted = [e for e in events if isinstance(e, OrderAccepted)]
        assert accepted, events
        return accepted[0].order.order_id

    async def cancel(self, account: int, order_id: int, symbol: str = SYMBOL) -> None:
        await self.server.services.execute(CancelOrder(account, symbol, order_id=order_id))

    async def sell_then_buy(self, price: str, qty: str) -> None:
        """Make one trade: the maker sells at `price`, the taker buys at market."""
        await self.place(self.maker, Side.SELL, qty, price)
        await self.place(self.taker, Side.BUY, qty)

    async def rest(self, path: str, **params: Any) -> tuple[int, Any, Any]:
        """GET a REST endpoint; return (status, JSON keeping key order, headers)."""
        query = "&".join(f"{k}={_text(v)}" for k, v in params.items())
        url = f"{self.server.base}{path}" + (f"?{query}" if query else "")
        async with self.server.session.get(url) as resp:
            return resp.status, json.loads(await resp.text()), resp.headers


def _text(value: Any) -> str:
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def open_market(server: Server, clock: FakeClock) -> Market:
    """Fund a maker and a taker account on `server`."""
    balances = {"BTC": "100", "USDT": "10000000", "ETH": "100", "BNB": "1000"}
    maker = await server.create_account(balances=balances)
    taker = await server.create_account(balances=balances)
    return Market(server, clock, maker["accountId"], taker["accountId"])
