"""The storage seam: what the journal and snapshots need from a place to keep bytes.

A `Storage` applies a batch of writes (journal records, a `Snapshot`, a `Clear` that empties
both) atomically, in order, and is durable when `commit` returns. It reads back the latest
snapshot and the journal after a sequence number. `memory.py` and `sqlite.py` implement it and
pass one test suite (tests/unit/test_storage.py).

Invariants:
- Journal sequence numbers strictly increase (a `Clear` does not restart them).
- A snapshot at `seq` is the state after applying every record with a smaller or equal seq
  (since the last `Clear`); it is committed in the same batch as, or after, record `seq`.
- Records are decoded entries (commands, key records); encoding is the storage's business.
  `prepare` encodes one on the event loop (as the journal queues it), so that `commit`, which
  may run on another thread, only writes bytes; `commit` also takes plain `Record`s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class StorageError(RuntimeError):
    """The data dir cannot be used as it is; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Record:
    """One journal record: an entry (a command or key record) applied at `now_ms`."""

    seq: int
    now_ms: int
    entry: Any


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot blob (snapshot.py) of the state after record `seq`."""

    seq: int
    taken_at_ms: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class Clear:
    """Forget the journal and every snapshot (admin reset)."""


# A record as `SqliteStorage.prepare` encodes it: (seq, now_ms, kind, payload, checksum).
EncodedRecord = tuple[int, int, str, bytes, int]

Write = Record | EncodedRecord | Snapshot | Clear


class Storage(Protocol):
    """Where the journal and snapshots live."""

    is_durable: bool  # False: kept in memory only (no point in periodic snapshots)
    # True if `commit` waits for the disk (an fsync): the journal then commits on its thread.
    # False if it only hands bytes to the OS: the journal commits on the event loop.
    commit_waits_for_disk: bool

    def prepare(self, seq: int, now_ms: int, entry: Any) -> Write:
        """Return journal record `seq` of `entry` in the form `commit` stores fastest."""
        ...

    def commit(self, writes: Sequence[Write]) -> None:
        """Apply `writes` in order, atomically; durable on return."""
        ...

    def latest_snapshot(self) -> Snapshot | None:
        """Return the newest snapshot, or None."""
        ...

    def records(self, after_seq: int = 0) -> Iterator[Record]:
        """Yield journal records with seq > `after_seq`, in order."""
        ...

    def last_seq(self) -> int:
        """Return the highest sequence number ever used (0 if none)."""
        ...

    def checkpoint_due(self) -> bool:
        """Return True when `checkpoint` should run (the journal runs it on its thread)."""
        ...

    def checkpoint(self, *, beside_commits: bool = False) -> None:
        """Do the slow upkeep `commit` leaves out (SQLite: fold the WAL into the database).

        With `beside_commits`, commits may run meanwhile (on another thread), and a checkpoint
        without it should follow (with no commit running) to finish the job.
        """
        ...

    def close(self) -> None:
        """Release the storage (idempotent)."""
        ...
