"""SQLite storage (stdlib `sqlite3`, WAL mode): the journal and snapshots of a data dir.

Layout of DIR: `localspot.sqlite3` (+ its `-wal`/`-shm` files while open) and `localspot.lock`
(held with flock while a server uses the dir, so two servers cannot share it).

Tables:
- `meta(key, value)`: `schema_version`, `codec_version`, `seq_floor` (the last seq before the
  latest reset, so sequence numbers never repeat), `checkpoint_seq` (the last seq when the WAL
  was last folded into the database; informative).
- `journal(seq, now_ms, kind, payload, checksum)`: one row per entry; `payload` is codec.py's
  JSON, `checksum` a CRC-32 of seq, now_ms, kind and payload.
- `snapshots(seq, taken_at_ms, blob)`: the two newest snapshots (snapshot.py's format).

Durability: each `commit` is one SQLite transaction. `synchronous=FULL` fsyncs the WAL at every
commit (survives power loss); `NORMAL` (the default) writes the WAL at every commit and fsyncs at
checkpoints (survives a killed process, may lose the last commits on power loss; never corrupts).

Cost: `prepare` encodes a record (on the event loop), so `commit` only writes bytes; a batch of
records alone is one multi-row INSERT, which SQLite runs as its own transaction (one statement,
one WAL append). At `OFF`/`NORMAL` a commit never waits for the disk, so the journal runs it on
the event loop (`commit_waits_for_disk` is False). SQLite's automatic checkpoint (which would run
inside some commit and fsync twice) is off; `checkpoint_due` tells the journal when to run
`checkpoint` on its thread instead, every ~`CHECKPOINT_FRAMES` WAL pages (the bulk of it on a
second connection while commits go on, when the journal commits on the event loop).

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
from localspot.storage.protocol import (
    Clear,
    EncodedRecord,
    Record,
    Snapshot,
    StorageError,
    Write,
)

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
# Checkpoint once the WAL holds about this many pages (SQLite's own default is 1000).
CHECKPOINT_FRAMES = 1000
# Rows per INSERT statement (5 parameters each; SQLite allows 32766 since 3.32, 999 before).
ROWS_PER_STATEMENT = 64

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


_INSERT_SQL = [
    "INSERT INTO journal (seq, now_ms, kind, payload, checksum) VALUES "
    + ",".join(["(?,?,?,?,?)"] * n)
    for n in range(ROWS_PER_STATEMENT + 1)
]


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
        self.commit_waits_for_disk = synchronous.upper() in ("FULL", "EXTRA")
        self._read_only = read_only
        self._lock_file: Any = None
        self._db: sqlite3.Connection | None = None
        self._synchronous = synchronous.upper()
        # Pages written to the WAL (an estimate; only the committing thread adds to it) and the
        # estimate when the last checkpoint started.
        self._wal_frames = 0
        self._checkpointed_frames = 0
        self._page_size = 4096
        self._checkpointer: sqlite3.Connection | None = None  # for checkpoints beside commits
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
            # Used by one thread at a time: the journal's (event loop or its commit thread).
            self._db = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=2 * ROWS_PER_STATEMENT,
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._conn.execute("PRAGMA wal_autocheckpoint=0")  # `checkpoint` does it
            self._page_size = int(self._conn.execute("PRAGMA page_size").fetchone()[0])
        self._check_schema()
        self._last_seq = max(self._max_seq(), int(self._meta("seq_floor") or 0))
        if not read_only:
            self._drop_torn_tail()

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StorageError(f"{self.directory}: the storage is closed")
        return self._db

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
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_schema(self) -> None:
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables:
                raise StorageError(f"{self.path} is not a localspot data file")
            if self._read_only:
                raise StorageError(f"{self.path} is empty")
            self._conn.executescript(_SCHEMA)
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
                migrate(self._conn)
                version += 1
                self._set_meta(schema_version=version)

    def _set_meta(self, **values: Any) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, str(v)) for k, v in values.items()],
        )

    def _max_seq(self) -> int:
        row = self._conn.execute("SELECT MAX(seq) FROM journal").fetchone()
        return int(row[0] or 0)

    def _drop_torn_tail(self) -> None:
        """Drop unreadable records at the end of the journal (a torn or corrupt last write)."""
        dropped: list[int] = []
        query = "SELECT seq, now_ms, kind, payload, checksum FROM journal ORDER BY seq DESC"
        for row in self._conn.execute(query):
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
            self._conn.execute("DELETE FROM journal WHERE seq >= ?", (first,))
            self._conn.execute("DELETE FROM snapshots WHERE seq >= ?", (first,))
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
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- the protocol ----------------------------------------------------------------------

    def prepare(self, seq: int, now_ms: int, entry: Any) -> EncodedRecord:
        """Return journal record `seq` as the row `commit` inserts (encoded, checksummed)."""
        kind, payload = self.codec.encode(entry)
        return (seq, now_ms, kind, payload, checksum(seq, now_ms, kind, payload))

    def commit(self, writes: Sequence[Write]) -> None:
        """Apply `writes` in order in one transaction; durable (per `synchronous`) on return."""
        if not writes:
            return
        if len(writes) <= ROWS_PER_STATEMENT and all(type(w) is tuple for w in writes):
            # The common batch: encoded records only. One statement is one transaction.
            rows: list[EncodedRecord] = writes  # type: ignore[assignment]
            self._conn.execute(_INSERT_SQL[len(rows)], [v for row in rows for v in row])
            self._committed(rows)
            return
        rows = []
        with self._transaction():
            for write in writes:
                if isinstance(write, tuple):
                    rows.append(write)
                elif isinstance(write, Record):
                    rows.append(self.prepare(write.seq, write.now_ms, write.entry))
                else:
                    self._insert(rows)
                    if isinstance(write, Snapshot):
                        self._write_snapshot(write)
                    else:
                        assert isinstance(write, Clear)
                        self._clear()
            self._insert(rows)

    def _insert(self, rows: list[EncodedRecord]) -> None:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            self._conn.execute(_INSERT_SQL[len(chunk)], [v for row in chunk for v in row])
        if rows:
            self._committed(rows)
            rows.clear()

    def _committed(self, rows: Sequence[EncodedRecord]) -> None:
        self._last_seq = rows[-1][0]
        # Appending rows rewrites the last leaf page and, past a page, new leaves and a parent.
        written = sum(len(row[3]) for row in rows) + 32 * len(rows)
        self._wal_frames += 1 + 2 * written // self._page_size

    def _clear(self) -> None:
        self._conn.execute("DELETE FROM journal")
        self._conn.execute("DELETE FROM snapshots")
        self._set_meta(seq_floor=self._last_seq)
        self._wal_frames += CHECKPOINT_FRAMES  # it rewrote every page: checkpoint next

    def _write_snapshot(self, snapshot: Snapshot) -> None:
        self._wal_frames += 2 + len(snapshot.blob) // self._page_size
        self._conn.execute(
            "INSERT OR REPLACE INTO snapshots (seq, taken_at_ms, blob) VALUES (?, ?, ?)",
            (snapshot.seq, snapshot.taken_at_ms, snapshot.blob),
        )
        self._conn.execute(
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
        # Reads use their own connection: the journal owns the main one.
        if self._read_only:
            yield self._conn
            return
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        try:
            yield reader
        finally:
            reader.close()

    def last_seq(self) -> int:
        """Return the highest sequence number used."""
        return self._last_seq

    def checkpoint_due(self) -> bool:
        """Return True once the WAL holds about `CHECKPOINT_FRAMES` pages since the last one."""
        return self._wal_frames - self._checkpointed_frames >= CHECKPOINT_FRAMES

    def checkpoint(self, *, beside_commits: bool = False) -> None:
        """Copy the WAL into the database file (fsyncs both, at NORMAL and above).

        `beside_commits=False`: on the committing connection, so no commit may run meanwhile.
        Then it writes one row, so that SQLite restarts the WAL from its start here rather than
        in the next commit: that restart fsyncs the WAL header, which a commit on the event
        loop should not wait for. Readers in the middle of the WAL (an export, `localspot
        replay`) only delay the restart.

        `beside_commits=True`: on a connection of its own, so commits may go on meanwhile. It
        copies the bulk, but the WAL cannot restart while commits add to it: a checkpoint
        without `beside_commits` soon after copies the rest (little) and restarts it.
        """
        self._checkpointed_frames = self._wal_frames
        if beside_commits:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
                self._checkpointer.execute(f"PRAGMA synchronous={self._synchronous}")
            db = self._checkpointer
        else:
            db = self._conn
        busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
        log.debug("checkpoint: %d of %d WAL pages copied", copied, frames)
        if not beside_commits and not busy and copied == frames:
            self._set_meta(checkpoint_seq=self._last_seq)

    def close(self) -> None:
        """Checkpoint, close the database and release the lock."""
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                if not self._read_only:
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
            self._db = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
