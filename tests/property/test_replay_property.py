"""Replaying the journal gives the live state: random command sequences, both storages.

Commands (accounts, balance changes, external locks, every order type, cancels, amends, API
keys) are applied to a live engine and journaled; snapshots are taken at random points. Recovery
(newest snapshot + journal tail) and a replay from scratch (`verify`) must both give the live
state's digest.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localspot.app import build_services
from localspot.auth.keys import KeyStore
from localspot.auth.signatures import KeyType
from localspot.config import Config
from localspot.domain import commands as c
from localspot.domain.enums import OrderType, Side, StpMode, TimeInForce
from localspot.domain.numbers import Scaled
from localspot.storage import engine_factory
from localspot.storage.memory import MemoryStorage
from localspot.storage.persistence import apply_entry, recover, verify
from localspot.storage.protocol import Record, Snapshot
from localspot.storage.records import KeyCreated, KeyRevoked
from localspot.storage.snapshot import capture, encode_snapshot, fingerprint, state_digest
from localspot.storage.sqlite import SqliteStorage

SYMBOLS = build_services(Config()).symbols
NEW_ENGINE = engine_factory(SYMBOLS)
FINGERPRINT = fingerprint(SYMBOLS)
ACCOUNTS = st.integers(1, 3)
QTY = st.integers(1, 30).map(lambda n: Decimal(n) / 1000)
PRICE = st.integers(-6, 6).map(lambda k: Scaled(30000 + 5 * k))
AMOUNT = QTY.map(Scaled.of)  # an order's amounts travel as Scaled

place = st.builds(
    c.PlaceOrder,
    account_id=ACCOUNTS,
    symbol=st.just("BTCUSDT"),
    side=st.sampled_from(Side),
    order_type=st.sampled_from([OrderType.LIMIT, OrderType.MARKET, OrderType.LIMIT_MAKER]),
    time_in_force=st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
    quantity=AMOUNT,
    price=PRICE,
    iceberg_qty=st.none() | st.just(Scaled(2, -3)),
    stp_mode=st.none() | st.sampled_from([StpMode.EXPIRE_TAKER, StpMode.DECREMENT]),
).map(_fix := lambda p: p if p.order_type is OrderType.LIMIT else _plain(p))


def _plain(order: c.PlaceOrder) -> c.PlaceOrder:
    # MARKET has no price/timeInForce, LIMIT_MAKER no timeInForce: keep most commands valid.
    price = None if order.order_type is OrderType.MARKET else order.price
    return c.PlaceOrder(
        order.account_id, order.symbol, order.side, order.order_type, None, order.quantity,
        price=price, stp_mode=order.stp_mode,
    )  # fmt: skip


commands = st.one_of(
    place,
    place,
    place,
    st.builds(c.CancelOrder, ACCOUNTS, st.just("BTCUSDT"), order_id=st.integers(1, 30)),
    st.builds(c.CancelOpenOrders, ACCOUNTS, st.just("BTCUSDT")),
    st.builds(c.AmendOrder, ACCOUNTS, st.just("BTCUSDT"), AMOUNT, order_id=st.integers(1, 30)),
    st.builds(c.ChangeBalance, ACCOUNTS, st.sampled_from(["BTC", "USDT"]), QTY, st.just("add")),
    st.builds(c.LockBalance, ACCOUNTS, st.just("BTC"), QTY | QTY.map(lambda q: -q)),
    st.builds(lambda i: ("key", i), st.integers(0, 5)),
    st.just("snapshot"),
)
FUNDING = (((("BTC", Decimal(5)), ("USDT", Decimal(500000)))),)


def run(storage, steps: list[object]) -> tuple[object, KeyStore]:
    engine, keys, funding = NEW_ENGINE(), KeyStore(), []
    seq, now_ms, batch = 0, 1_700_000_000_000, []

    def journal(entry: object) -> None:
        nonlocal seq
        seq += 1
        apply_entry(engine, keys, funding, entry, now_ms)
        batch.append(Record(seq, now_ms, entry))

    for _ in range(3):
        journal(c.CreateAccount(FUNDING[0]))
    for step in steps:
        now_ms += 7
        if step == "snapshot":
            blob = encode_snapshot(capture(engine, keys, funding), FINGERPRINT)
            storage.commit([*batch, Snapshot(seq, now_ms, blob)])
            batch.clear()
        elif isinstance(step, tuple):
            live = [k.api_key for a in (1, 2, 3) for k in keys.of_account(a)]
            if step[1] < len(live):
                journal(KeyRevoked(live[step[1]]))
            else:
                name = f"key{seq}"
                journal(KeyCreated(1 + step[1] % 3, name, KeyType.HMAC_SHA256, ("TRADE",), "s"))
        else:
            journal(step)
    storage.commit(batch)
    return engine, keys


def check(storage_factory, steps) -> None:
    storage = storage_factory()
    try:
        engine, keys = run(storage, steps)
        replayed = recover(storage, NEW_ENGINE, FINGERPRINT)
        assert state_digest(replayed.engine, replayed.keys) == state_digest(engine, keys)
        assert verify(storage, NEW_ENGINE, FINGERPRINT).differences == []
    finally:
        storage.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands, max_size=60))
def test_memory_replay_equals_live_state(steps):
    check(MemoryStorage, steps)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands, max_size=60))
def test_sqlite_replay_equals_live_state(steps):
    with tempfile.TemporaryDirectory() as directory:
        check(lambda: SqliteStorage(Path(directory)), steps)
        # And once more after reopening the file.
        storage = SqliteStorage(Path(directory))
        try:
            assert verify(storage, NEW_ENGINE, FINGERPRINT).ok
        finally:
            storage.close()


def test_verify_reports_a_snapshot_that_disagrees():
    storage = MemoryStorage()
    _, keys = run(storage, [])
    other = NEW_ENGINE()
    other.apply(c.CreateAccount(FUNDING[0]), 1)
    blob = encode_snapshot(capture(other, keys, []), FINGERPRINT)
    storage.commit([Snapshot(storage.last_seq(), 1, blob)])
    result = verify(storage, NEW_ENGINE, FINGERPRINT)
    assert not result.ok
    assert any(d.startswith("/accounts/2") for d in result.differences)
