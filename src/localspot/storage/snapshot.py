"""Snapshots of the whole state, and a digest of it for comparisons.

Format: `MAGIC`, one JSON header line `{"format", "fingerprint", "sha256"}`, then a pickle of
`State` (engine, live API keys as records, initial funding of accounts). Pickle keeps the
snapshot independent of the engine's internal field names (it is our own data in our own dir,
never loaded from elsewhere: `/admin/v1/import` takes the JSON journal, not snapshots).

A snapshot is a cache: the journal is kept whole (since the last reset), so a snapshot whose
fingerprint (a hash of the domain package's source and of the symbol configuration) differs
from the running code's, or whose checksum fails, is ignored and the journal is replayed from
the start instead. That is what makes an engine change between releases safe.

`state_view` builds a comparable picture from public queries only (accounts, balances, keys,
orders and their book positions, trades, next ids), so it survives internal refactoring;
`state_digest` hashes it.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import pickle
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

import orjson

from localspot.auth.keys import KeyStore
from localspot.domain.commands import CreateAccount
from localspot.domain.engine import Engine
from localspot.storage.records import KeyCreated, live_key_records

MAGIC = b"LOCALSPOT-SNAPSHOT\n"
FORMAT = 1


class SnapshotUnusable(ValueError):
    """This snapshot cannot be used (the message says why); replay the journal instead."""


@dataclass
class State:
    """Everything a snapshot restores."""

    engine: Engine
    keys: list[KeyCreated] = field(default_factory=list)
    funding: list[CreateAccount] = field(default_factory=list)


@functools.cache
def _domain_source_hash() -> str:
    digest = hashlib.sha256()
    package = resources.files("localspot.domain")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def fingerprint(symbols: Any) -> str:
    """Return the fingerprint of the engine code and the symbol configuration."""
    config = orjson.dumps(symbols, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(_domain_source_hash().encode() + config).hexdigest()[:32]


def encode_snapshot(state: State, fingerprint_: str) -> bytes:
    """Return the snapshot blob of `state`."""
    body = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    header = {"format": FORMAT, "fingerprint": fingerprint_, "sha256": _sha(body)}
    return MAGIC + orjson.dumps(header) + b"\n" + body


def decode_snapshot(blob: bytes, fingerprint_: str, *, check_fingerprint: bool = True) -> State:
    """Return the state in `blob`; SnapshotUnusable if it is foreign, stale or corrupt."""
    if not blob.startswith(MAGIC):
        raise SnapshotUnusable("not a localspot snapshot")
    header_line, sep, body = blob[len(MAGIC) :].partition(b"\n")
    try:
        header = orjson.loads(header_line)
    except orjson.JSONDecodeError:
        raise SnapshotUnusable("unreadable header") from None
    if not sep or header.get("format") != FORMAT:
        raise SnapshotUnusable(f"snapshot format {header.get('format')} (this reads {FORMAT})")
    if check_fingerprint and header.get("fingerprint") != fingerprint_:
        raise SnapshotUnusable("written by other engine code or another symbol configuration")
    if header.get("sha256") != _sha(body):
        raise SnapshotUnusable("checksum mismatch (corrupt)")
    try:
        state = pickle.loads(body)
    except Exception as exc:  # any unpickling failure means: do not use it
        raise SnapshotUnusable(f"cannot unpickle: {exc}") from None
    if not isinstance(state, State):
        raise SnapshotUnusable("unexpected content")
    return state


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def capture(engine: Engine, keys: KeyStore, funding: list[CreateAccount]) -> State:
    """Return the `State` to snapshot (the engine itself; pickle it before it changes)."""
    account_ids = sorted(a.account_id for a in engine.accounts)
    return State(engine, live_key_records(keys, account_ids), list(funding))


# -- comparing states ------------------------------------------------------------------------

_ORDER_FIELDS = (
    "order_id",
    "client_order_id",
    "account_id",
    "side",
    "type",
    "time_in_force",
    "status",
    "price",
    "orig_qty",
    "executed_qty",
    "cumulative_quote_qty",
    "stop_price",
    "iceberg_qty",
    "prevented_qty",
    "time_ms",
    "update_time_ms",
    "working_time_ms",
    "is_working",
    "expiry_reason",
)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value.normalize()) if value else "0"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [_plain(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _order_view(order: Any) -> list[Any]:
    return [_plain(getattr(order, name, None)) for name in _ORDER_FIELDS]


def state_view(engine: Engine, keys: KeyStore) -> dict[str, Any]:
    """Return a JSON-ready picture of the state built from public queries."""
    accounts = sorted(engine.accounts, key=lambda a: a.account_id)
    view: dict[str, Any] = {"accounts": {}, "markets": {}}
    for account in accounts:
        view["accounts"][str(account.account_id)] = {
            "balances": {
                asset: [_plain(b.free), _plain(b.locked)]
                for asset, b in sorted(account.balances.items())
                if b.free or b.locked  # a query may add an empty balance; it is not state
            },
            "commission": _plain(account.commission),
            "permissions": list(account.permissions),
            "tradeGroupId": account.trade_group_id,
            "updateTime": account.update_time_ms,
            "keys": sorted(_plain(k) for k in live_key_records(keys, [account.account_id])),
        }
    for symbol in sorted(engine.markets):
        market = engine.markets[symbol]
        ids = [a.account_id for a in accounts]
        view["markets"][symbol] = {
            "nextIds": [
                getattr(market, name, None)
                for name in (
                    "next_order_id",
                    "next_trade_id",
                    "next_prevented_match_id",
                    "next_execution_id",
                )
            ],
            "book": [order.order_id for order in market.book.orders()],
            "orders": [_order_view(o) for i in ids for o in engine.all_orders(i, symbol)],
            "trades": [_plain(t) for t in engine.trades(symbol)],
            "prevented": [_plain(p) for i in ids for p in engine.prevented_matches(i, symbol)],
            "lastPrice": _plain(engine.last_price(symbol)),
        }
    view["commissionCollected"] = {
        a: _plain(v) for a, v in sorted(engine.commission_collected.items())
    }
    return view


def state_digest(engine: Engine, keys: KeyStore) -> str:
    """Return a hash of `state_view` (equal digests: equal observable state)."""
    return _sha(orjson.dumps(state_view(engine, keys), option=orjson.OPT_SORT_KEYS))


def view_differences(left: dict[str, Any], right: dict[str, Any], limit: int = 10) -> list[str]:
    """Return up to `limit` paths where two state views differ."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), f"{path}/{key}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{i}]")
        else:
            out.append(f"{path}: {str(a)[:200]} != {str(b)[:200]}")

    walk(left, right, "")
    return out
