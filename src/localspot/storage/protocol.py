"""The storage seam: what the journal and snapshots need from a place to keep bytes.

A `Storage` applies a batch of writes (`Record`s appended to the journal, a `Snapshot`, a
`Clear` that empties both) atomically, in order, and is durable when `commit` returns. It reads
back the latest snapshot and the journal after a sequence number. `memory.py` and `sqlite.py`
implement it and pass one test suite (tests/unit/test_storage.py).

Invariants:
- Journal sequence numbers strictly increase (a `Clear` does not restart them).
- A snapshot at `seq` is the state after applying every record with a smaller or equal seq
  (since the last `Clear`); it is committed in the same batch as, or after, record `seq`.
- Records are decoded entries (commands, key records); encoding is the storage's business.
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


Write = Record | Snapshot | Clear


class Storage(Protocol):
    """Where the journal and snapshots live."""

    is_durable: bool  # False: kept in memory only (no point in periodic snapshots)

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

    def close(self) -> None:
        """Release the storage (idempotent)."""
        ...
