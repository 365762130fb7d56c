"""Durable state: recovery at startup, the journal behind `Services.execute`, snapshots, reset,
export and import.

`Persistence` is the `Journal` plugged into `Services`: every state-changing command (and API
key record, via `Services.persist`) is appended right after it is applied, and the caller
resumes only once the group commit holding it is durable.

Startup: load the newest usable snapshot (snapshot.py), then replay the journal records after
it through `Engine.apply` (and `KeyStore` for key records) with the `now_ms` each was applied
at. The engine is deterministic, so the state, ids included, is the state before the stop.

Snapshots: every `snapshot_every_commands` appends, every `snapshot_every_s` seconds if
anything changed, on `POST /admin/v1/snapshot`, after a reset or import, and at shutdown. The
engine is pickled on the event loop (consistent, but it pauses serving for its duration).

Reset and import replace the engine and key store in one step (no await between building the
new state and queueing its journal), and journal `Clear` + the new base records in one commit.

Known limits: sessions, user data stream subscriptions and rate limiter counters are not
persisted (a restart drops connections anyway); a read may see a change whose journal record
is not durable yet (the reply about the change itself waits for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localspot.auth.keys import KeyStore
from localspot.domain.commands import CreateAccount
from localspot.domain.engine import Engine
from localspot.storage.codec import CodecError, default_codec
from localspot.storage.journal import GroupCommitJournal
from localspot.storage.protocol import Clear, Snapshot, Storage, StorageError
from localspot.storage.records import (
    KeyCreated,
    KeyRevoked,
    apply_key_record,
    live_key_records,
)
from localspot.storage.snapshot import (
    SnapshotUnusable,
    State,
    capture,
    decode_snapshot,
    encode_snapshot,
    state_view,
    view_differences,
)

if TYPE_CHECKING:
    from localspot.methods.context import Services

log = logging.getLogger("localspot.storage")

EXPORT_FORMAT = "localspot-export"
EXPORT_VERSION = 1


class ImportRefused(ValueError):
    """An export document that cannot be imported; the message says why."""


@dataclass
class Replayed:
    """State rebuilt from storage."""

    engine: Engine
    keys: KeyStore
    funding: list[CreateAccount]
    snapshot_seq: int | None
    records: int


def apply_entry(
    engine: Engine, keys: KeyStore, funding: list[CreateAccount], entry: Any, now_ms: int
) -> None:
    """Apply one journal entry to the state it belongs to."""
    if isinstance(entry, KeyCreated | KeyRevoked):
        apply_key_record(keys, entry)
        return
    engine.apply(entry, now_ms)
    if type(entry) is CreateAccount:
        funding.append(entry)


def _from_state(state: State) -> tuple[Engine, KeyStore, list[CreateAccount]]:
    keys = KeyStore()
    for record in state.keys:
        apply_key_record(keys, record)
    return state.engine, keys, list(state.funding)


def recover(storage: Storage, new_engine: Callable[[], Engine], fingerprint: str) -> Replayed:
    """Load the newest usable snapshot and replay the journal after it."""
    state, after = None, 0
    snapshot = storage.latest_snapshot()
    if snapshot is not None:
        try:
            state, after = decode_snapshot(snapshot.blob, fingerprint), snapshot.seq
        except SnapshotUnusable as exc:
            log.warning(
                "ignoring the snapshot at seq %d (%s); replaying the journal from the start",
                snapshot.seq,
                exc,
            )
    engine, keys, funding = _from_state(state or State(new_engine()))
    count = 0
    for record in storage.records(after):
        apply_entry(engine, keys, funding, record.entry, record.now_ms)
        count += 1
    return Replayed(engine, keys, funding, after if state else None, count)


@dataclass
class Verification:
    """What `localspot replay DIR` found."""

    records: int
    snapshot_seq: int | None
    differences: list[str]
    note: str = ""

    @property
    def ok(self) -> bool:
        """True if the replay matched the snapshot (or there was none to compare)."""
        return not self.differences


def verify(storage: Storage, new_engine: Callable[[], Engine], fingerprint: str) -> Verification:
    """Replay the whole journal from scratch and compare with the newest snapshot."""
    snapshot = storage.latest_snapshot()
    engine, keys = new_engine(), KeyStore()
    funding: list[CreateAccount] = []
    expected: dict[str, Any] | None = None
    note = ""
    if snapshot is not None:
        try:
            state = decode_snapshot(snapshot.blob, fingerprint, check_fingerprint=False)
        except SnapshotUnusable as exc:
            return Verification(0, snapshot.seq, [f"snapshot at seq {snapshot.seq}: {exc}"])
        expected = state_view(*_from_state(state)[:2])
        if _fingerprint_differs(snapshot.blob, fingerprint):
            note = "the snapshot was written by other engine code or symbol configuration"
    count, compared = 0, expected is None
    for record in storage.records(0):
        if not compared and snapshot is not None and record.seq > snapshot.seq:
            differences = view_differences(expected or {}, state_view(engine, keys))
            if differences:
                return Verification(count, snapshot.seq, differences, note)
            compared = True
        apply_entry(engine, keys, funding, record.entry, record.now_ms)
        count += 1
    differences = [] if compared else view_differences(expected or {}, state_view(engine, keys))
    return Verification(count, None if snapshot is None else snapshot.seq, differences, note)


def _fingerprint_differs(blob: bytes, fingerprint: str) -> bool:
    try:
        decode_snapshot(blob, fingerprint)
    except SnapshotUnusable:
        return True
    return False


class Persistence:
    """The durable side of one server: the `Journal` of its `Services`."""

    def __init__(
        self,
        services: Services,
        open_storage: Callable[[], Storage],
        new_engine: Callable[[], Engine],
        fingerprint: str,
        *,
        commit_window_s: float = 0.0,
        snapshot_every_commands: int = 0,
        snapshot_every_s: float = 0.0,
    ) -> None:
        self.services = services
        self._open_storage = open_storage
        self.storage: Storage = _NotOpen()
        self.codec = default_codec()
        self._new_engine = new_engine
        self._fingerprint = fingerprint
        self._commit_window_s = commit_window_s
        self._snapshot_every_commands = snapshot_every_commands
        self._snapshot_every_s = snapshot_every_s
        self._funding: list[CreateAccount] = []
        self._since_snapshot = 0
        self._journal: GroupCommitJournal | None = None
        self._timer: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> Replayed:
        """Rebuild the state from storage, install it and start the journal."""
        started = time.perf_counter()
        self.storage = await asyncio.to_thread(self._open_storage)
        replayed = await asyncio.to_thread(
            recover, self.storage, self._new_engine, self._fingerprint
        )
        self._install(replayed.engine, replayed.keys, replayed.funding)
        self._journal = GroupCommitJournal(
            self.storage, window_s=self._commit_window_s, next_seq=self.storage.last_seq() + 1
        )
        self._journal.start()
        self._since_snapshot = replayed.records
        if self.storage.is_durable:
            log.info(
                "state loaded: %d accounts, snapshot at seq %s, %d journal records replayed "
                "in %.2f s",
                len(replayed.engine.accounts),
                replayed.snapshot_seq,
                replayed.records,
                time.perf_counter() - started,
            )
            if self._snapshot_every_s > 0:
                self._timer = asyncio.create_task(self._snapshot_timer())
        return replayed

    async def close(self) -> None:
        """Write a final snapshot (if anything changed), commit and close the storage."""
        if isinstance(self.storage, _NotOpen):
            return
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        if self._journal is not None:
            try:
                if self.storage.is_durable and self._since_snapshot:
                    await self.snapshot()
            finally:
                await self._journal.close()
            if self.storage.is_durable:
                log.info(
                    "journal closed: %d records in %d commits since start",
                    self._journal.records_committed,
                    self._journal.commits,
                )
        self.storage.close()

    def _install(self, engine: Engine, keys: KeyStore, funding: list[CreateAccount]) -> None:
        self.services.engine = engine
        self.services.keys = keys
        self._funding = funding

    @property
    def journal(self) -> GroupCommitJournal:
        """The group-commit journal (after `open`)."""
        if self._journal is None:
            raise StorageError("storage is not open")
        return self._journal

    # -- the Journal protocol --------------------------------------------------------------

    async def append(self, entry: Any, now_ms: int) -> None:
        """Queue `entry` (already applied at `now_ms`); return once it is durable."""
        journal = self.journal
        if type(entry) is CreateAccount:
            self._funding.append(entry)
        durable = journal.append(entry, now_ms)
        self._since_snapshot += 1
        if self._snapshot_every_commands and self._since_snapshot >= self._snapshot_every_commands:
            if self.storage.is_durable:
                self._queue_snapshot()
            else:
                self._since_snapshot = 0
        await durable

    # -- snapshots -------------------------------------------------------------------------

    def _queue_snapshot(self) -> tuple[int, asyncio.Future[None]]:
        journal = self.journal
        services = self.services
        state = capture(services.engine, services.keys, self._funding)
        blob = encode_snapshot(state, self._fingerprint)
        self._since_snapshot = 0
        seq = journal.last_seq
        return seq, journal.write((Snapshot(seq, services.clock.now_ms(), blob),))

    async def snapshot(self) -> dict[str, Any]:
        """Write a snapshot of the current state; return its seq and size."""
        started = time.perf_counter()
        seq, durable = self._queue_snapshot()
        await durable
        return {"seq": seq, "durable": self.storage.is_durable, "ms": _ms_since(started)}

    async def _snapshot_timer(self) -> None:
        while True:
            await asyncio.sleep(self._snapshot_every_s)
            if self._since_snapshot:
                try:
                    await self.snapshot()
                except StorageError:
                    log.exception("periodic snapshot failed")
                    return

    # -- reset, export, import -------------------------------------------------------------

    async def reset(self, keep_accounts: bool) -> dict[str, Any]:
        """Forget everything, or everything but accounts (back to their funding) and keys."""
        now_ms = self.services.clock.now_ms()
        entries: list[Any] = []
        if keep_accounts:
            ids = sorted(a.account_id for a in self.services.engine.accounts)
            if ids != list(range(1, len(ids) + 1)) or len(self._funding) != len(ids):
                raise StorageError("cannot match accounts to their initial funding")
            entries = [*self._funding, *live_key_records(self.services.keys, ids)]
        await self._replace([(now_ms, entry) for entry in entries])
        return {"accounts": len(self.services.engine.accounts), "keepAccounts": keep_accounts}

    async def _replace(self, entries: Iterable[tuple[int, Any]]) -> None:
        engine, keys = self._new_engine(), KeyStore()
        funding: list[CreateAccount] = []
        for now_ms, entry in entries:
            apply_entry(engine, keys, funding, entry, now_ms)
        # From here to the queued writes there is no await: nobody sees a half-done switch.
        journal = self.journal
        self._install(engine, keys, funding)
        records = [journal.record(entry, now_ms) for now_ms, entry in entries]
        durable = journal.write([Clear(), *records])
        if self.storage.is_durable:
            _, durable = self._queue_snapshot()
        await durable

    async def export(self) -> dict[str, Any]:
        """Return the journal (since the last reset) and a readable view of the state."""
        await self.journal.drain()
        view = state_view(self.services.engine, self.services.keys)
        records = await asyncio.to_thread(lambda: list(self.storage.records(0)))
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exportedAt": self.services.clock.now_ms(),
            "journal": [{"nowMs": r.now_ms, **self.codec.to_json(r.entry)} for r in records],
            "state": view,
        }

    async def import_(self, document: Any) -> dict[str, Any]:
        """Replace the whole state with the journal of an export document."""
        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise ImportRefused(f'not a localspot export (format must be "{EXPORT_FORMAT}")')
        if document.get("version") != EXPORT_VERSION:
            raise ImportRefused(f"export version {document.get('version')!r} is not supported")
        journal = document.get("journal")
        if not isinstance(journal, list):
            raise ImportRefused("journal must be a list")
        entries = []
        for i, item in enumerate(journal):
            try:
                now_ms = item["nowMs"]
                if not isinstance(now_ms, int) or isinstance(now_ms, bool):
                    raise CodecError("nowMs must be an integer")
                entries.append((now_ms, self.codec.from_json(item)))
            except (CodecError, KeyError, TypeError) as exc:
                raise ImportRefused(f"journal[{i}]: {exc}") from None
        try:
            await self._replace(entries)
        except ValueError as exc:  # a key record that cannot be applied
            raise ImportRefused(str(exc)) from None
        return {"records": len(entries), "accounts": len(self.services.engine.accounts)}


class _NotOpen:
    """Stands for the storage until `Persistence.open`."""

    is_durable = False

    def __getattr__(self, name: str) -> Any:
        raise StorageError("storage is not open")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
