"""SQLite storage (stdlib `sqlite3`, WAL mode): the journal and snapshots of a data dir.

Layout of DIR: `localspot.sqlite3` (+ its `-wal`/`-shm` files while open) and `localspot.lock`
(held with flock while a server uses the dir, so two servers cannot share it).

Tables:
- `meta(key, value)`: `schema_version`, `codec_version`, `seq_floor` (the last seq before the
  latest reset, so sequence numbers never repeat).
- `journal(seq, now_ms, kind, payload, checksum)`: one row per entry; `payload` is codec.py's
  JSON, `checksum` a CRC-32 of seq, now_ms, kind and payload.
- `snapshots(seq, taken_at_ms, blob)`: the two newest snapshots (snapshot.py's format).

Durability: each `commit` is one SQLite transaction. `synchronous=FULL` fsyncs the WAL at every
commit (survives power loss); `NORMAL` (the default) writes the WAL at every commit and fsyncs at
checkpoints (survives a killed process, may lose the last commits on power loss; never corrupts).

Torn tail: a journal record whose checksum or payload does not verify at the end of the journal
is dropped with a warning when the dir is opened (with any snapshot past it); one in the middle
is refused. A dir written by a newer schema is refused; an older one is migrated (MIGRATIONS).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from localspot.storage.codec import CODEC_VERSION, Codec, CodecError, default_codec
from localspot.storage.protocol import Clear, Record, Snapshot, StorageError, Write

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("localspot.storage")

SCHEMA_VERSION = 1
DB_NAME = "localspot.sqlite3"
LOCK_NAME = "localspot.lock"
SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
KEEP_SNAPSHOTS = 2

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    now_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, taken_at_ms INTEGER NOT NULL, blob BLOB NOT NULL);
"""

# schema version N -> the function that upgrades a connection from N to N + 1.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


def checksum(seq: int, now_ms: int, kind: str, payload: bytes) -> int:
    """Return the CRC-32 a journal row carries."""
    return zlib.crc32(payload, zlib.crc32(struct.pack(">qq", seq, now_ms) + kind.encode()))


class SqliteStorage:
    """The journal and snapshots of one data dir."""

    is_durable = True

    def __init__(
        self,
        directory: Path,
        *,
        synchronous: str = "NORMAL",
        codec: Codec | None = None,
        read_only: bool = False,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS_LEVELS:
            raise StorageError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}")
        self.directory = directory
        self.path = directory / DB_NAME
        self.codec = codec or default_codec()
        self._read_only = read_only
        self._lock_file: Any = None
        self._db: sqlite3.Connection | None = None
        try:
            self._open(synchronous)
        except BaseException:
            self.close()
            raise

    def _open(self, synchronous: str) -> None:
        read_only = self._read_only
        directory = self.directory
        if read_only:
            if not self.path.exists():
                raise StorageError(f"{directory} holds no localspot data ({DB_NAME} missing)")
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        else:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock()
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._check_schema()
        self._last_seq = max(self._max_seq(), int(self._meta("seq_floor") or 0))
        if not read_only:
            self._drop_torn_tail()

    # -- opening ---------------------------------------------------------------------------

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        self._lock_file = (self.directory / LOCK_NAME).open("a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise StorageError(f"{self.directory} is in use by another localspot process") from None

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_schema(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables:
                raise StorageError(f"{self.path} is not a localspot data file")
            if self._read_only:
                raise StorageError(f"{self.path} is empty")
            self._db.executescript(_SCHEMA)
            self._set_meta(schema_version=SCHEMA_VERSION, codec_version=CODEC_VERSION)
            return
        version = int(self._meta("schema_version") or 0)
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.directory} was written by a newer localspot (schema version {version}; "
                f"this one reads up to {SCHEMA_VERSION}): upgrade localspot or use another "
                "--data-dir"
            )
        codec_version = int(self._meta("codec_version") or 0)
        if codec_version != CODEC_VERSION:
            raise StorageError(
                f"{self.directory}: journal codec version {codec_version} is not supported "
                f"(this localspot writes {CODEC_VERSION})"
            )
        while version < SCHEMA_VERSION:
            migrate = MIGRATIONS.get(version)
            if migrate is None or self._read_only:
                raise StorageError(
                    f"{self.directory} has schema version {version}, which this localspot "
                    f"cannot migrate to {SCHEMA_VERSION}: export it with the localspot that "
                    "wrote it (GET /admin/v1/export) and import it here, or use another --data-dir"
                )
            log.warning("migrating %s from schema version %d", self.directory, version)
            with self._transaction():
                migrate(self._db)
                version += 1
                self._set_meta(schema_version=version)

    def _set_meta(self, **values: Any) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, str(v)) for k, v in values.items()],
        )

    def _max_seq(self) -> int:
        row = self._db.execute("SELECT MAX(seq) FROM journal").fetchone()
        return int(row[0] or 0)

    def _drop_torn_tail(self) -> None:
        """Drop unreadable records at the end of the journal (a torn or corrupt last write)."""
        dropped: list[int] = []
        query = "SELECT seq, now_ms, kind, payload, checksum FROM journal ORDER BY seq DESC"
        for row in self._db.execute(query):
            if self._decode_row(row) is not None:
                break
            dropped.append(row[0])
        if not dropped:
            return
        first = min(dropped)
        log.warning(
            "%s: dropping %d unreadable journal record(s) at the tail (seq %d..%d); "
            "keeping everything before seq %d",
            self.directory,
            len(dropped),
            first,
            max(dropped),
            first,
        )
        with self._transaction():
            self._db.execute("DELETE FROM journal WHERE seq >= ?", (first,))
            self._db.execute("DELETE FROM snapshots WHERE seq >= ?", (first,))
        self._last_seq = max(self._max_seq(), int(self._meta("seq_floor") or 0))

    def _decode_row(self, row: tuple[Any, ...]) -> Record | None:
        seq, now_ms, kind, payload, check = row
        payload = bytes(payload)
        if checksum(seq, now_ms, kind, payload) != check:
            return None
        try:
            return Record(seq, now_ms, self.codec.decode(kind, payload))
        except CodecError:
            return None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- the protocol ----------------------------------------------------------------------

    def commit(self, writes: Sequence[Write]) -> None:
        """Apply `writes` in order in one transaction; durable (per `synchronous`) on return."""
        rows: list[tuple[int, int, str, bytes, int]] = []
        with self._transaction():
            for write in writes:
                if isinstance(write, Record):
                    kind, payload = self.codec.encode(write.entry)
                    rows.append(
                        (write.seq, write.now_ms, kind, payload,
                         checksum(write.seq, write.now_ms, kind, payload))
                    )  # fmt: skip
                    continue
                self._insert(rows)
                if isinstance(write, Snapshot):
                    self._write_snapshot(write)
                else:
                    assert isinstance(write, Clear)
                    self._db.execute("DELETE FROM journal")
                    self._db.execute("DELETE FROM snapshots")
                    self._set_meta(seq_floor=self._last_seq)
            self._insert(rows)

    def _insert(self, rows: list[tuple[int, int, str, bytes, int]]) -> None:
        if rows:
            self._db.executemany(
                "INSERT INTO journal (seq, now_ms, kind, payload, checksum) VALUES (?,?,?,?,?)",
                rows,
            )
            self._last_seq = rows[-1][0]
            rows.clear()

    def _write_snapshot(self, snapshot: Snapshot) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO snapshots (seq, taken_at_ms, blob) VALUES (?, ?, ?)",
            (snapshot.seq, snapshot.taken_at_ms, snapshot.blob),
        )
        self._db.execute(
            "DELETE FROM snapshots WHERE seq NOT IN "
            "(SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)",
            (KEEP_SNAPSHOTS,),
        )

    def latest_snapshot(self) -> Snapshot | None:
        """Return the newest snapshot, or None."""
        with self._reader() as reader:
            row = reader.execute(
                "SELECT seq, taken_at_ms, blob FROM snapshots ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return None if row is None else Snapshot(row[0], row[1], bytes(row[2]))

    def records(self, after_seq: int = 0) -> Iterator[Record]:
        """Yield records with seq > `after_seq`; StorageError for a corrupt one."""
        query = (
            "SELECT seq, now_ms, kind, payload, checksum FROM journal WHERE seq > ? ORDER BY seq"
        )
        with self._reader() as reader:
            for row in reader.execute(query, (after_seq,)):
                record = self._decode_row(row)
                if record is None:
                    raise StorageError(
                        f"{self.directory}: journal record seq {row[0]} ({row[2]}) is corrupt "
                        "and is not the last one; refusing to guess (restore the dir from a copy)"
                    )
                yield record

    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        # Reads use their own connection: the writer thread owns the main one.
        if self._read_only:
            yield self._db
            return
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        try:
            yield reader
        finally:
            reader.close()

    def last_seq(self) -> int:
        """Return the highest sequence number used."""
        return self._last_seq

    def close(self) -> None:
        """Checkpoint, close the database and release the lock."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                if not self._read_only:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
            self._db = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
