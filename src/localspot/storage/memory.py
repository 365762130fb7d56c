"""In-memory storage: the `--in-memory` server and tests. Keeps entries as objects, not bytes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from localspot.storage.protocol import Clear, Record, Snapshot, Write


class MemoryStorage:
    """A journal list and the latest snapshot, gone when the process ends."""

    is_durable = False
    commit_waits_for_disk = False

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._snapshot: Snapshot | None = None
        self._last_seq = 0

    def prepare(self, seq: int, now_ms: int, entry: Any) -> Record:
        """Return the record itself: entries are kept as objects."""
        return Record(seq, now_ms, entry)

    def commit(self, writes: Sequence[Write]) -> None:
        """Apply `writes` in order."""
        for write in writes:
            if isinstance(write, tuple):
                raise TypeError("MemoryStorage keeps records, not encoded rows")
            if isinstance(write, Record):
                if write.seq <= self._last_seq:
                    raise ValueError(f"journal seq {write.seq} after {self._last_seq}")
                self._records.append(write)
                self._last_seq = write.seq
            elif isinstance(write, Snapshot):
                self._snapshot = write
            else:
                assert isinstance(write, Clear)
                self._records.clear()
                self._snapshot = None

    def latest_snapshot(self) -> Snapshot | None:
        """Return the newest snapshot, or None."""
        return self._snapshot

    def records(self, after_seq: int = 0) -> Iterator[Record]:
        """Yield records with seq > `after_seq`, in order."""
        # Binary search would be faster; this runs at reset/export/verify only.
        return (r for r in list(self._records) if r.seq > after_seq)

    def last_seq(self) -> int:
        """Return the highest sequence number used."""
        return self._last_seq

    def checkpoint_due(self) -> bool:
        """Return False: there is nothing to fold."""
        return False

    def checkpoint(self, *, beside_commits: bool = False) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to release."""
