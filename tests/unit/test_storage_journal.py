"""The group-commit journal: batching, order, where commits run, failures, checkpoints."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from localspot.domain import commands as c
from localspot.storage.journal import GroupCommitJournal
from localspot.storage.memory import MemoryStorage
from localspot.storage.protocol import Clear, Record, Snapshot, StorageError, Write
from localspot.storage.sqlite import CHECKPOINT_FRAMES, DB_NAME, SqliteStorage


class FakeStorage:
    """A durable storage that records each commit (what, on which thread) and can hold one."""

    is_durable = True

    def __init__(self, *, waits_for_disk: bool = False) -> None:
        self.commit_waits_for_disk = waits_for_disk
        self.batches: list[list[Any]] = []
        self.threads: list[int] = []
        self.checkpoints: list[int] = []
        self.wants_checkpoint = False
        self.fail_with: Exception | None = None
        self.hold = threading.Event()
        self.hold.set()
        self.holding = threading.Event()
        self.checkpoint_hold = threading.Event()
        self.checkpoint_hold.set()

    def prepare(self, seq: int, now_ms: int, entry: Any) -> Record:
        if entry == "unencodable":
            raise ValueError("cannot encode")
        return Record(seq, now_ms, entry)

    def commit(self, writes: Sequence[Write]) -> None:
        self.holding.set()
        self.hold.wait(5)
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append([w.seq if isinstance(w, Record) else type(w).__name__ for w in writes])
        self.threads.append(threading.get_ident())

    def checkpoint_due(self) -> bool:
        return self.wants_checkpoint

    def checkpoint(self, *, beside_commits: bool = False) -> None:
        self.wants_checkpoint = False
        self.checkpoint_hold.wait(5)
        self.checkpoints.append((threading.get_ident(), beside_commits))

    def latest_snapshot(self) -> Snapshot | None:
        return None

    def records(self, after_seq: int = 0) -> list[Record]:
        return []

    def last_seq(self) -> int:
        return 0

    def close(self) -> None:
        pass


async def started(storage: Any, **options: Any) -> GroupCommitJournal:
    journal = GroupCommitJournal(storage, **options)
    journal.start()
    return journal


async def test_appends_in_one_pass_of_the_loop_share_one_commit_on_the_loop():
    storage = FakeStorage()
    journal = await started(storage)
    futures = [journal.append(f"entry{i}", 1000 + i) for i in range(5)]
    assert not any(f.done() for f in futures)  # nothing is durable before the commit
    await asyncio.gather(*futures)
    assert storage.batches == [[1, 2, 3, 4, 5]]
    assert storage.threads == [threading.get_ident()]  # no fsync: committed on the loop
    assert (journal.commits, journal.records_committed, journal.last_seq) == (1, 5, 5)
    await journal.close()


async def test_what_arrives_during_a_commit_on_the_thread_forms_the_next_batch():
    storage = FakeStorage(waits_for_disk=True)
    journal = await started(storage)
    storage.hold.clear()
    first = journal.append("a", 1)
    await asyncio.to_thread(storage.holding.wait, 5)  # the commit of "a" is running
    later = [journal.append(entry, 2) for entry in ("b", "c", "d")]
    storage.hold.set()
    await asyncio.gather(first, *later)
    assert storage.batches == [[1], [2, 3, 4]]
    assert threading.get_ident() not in storage.threads  # fsync: committed on the thread
    await journal.close()


async def test_journal_order_is_the_order_of_calls_across_records_snapshots_and_clears():
    storage = FakeStorage()
    journal = await started(storage)
    waits = [journal.append("a", 1), journal.write([Snapshot(1, 1, b"s")])]
    waits += [journal.write([Clear(), journal.record("b", 2)]), journal.append("c", 3)]
    await asyncio.gather(*waits)
    # A batch holding a snapshot or clear is committed on the thread, as one batch.
    assert storage.batches == [[1, "Snapshot", "Clear", 2, 3]]
    assert storage.threads[0] != threading.get_ident()
    await journal.close()


async def test_a_failed_commit_stops_the_journal():
    storage = FakeStorage()
    journal = await started(storage)
    storage.fail_with = OSError("disk full")
    waiting = journal.append("a", 1)
    with pytest.raises(StorageError, match="journal commit failed: disk full"):
        await waiting
    with pytest.raises(StorageError, match="stopped after a failed commit"):
        journal.append("b", 2)
    with pytest.raises(StorageError, match="stopped after a failed commit"):
        await journal.drain()
    await journal.close()


async def test_a_failed_commit_on_the_thread_fails_the_batches_queued_behind_it():
    storage = FakeStorage(waits_for_disk=True)
    journal = await started(storage)
    storage.hold.clear()
    first = journal.append("a", 1)
    await asyncio.to_thread(storage.holding.wait, 5)
    second = journal.append("b", 2)
    storage.fail_with = OSError("I/O error")
    storage.hold.set()
    for waiting in (first, second):
        with pytest.raises(StorageError, match="I/O error"):
            await waiting
    assert storage.batches == []
    await journal.close()


async def test_an_entry_that_cannot_be_encoded_stops_the_journal():
    storage = FakeStorage()
    journal = await started(storage)
    queued = journal.append("a", 1)
    with pytest.raises(StorageError, match="record 2 cannot be encoded"):
        journal.append("unencodable", 2)
    with pytest.raises(StorageError):
        await queued  # the engine applied a change the journal cannot hold
    with pytest.raises(StorageError, match="stopped"):
        journal.append("c", 3)
    await journal.close()


async def test_a_cancelled_caller_does_not_cancel_the_others_in_its_batch():
    storage = FakeStorage()
    journal = await started(storage)

    async def wait_for(entry: str) -> None:
        await journal.append(entry, 1)

    tasks = [asyncio.create_task(wait_for(e)) for e in ("a", "b", "c")]
    await asyncio.sleep(0)  # all three are queued, waiting for the same commit
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert (tasks[0].exception(), tasks[1].cancelled(), tasks[2].exception()) == (None, True, None)
    assert storage.batches == [[1, 2, 3]]  # the record of the cancelled caller is kept
    await journal.close()


async def test_a_checkpoint_runs_on_the_thread_beside_commits_then_finishes_before_a_batch():
    storage = FakeStorage()
    journal = await started(storage)
    loop_thread = threading.get_ident()
    storage.checkpoint_hold.clear()
    storage.wants_checkpoint = True
    await journal.append("a", 1)  # committed on the loop; then the checkpoint starts
    checkpointing = journal._checkpointing
    assert checkpointing is not None
    await journal.append("b", 2)  # the checkpoint runs on the thread: commits go on, on the loop
    storage.checkpoint_hold.set()
    await checkpointing
    await journal.append("c", 3)  # on the thread, right after the checkpoint's finish
    await journal.close()
    assert storage.batches == [[1], [2], [3]]
    assert storage.threads[:2] == [loop_thread, loop_thread]
    assert storage.threads[2] != loop_thread
    assert [beside for _, beside in storage.checkpoints] == [True, False]
    assert loop_thread not in {thread for thread, _ in storage.checkpoints}


async def test_with_fsync_a_due_checkpoint_follows_the_commit_on_the_thread():
    storage = FakeStorage(waits_for_disk=True)
    journal = await started(storage)
    storage.wants_checkpoint = True
    await journal.append("a", 1)
    await journal.close()
    assert storage.checkpoints == [(storage.threads[0], False)]


async def test_commit_window_gathers_writes_over_several_passes_of_the_loop():
    storage = FakeStorage()
    journal = await started(storage, window_s=0.2)
    first = journal.append("a", 1)
    for _ in range(3):
        await asyncio.sleep(0)
    assert not first.done()  # without a window it would be committed by now
    second = journal.append("b", 2)
    await asyncio.gather(first, second)
    assert storage.batches == [[1, 2]]
    await journal.close()


async def test_drain_and_close_commit_what_is_queued():
    storage = FakeStorage(waits_for_disk=True)
    journal = await started(storage)
    journal.append("a", 1)
    await journal.drain()
    assert storage.batches == [[1]]
    journal.append("b", 2)
    await journal.close()
    assert storage.batches == [[1], [2]]
    with pytest.raises(StorageError, match="closed"):
        journal.append("c", 3)


async def test_memory_storage_needs_no_wait():
    storage = MemoryStorage()
    journal = await started(storage)
    assert journal.append(c.CancelOpenOrders(1, "BTCUSDT"), 5).done()
    assert [(r.seq, r.now_ms) for r in storage.records()] == [(1, 5)]
    await journal.close()


@pytest.mark.parametrize(("synchronous", "on_loop"), [("NORMAL", True), ("FULL", False)])
async def test_sqlite_commits_on_the_loop_unless_it_fsyncs(tmp_path, synchronous, on_loop):
    storage = SqliteStorage(tmp_path, synchronous=synchronous)
    threads: list[int] = []
    commit = storage.commit

    def spy(writes: Sequence[Write]) -> None:
        threads.append(threading.get_ident())
        commit(writes)

    storage.commit = spy  # type: ignore[method-assign]
    journal = await started(storage)
    entries = [c.ChangeBalance(1, "BTC", Decimal(i), "add") for i in range(100)]
    await asyncio.gather(*(journal.append(e, 7) for e in entries))
    await journal.close()
    assert (threads[0] == threading.get_ident()) is on_loop
    assert [r.entry for r in storage.records()] == entries
    storage.close()


def test_sqlite_checkpoint_restarts_the_wal(tmp_path: Path):
    storage = SqliteStorage(tmp_path)
    entry = c.ChangeBalance(1, "BTC", Decimal("0.1"), "add")
    seq = 0

    def commit(rows: int) -> None:
        nonlocal seq
        storage.commit([storage.prepare(seq + i, 1, entry) for i in range(1, rows + 1)])
        seq += rows

    while not storage.checkpoint_due():
        commit(8)
    storage.checkpoint(beside_commits=True)  # the bulk; commits may go on meanwhile
    assert not storage.checkpoint_due()
    commit(8)
    storage.checkpoint()  # the rest, and the WAL starts over
    commit(1)
    assert wal_pages(tmp_path) < CHECKPOINT_FRAMES // 10
    while not storage.checkpoint_due():
        commit(8)
    storage.checkpoint()  # without a checkpoint beside the commits first
    commit(1)
    assert wal_pages(tmp_path) < CHECKPOINT_FRAMES // 10
    assert [r.seq for r in storage.records()] == list(range(1, seq + 1))
    storage.close()


def wal_pages(directory: Path) -> int:
    with sqlite3.connect(directory / DB_NAME) as db:
        _, pages, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(pages)
