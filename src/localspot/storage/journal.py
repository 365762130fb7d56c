"""Group commit: many appends, one storage commit (one fsync at most) per batch.

`append` (and `write`, for snapshots, clears and lists of records) queues a record synchronously
and returns a future that resolves once the batch holding it is committed. The record is
numbered and encoded right there, on the event loop, so a commit only writes bytes.

Batches: the first write after a commit schedules a flush for the next pass of the event loop
(or `window_s` later), so every write made meanwhile shares the commit. One commit runs at a
time, in order, so the journal order is the order of `append`/`write` calls, which callers make
right after applying the change (no await in between). Where a commit runs:
- on the event loop, when the storage's commit does not wait for the disk (SQLite at
  `synchronous` OFF or NORMAL: the WAL write is handed to the OS, no fsync). A commit there
  costs less than handing it to a thread: no wake-up, no GIL hand-over, no reply delayed by
  a thread waiting for a core (measured with bench/durability.py: the hand-over alone cost
  more server CPU than the commit, about a third of the throughput);
- on the journal's thread otherwise: when the commit fsyncs (FULL, EXTRA), and for snapshots
  and clears (large writes). The event loop keeps serving meanwhile; whatever is appended
  during such a commit forms the next batch.

Checkpoints (they fsync) run on the journal's thread. When commits run on the event loop, the
bulk of a checkpoint runs beside them, on a connection of its own, and the next batch is then
committed on the thread right after the rest of it (a few ms, restarting the WAL); otherwise a
checkpoint follows the commit that made it due.

If a commit fails (disk full, I/O error), or a record cannot be encoded, the journal stops: the
waiting callers and every later append get `StorageError`, since the engine has applied changes
the journal does not hold. For storage that is not durable (memory) writes are applied at once,
with nothing to wait for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localspot.storage.protocol import Record, Storage, StorageError, Write

log = logging.getLogger("localspot.storage")

Waiters = list[asyncio.Future[None]]


class GroupCommitJournal:
    """Queue writes and commit them in batches."""

    def __init__(self, storage: Storage, *, window_s: float = 0.0, next_seq: int = 1) -> None:
        self.storage = storage
        self._window_s = window_s
        self._next_seq = next_seq
        self._durable = storage.is_durable
        self._on_loop = storage.is_durable and not storage.commit_waits_for_disk
        self._pending: list[Write] = []
        self._waiters: Waiters = []  # one per caller: a cancelled caller cancels only its own
        self._pending_is_heavy = False  # holds a snapshot or a clear: commit on the thread
        self._flush_scheduled = False
        self._busy = False  # a commit (or checkpoint) runs on the thread
        self._idle: asyncio.Future[None] | None = None  # resolved when that one is done
        # A checkpoint beside the commits on the loop (`_on_loop` only), then its finish.
        self._checkpointing: asyncio.Future[None] | None = None
        self._finish_checkpoint = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._failed: BaseException | None = None
        self._closed = False
        self._done: asyncio.Future[None] | None = None
        self.commits = 0
        self.records_committed = 0

    @property
    def last_seq(self) -> int:
        """Return the seq of the newest record queued."""
        return self._next_seq - 1

    def start(self) -> None:
        """Start the writer (call from the event loop)."""
        self._loop = loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._done.set_result(None)
        if self._durable:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="localspot-journal")

    def record(self, entry: Any, now_ms: int) -> Write:
        """Return the next journal record for `entry` (numbers it; queue it with `write`)."""
        self._check()
        seq = self._next_seq
        self._next_seq = seq + 1
        try:
            return self.storage.prepare(seq, now_ms, entry)
        except Exception as exc:  # a bug: the change is applied but cannot be journaled
            self._fail(exc, [])
            raise StorageError(f"journal record {seq} cannot be encoded: {exc}") from exc

    def append(self, entry: Any, now_ms: int) -> asyncio.Future[None]:
        """Queue the next record, `entry` applied at `now_ms`; the future resolves when durable."""
        write = self.record(entry, now_ms)
        if not self._durable:
            self.storage.commit((write,))
            assert self._done is not None, "start() the journal first"
            return self._done
        self._pending.append(write)
        return self._waiter()

    def write(self, writes: Sequence[Write]) -> asyncio.Future[None]:
        """Queue `writes` (records from `record`, snapshots, clears); resolves when durable."""
        self._check()
        if not self._durable:
            self.storage.commit(writes)
            assert self._done is not None, "start() the journal first"
            return self._done
        self._pending.extend(writes)
        self._pending_is_heavy = True  # committed on the thread
        return self._waiter()

    def _check(self) -> None:
        if self._failed is not None:
            raise StorageError(f"the journal stopped after a failed commit: {self._failed}")
        if self._closed:
            raise StorageError("the journal is closed")

    def _waiter(self) -> asyncio.Future[None]:
        loop = self._loop
        assert loop is not None, "start() the journal first"
        future = loop.create_future()
        self._waiters.append(future)
        if not self._flush_scheduled and not self._busy:
            self._schedule_flush(loop)
        return future

    def _schedule_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._flush_scheduled = True
        if self._window_s > 0:
            loop.call_later(self._window_s, self._flush)
        else:
            loop.call_soon(self._flush)

    async def drain(self) -> None:
        """Return once everything queued so far is committed."""
        if self._waiters:
            await self._waiter()  # joins the queued batch
        elif self._busy:
            assert self._idle is not None
            await asyncio.shield(self._idle)
        self._check()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._busy or self._failed is not None or not self._waiters:
            return
        batch, waiters = self._pending, self._waiters
        self._pending, self._waiters = [], []
        heavy, self._pending_is_heavy = self._pending_is_heavy, False
        if heavy or not self._on_loop or self._finish_checkpoint:
            self._commit_on_thread(batch, waiters)
            return
        try:
            self.storage.commit(batch)
        except Exception as exc:
            self._fail(exc, waiters)
            return
        self._resolve(len(batch), waiters)
        if self._checkpointing is None and self.storage.checkpoint_due():
            self._checkpoint_beside_commits()

    def _checkpoint_beside_commits(self) -> None:
        # Checkpoints fsync (tens of ms): the bulk runs on the thread while commits go on on
        # the loop; the next batch then commits on the thread after the rest of it (a few ms,
        # which restarts the WAL).
        loop = self._loop
        assert loop is not None
        job = loop.run_in_executor(self._executor, self._checkpoint, True)
        self._checkpointing = job
        job.add_done_callback(self._checkpointed_beside_commits)

    def _checkpointed_beside_commits(self, job: asyncio.Future[None]) -> None:
        self._checkpointing = None
        self._finish_checkpoint = job.exception() is None

    def _checkpoint(self, beside_commits: bool) -> None:
        # On the journal's thread.
        try:
            self.storage.checkpoint(beside_commits=beside_commits)
        except Exception:  # the commits are durable without it; a later one retries
            log.exception("journal checkpoint failed")

    def _commit_on_thread(self, batch: list[Write], waiters: Waiters) -> None:
        loop = self._loop
        assert loop is not None
        self._busy = True
        self._idle = loop.create_future()
        finish, self._finish_checkpoint = self._finish_checkpoint, False
        job = loop.run_in_executor(self._executor, self._commit_and_checkpoint, batch, finish)
        job.add_done_callback(lambda job: self._committed_on_thread(job, batch, waiters))

    def _commit_and_checkpoint(self, batch: list[Write], finish_checkpoint: bool) -> None:
        # On the journal's thread: the event loop does not touch the storage meanwhile.
        if finish_checkpoint:
            self._checkpoint(False)
        if batch:
            self.storage.commit(batch)
        if not self._on_loop and self.storage.checkpoint_due():
            self._checkpoint(False)

    def _committed_on_thread(
        self, job: asyncio.Future[None], batch: list[Write], waiters: Waiters
    ) -> None:
        self._busy = False
        assert self._idle is not None
        self._idle.set_result(None)
        exc = job.exception()
        if exc is not None:
            self._fail(exc, waiters)
            return
        self._resolve(sum(isinstance(w, Record | tuple) for w in batch), waiters)
        if self._waiters and not self._flush_scheduled:
            # What was appended meanwhile forms the next batch.
            if self._window_s > 0 and not self._closed:
                self._schedule_flush(job.get_loop())
            else:
                self._flush()

    def _resolve(self, records: int, waiters: Waiters) -> None:
        if waiters:
            self.commits += 1
            self.records_committed += records
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, exc: BaseException, waiters: Waiters) -> None:
        log.critical("journal stopped; refusing further state changes", exc_info=exc)
        self._failed = exc
        for waiter in [*waiters, *self._waiters]:
            if not waiter.done():
                waiter.set_exception(StorageError(f"journal commit failed: {exc}"))
        self._pending, self._waiters = [], []

    async def close(self) -> None:
        """Commit what is queued and stop the writer."""
        self._closed = True
        while self._failed is None and (self._busy or self._waiters):
            if self._busy:
                assert self._idle is not None
                await asyncio.shield(self._idle)
            else:
                self._flush()
        if self._checkpointing is not None:
            await asyncio.shield(self._checkpointing)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
