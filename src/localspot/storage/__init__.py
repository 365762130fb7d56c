"""Durable state: a journal of commands and snapshots, behind a small `Storage` protocol.

`build_persistence` picks the storage from the config: SQLite in `data_dir`, or memory when
`in_memory` is set or no `data_dir` is given (tests; `localspot serve` always passes a dir
unless `--in-memory`). docs/persistence.md describes the data dir, guarantees and tools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from localspot.domain.engine import Engine
from localspot.domain.symbols import SymbolSpec
from localspot.storage.memory import MemoryStorage
from localspot.storage.persistence import Persistence
from localspot.storage.protocol import Storage, StorageError
from localspot.storage.snapshot import fingerprint
from localspot.storage.sqlite import SqliteStorage

if TYPE_CHECKING:
    from localspot.config import Config
    from localspot.methods.context import Services

__all__ = ["Persistence", "Storage", "StorageError", "build_persistence", "engine_factory"]


def engine_factory(symbols: dict[str, dict[str, Any]]) -> Callable[[], Engine]:
    """Return a function building a fresh engine trading `symbols` (exchangeInfo entries)."""
    return lambda: Engine(SymbolSpec.from_exchange_info(s) for s in symbols.values())


def build_persistence(config: Config, services: Services) -> Persistence:
    """Build the persistence of a server (its storage is opened by `Persistence.open`)."""
    directory = None if config.in_memory else config.data_dir
    if directory is None:
        open_storage: Callable[[], Storage] = MemoryStorage
    else:

        def open_storage() -> Storage:
            return SqliteStorage(directory, synchronous=config.synchronous)

    return Persistence(
        services,
        open_storage,
        engine_factory(services.symbols),
        fingerprint(services.symbols),
        commit_window_s=config.commit_window_ms / 1000,
        snapshot_every_commands=config.snapshot_every_commands,
        snapshot_every_s=config.snapshot_every_s,
    )
