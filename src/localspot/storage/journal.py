"""Group commit: many appends, one storage commit (one fsync) per batch.

`write` queues a record (or snapshot, or clear) synchronously and returns a future that
resolves once the batch holding it is committed. One writer task takes everything queued,
optionally waits `window_s` for more, and commits the batch on a dedicated thread (the event
loop keeps serving meanwhile; whatever arrives during a commit forms the next batch). Batches
are committed one at a time, in order, so the journal order is the order of `write` calls,
which callers make right after applying the change (no await in between).

If a commit fails (disk full, I/O error) the journal stops: the waiting callers and every later
append get `StorageError`, since the engine has applied changes the journal does not hold.
For storage that is not durable (memory) writes are applied at once, with no thread hop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localspot.storage.protocol import Record, Storage, StorageError, Write

log = logging.getLogger("localspot.storage")


class GroupCommitJournal:
    """Queue writes and commit them in batches."""

    def __init__(self, storage: Storage, *, window_s: float = 0.0, next_seq: int = 1) -> None:
        self.storage = storage
        self._window_s = window_s
        self._next_seq = next_seq
        self._pending: list[Write] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._failed: BaseException | None = None
        self._closing = False
        self._done: asyncio.Future[None] | None = None
        self.commits = 0
        self.records_committed = 0

    @property
    def last_seq(self) -> int:
        """Return the seq of the newest record queued."""
        return self._next_seq - 1

    def start(self) -> None:
        """Start the writer (call from the event loop)."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._done.set_result(None)
        if self.storage.is_durable:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="localspot-journal")
            self._task = loop.create_task(self._run(), name="localspot-journal")

    def record(self, entry: Any, now_ms: int) -> Record:
        """Return the next journal record for `entry` (numbers it; queue it with `write`)."""
        record = Record(self._next_seq, now_ms, entry)
        self._next_seq += 1
        return record

    def write(self, writes: Sequence[Write]) -> asyncio.Future[None]:
        """Queue `writes`; the future resolves when they are durable."""
        if self._failed is not None:
            raise StorageError(f"the journal stopped after a failed commit: {self._failed}")
        if self._task is None:
            self.storage.commit(writes)
            assert self._done is not None, "start() the journal first"
            return self._done
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.extend(writes)
        self._waiters.append(future)
        self._wakeup.set()
        return future

    async def drain(self) -> None:
        """Return once everything queued so far is committed."""
        if self._task is None or (not self._pending and not self._waiters and not self._busy):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._wakeup.set()
        await future

    _busy = False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            if self._window_s > 0 and not self._closing:
                await asyncio.sleep(self._window_s)
            self._wakeup.clear()
            batch, waiters = self._pending, self._waiters
            self._pending, self._waiters = [], []
            if batch:
                self._busy = True
                try:
                    await loop.run_in_executor(self._executor, self.storage.commit, batch)
                except Exception as exc:
                    self._fail(exc, waiters)
                    return
                finally:
                    self._busy = False
                self.commits += 1
                self.records_committed += sum(isinstance(w, Record) for w in batch)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
            if self._closing and not self._pending:
                return

    def _fail(self, exc: BaseException, waiters: list[asyncio.Future[None]]) -> None:
        log.critical("journal commit failed; refusing further state changes", exc_info=exc)
        self._failed = exc
        for waiter in [*waiters, *self._waiters]:
            if not waiter.done():
                waiter.set_exception(StorageError(f"journal commit failed: {exc}"))
        self._waiters = []

    async def close(self) -> None:
        """Commit what is queued and stop the writer."""
        if self._task is not None:
            self._closing = True
            self._wakeup.set()
            await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
