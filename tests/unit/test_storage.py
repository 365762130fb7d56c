"""One suite, two storages (memory, SQLite), plus the codec and SQLite's own guarantees."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import typing
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from localspot.auth.signatures import KeyType
from localspot.domain import commands as c
from localspot.domain.accounts import CommissionRates
from localspot.domain.enums import (
    CancelRestrictions,
    OrderType,
    PegPriceType,
    Side,
    StpMode,
    TimeInForce,
)
from localspot.domain.numbers import Scaled
from localspot.storage.codec import Codec, CodecError, _encode_value, _field_types, default_codec
from localspot.storage.memory import MemoryStorage
from localspot.storage.protocol import Clear, Record, Snapshot, Storage, StorageError
from localspot.storage.records import KeyCreated, KeyRevoked
from localspot.storage.sqlite import DB_NAME, SqliteStorage

ENTRIES = [
    c.CreateAccount(
        (("BTC", Decimal("1.5")), ("USDT", Decimal("100"))),
        CommissionRates(maker=Decimal("0.001")),
        ("SPOT",),
        7,
    ),
    c.ChangeBalance(1, "BTC", Decimal("-0.00000001"), "add"),
    c.LockBalance(1, "BTC", Decimal("-0.5")),
    c.PlaceOrder(
        1,
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT,
        TimeInForce.GTC,
        quantity=Scaled.parse("0.10000000"),
        price=Scaled.parse("30000"),
        client_order_id="x",
        stp_mode=StpMode.EXPIRE_BOTH,
        trailing_delta=None,
    ),
    c.CancelOrder(1, "BTCUSDT", order_id=3, cancel_restrictions=CancelRestrictions.ONLY_NEW),
    c.CancelOpenOrders(2, "ETHUSDT"),
    c.AmendOrder(1, "BTCUSDT", Scaled.parse("0.05"), order_id=1),
    KeyCreated(1, "k", KeyType.HMAC_SHA256, ("TRADE", "USER_DATA"), secret_key="s"),
    KeyRevoked("k"),
]
ROUND_TRIPS = [
    *ENTRIES,
    c.PlaceOrder(  # every optional field sent
        2,
        "ETHUSDT",
        Side.SELL,
        OrderType.STOP_LOSS_LIMIT,
        TimeInForce.IOC,
        quantity=Scaled.parse("1.0"),
        quote_order_qty=Scaled.parse("2.50"),
        price=Scaled.parse("3"),
        stop_price=Scaled.parse("4.000"),
        trailing_delta=50,
        iceberg_qty=Scaled.parse("0.5"),
        client_order_id="y",
        strategy_id=6,
        strategy_type=1_000_000,
        stp_mode=StpMode.NONE,
        peg_price_type=PegPriceType.PRIMARY_PEG,
        peg_offset_value=2,
        peg_offset_type="PRICE_LEVEL",
    ),
    c.AmendOrder(1, "BTCUSDT", Scaled.parse("1E-8"), None, "a", "b"),
]


@pytest.fixture(params=["memory", "sqlite"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Storage]:
    opened: list[Storage] = []

    def make() -> Storage:
        for storage in opened:  # reopening: the previous one is closed first
            storage.close()
        storage = MemoryStorage() if request.param == "memory" else SqliteStorage(tmp_path)
        if request.param == "memory" and opened:
            storage = opened[0]  # memory "reopens" as itself
        opened.append(storage)
        return storage

    yield make
    for storage in opened:
        storage.close()


def records(start: int, entries: list[object]) -> list[Record]:
    return [Record(start + i, 1000 + start + i, e) for i, e in enumerate(entries)]


def test_every_command_type_is_covered_by_the_codec():
    kinds = set(default_codec().kinds())
    assert {t.__name__ for t in typing.get_args(c.Command)} <= kinds
    assert {type(e).__name__ for e in ENTRIES} == kinds


@pytest.mark.parametrize("entry", ROUND_TRIPS, ids=lambda e: type(e).__name__)
def test_codec_round_trips_exactly(entry):
    codec = default_codec()
    kind, payload = codec.encode(entry)
    decoded = codec.decode(kind, payload)
    assert decoded == entry
    # Exactly: a Decimal keeps its exponent, an enum is not left a str (StrEnum equals its str).
    assert _leaves(decoded) == _leaves(entry)
    assert codec.from_json(codec.to_json(entry)) == entry


def _leaves(value: object) -> list[tuple[type, str]]:
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in _leaves(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [leaf for f in value.__dataclass_fields__ for leaf in _leaves(getattr(value, f))]
    return [(type(value), str(value))]


def test_codec_reads_order_amounts_written_as_decimals():
    # Journals written when commands carried Decimals hold Decimal's text, exponents included.
    payload = (
        b'{"account_id":1,"symbol":"BTCUSDT","side":"BUY","order_type":"LIMIT",'
        b'"time_in_force":"GTC","quantity":"1E-8","price":"30000.10","stop_price":"5E+3"}'
    )
    order = default_codec().decode("PlaceOrder", payload)
    assert (order.quantity, order.price, order.stop_price) == (
        Scaled(1, -8),
        Scaled(300001, -1),
        Scaled(5, 3),
    )
    amend = default_codec().decode("AmendOrder", b'{"account_id":1,"symbol":"X","new_qty":"0.50"}')
    assert amend.new_qty == Scaled(5, -1)
    with pytest.raises(CodecError, match="not a decimal number"):
        default_codec().decode("AmendOrder", b'{"account_id":1,"symbol":"X","new_qty":"1.2.3"}')
    with pytest.raises(CodecError, match="decimal must be a string"):
        default_codec().decode("AmendOrder", b'{"account_id":1,"symbol":"X","new_qty":1}')


@pytest.mark.parametrize("entry", ROUND_TRIPS, ids=lambda e: type(e).__name__)
def test_codec_encodes_as_the_plain_json_of_its_fields(entry):
    # `encode` lets orjson walk the dataclass; the bytes are those of the field-by-field form.
    assert default_codec().encode(entry)[1] == orjson.dumps(_encode_value(entry))


def test_codec_bytes_are_the_same_in_either_build():
    kind, payload = default_codec().encode(ENTRIES[0])
    assert kind == "CreateAccount"
    assert payload == (
        b'{"balances":[["BTC","1.5"],["USDT","100"]],'
        b'"commission":{"maker":"0.001","taker":"0","buyer":"0","seller":"0"},'
        b'"permissions":["SPOT"],"trade_group_id":7}'
    )
    _, payload = default_codec().encode(c.CancelOrder(1, "X", orig_client_order_id="o"))
    assert payload == (
        b'{"account_id":1,"symbol":"X","order_id":null,"orig_client_order_id":"o",'
        b'"new_client_order_id":null,"cancel_restrictions":null}'
    )


def test_codec_reads_every_field_type_as_declared():
    # From the source: compiled by mypyc, the classes' own annotations are erased.
    types = [*{type(e): None for e in ENTRIES}, CommissionRates]
    for cls in types:
        declared = _field_types(cls)
        assert list(declared) == [f.name for f in dataclasses.fields(cls)]
        if not hasattr(cls, "__mypyc_attrs__"):  # interpreted: its type hints are intact
            assert declared == typing.get_type_hints(cls)
    assert _field_types(c.PlaceOrder)["price"] == Scaled | None
    assert _field_types(c.PlaceOrder)["stp_mode"] == StpMode | None
    assert _field_types(c.CreateAccount)["balances"] == tuple[tuple[str, Decimal], ...]


def test_codec_refuses_a_type_whose_declaration_it_cannot_read():
    @dataclasses.dataclass(frozen=True)
    class Local:
        x: int

    with pytest.raises(TypeError, match="Local: no top-level class statement"):
        Codec([Local])


def test_codec_refuses_what_it_cannot_encode():
    with pytest.raises(CodecError, match="cannot encode object value"):
        default_codec().encode(KeyRevoked(object()))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="Teleport is not a journal entry type"):
        default_codec().encode(type("Teleport", (), {})())


def test_codec_fills_missing_fields_with_defaults_and_refuses_unknown_ones():
    codec = default_codec()
    assert codec.decode("CancelOpenOrders", b'{"account_id":1,"symbol":"X"}') == (
        c.CancelOpenOrders(1, "X")
    )
    with pytest.raises(CodecError, match="unknown field"):
        codec.decode("CancelOpenOrders", b'{"account_id":1,"symbol":"X","new":1}')
    with pytest.raises(CodecError, match="unknown journal entry kind 'Teleport'"):
        codec.decode("Teleport", b"{}")
    with pytest.raises(CodecError, match="decimal must be a string"):
        codec.decode("AmendOrder", b'{"account_id":1,"symbol":"X","new_qty":0.1}')


def test_commit_then_read_back(make_storage):
    storage = make_storage()
    assert (storage.last_seq(), list(storage.records()), storage.latest_snapshot()) == (0, [], None)
    storage.commit(records(1, ENTRIES[:3]))
    storage.commit([*records(4, ENTRIES[3:5]), Snapshot(5, 42, b"blob")])
    storage.commit(records(6, ENTRIES[5:]))
    assert list(storage.records()) == records(1, ENTRIES)
    assert [r.seq for r in storage.records(after_seq=5)] == [6, 7, 8, 9]
    assert storage.latest_snapshot() == Snapshot(5, 42, b"blob")
    assert storage.last_seq() == 9


def test_prepared_records_read_back_as_records(make_storage):
    storage = make_storage()
    many = ENTRIES * 20  # more rows than one INSERT statement holds
    prepared = [storage.prepare(r.seq, r.now_ms, r.entry) for r in records(1, many)]
    storage.commit(prepared[:3])
    storage.commit([*prepared[3:], *records(len(many) + 1, ENTRIES[:1])])
    assert list(storage.records()) == records(1, [*many, ENTRIES[0]])
    assert storage.last_seq() == len(many) + 1
    assert not storage.checkpoint_due()
    storage.checkpoint()  # nothing to fold yet: harmless
    assert list(make_storage().records()) == records(1, [*many, ENTRIES[0]])


def test_clear_forgets_journal_and_snapshots_but_not_the_sequence(make_storage):
    storage = make_storage()
    storage.commit([*records(1, ENTRIES[:2]), Snapshot(2, 1, b"old")])
    storage.commit([Clear(), *records(3, ENTRIES[2:3])])
    assert [r.seq for r in storage.records()] == [3]
    assert storage.latest_snapshot() is None
    storage = make_storage()
    assert storage.last_seq() == 3
    storage.commit([Clear()])
    assert make_storage().last_seq() == 3


def test_state_survives_reopening(make_storage):
    storage = make_storage()
    storage.commit([*records(1, ENTRIES), Snapshot(4, 9, b"snap")])
    storage = make_storage()
    assert list(storage.records()) == records(1, ENTRIES)
    assert storage.latest_snapshot() == Snapshot(4, 9, b"snap")
    assert storage.last_seq() == len(ENTRIES)


def test_newest_snapshot_wins(make_storage):
    storage = make_storage()
    storage.commit(records(1, ENTRIES[:3]))
    for seq in (1, 2, 3):
        storage.commit([Snapshot(seq, seq, b"s%d" % seq)])
    assert storage.latest_snapshot() == Snapshot(3, 3, b"s3")


# -- SQLite only ------------------------------------------------------------------------------


def _corrupt(path: Path, seq: int, payload: bytes) -> None:
    with sqlite3.connect(path / DB_NAME) as db:
        db.execute("UPDATE journal SET payload = ? WHERE seq = ?", (payload, seq))


def test_torn_tail_record_is_dropped_with_a_log_line(tmp_path, caplog):
    storage = SqliteStorage(tmp_path)
    storage.commit([*records(1, ENTRIES[:4]), Snapshot(4, 1, b"past the tear")])
    storage.close()
    _corrupt(tmp_path, 4, b'{"account_id":1,"sym')  # the last write, cut short
    with caplog.at_level(logging.WARNING, logger="localspot.storage"):
        storage = SqliteStorage(tmp_path)
    assert "dropping 1 unreadable journal record(s) at the tail (seq 4..4)" in caplog.text
    assert list(storage.records()) == records(1, ENTRIES[:3])
    assert storage.latest_snapshot() is None  # it included the dropped record
    storage.commit(records(4, ENTRIES[4:5]))  # the sequence goes on where the prefix ends
    assert [r.seq for r in storage.records()] == [1, 2, 3, 4]
    storage.close()


def test_corrupt_record_in_the_middle_is_refused(tmp_path):
    storage = SqliteStorage(tmp_path)
    storage.commit(records(1, ENTRIES[:4]))
    storage.close()
    _corrupt(tmp_path, 2, b"{}")
    storage = SqliteStorage(tmp_path)
    with pytest.raises(StorageError, match=r"seq 2 .* is corrupt and is not the last one"):
        list(storage.records())
    storage.close()


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    SqliteStorage(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="written by a newer localspot \\(schema version 99"):
        SqliteStorage(tmp_path)


def test_older_schema_without_migration_is_refused(tmp_path):
    SqliteStorage(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 0, which this localspot cannot"):
        SqliteStorage(tmp_path)


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    from localspot.storage import sqlite as module

    SqliteStorage(tmp_path).close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    migrated = []
    monkeypatch.setitem(module.MIGRATIONS, 0, migrated.append)
    storage = SqliteStorage(tmp_path)
    storage.close()
    assert len(migrated) == 1
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert version == ("1",)


def test_a_foreign_file_is_refused(tmp_path):
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute("CREATE TABLE orders (id INTEGER)")
    with pytest.raises(StorageError, match="is not a localspot data file"):
        SqliteStorage(tmp_path)


def test_a_data_dir_is_used_by_one_server_at_a_time(tmp_path):
    first = SqliteStorage(tmp_path)
    with pytest.raises(StorageError, match="is in use by another localspot process"):
        SqliteStorage(tmp_path)
    first.close()
    SqliteStorage(tmp_path).close()


def test_read_only_opening_needs_an_existing_dir(tmp_path):
    with pytest.raises(StorageError, match="holds no localspot data"):
        SqliteStorage(tmp_path / "nothing", read_only=True)


def test_synchronous_level_is_checked(tmp_path):
    with pytest.raises(StorageError, match="synchronous must be one of"):
        SqliteStorage(tmp_path, synchronous="SOMETIMES")
