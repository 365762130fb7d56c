"""In-memory storage: the `--in-memory` server and tests. Keeps entries as objects, not bytes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from localspot.storage.protocol import Clear, Record, Snapshot, Write


class MemoryStorage:
    """A journal list and the latest snapshot, gone when the process ends."""

    is_durable = False

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._snapshot: Snapshot | None = None
        self._last_seq = 0

    def commit(self, writes: Sequence[Write]) -> None:
        """Apply `writes` in order."""
        for write in writes:
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

    def close(self) -> None:
        """Nothing to release."""
