"""Journal entries that are not engine commands: API keys live outside the engine (auth/keys.py).

They go through the same journal and group commit as commands (`Services.persist`), and are
applied to the `KeyStore` when the journal is replayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from localspot.auth.keys import ApiKey, KeyStore, parse_permissions
from localspot.auth.signatures import KeyType


@dataclass(frozen=True, slots=True)
class KeyCreated:
    """An API key was created (the secret is kept: the data dir is the user's own)."""

    account_id: int
    api_key: str
    key_type: KeyType
    permissions: tuple[str, ...]
    secret_key: str | None = None
    public_key_pem: str | None = None


@dataclass(frozen=True, slots=True)
class KeyRevoked:
    """An API key was revoked."""

    api_key: str


KeyRecord = KeyCreated | KeyRevoked
RECORD_TYPES: tuple[type, ...] = (KeyCreated, KeyRevoked)


def key_created(key: ApiKey) -> KeyCreated:
    """Return the record that recreates `key`."""
    return KeyCreated(
        account_id=key.account_id,
        api_key=key.api_key,
        key_type=key.key_type,
        permissions=tuple(sorted(p.value for p in key.permissions)),
        secret_key=key.secret_key,
        public_key_pem=key.public_key_pem,
    )


def apply_key_record(keys: KeyStore, record: KeyRecord) -> None:
    """Replay one key record into `keys`."""
    if isinstance(record, KeyRevoked):
        keys.revoke(record.api_key)
        return
    keys.create(
        record.account_id,
        record.key_type,
        public_key_pem=record.public_key_pem,
        permissions=parse_permissions(record.permissions),
        api_key=record.api_key,
        secret_key=record.secret_key,
    )


def live_key_records(keys: KeyStore, account_ids: list[int]) -> list[KeyCreated]:
    """Return records recreating every live key of these accounts."""
    return [key_created(k) for account_id in account_ids for k in keys.of_account(account_id)]
