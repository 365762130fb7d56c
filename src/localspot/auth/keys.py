"""API keys: which account a key acts for, how its signatures are checked, what it may do.

Permissions follow the security types of web-socket-api.md "Request security": a key may be
created without `TRADE` (the real testnet's default keys cannot trade until enabled), and the
`USER_DATA` / `USER_STREAM` permissions are listed separately so a key can be restricted.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from localspot.auth.signatures import (
    KeyType,
    SignatureVerifier,
    generate_api_key,
    generate_hmac_secret,
)


class Security(enum.StrEnum):
    """A method's security type (web-socket-api.md "Request security")."""

    NONE = "NONE"
    TRADE = "TRADE"
    USER_DATA = "USER_DATA"
    USER_STREAM = "USER_STREAM"


ALL_PERMISSIONS = frozenset({Security.TRADE, Security.USER_DATA, Security.USER_STREAM})


@dataclass(slots=True)
class ApiKey:
    """One API key of an account."""

    api_key: str
    account_id: int
    key_type: KeyType
    verifier: SignatureVerifier
    permissions: frozenset[Security] = ALL_PERMISSIONS
    secret_key: str | None = None
    public_key_pem: str | None = None
    revoked: bool = False

    def allows(self, security: Security) -> bool:
        """Return True if this key may call methods of `security` type."""
        return security is Security.NONE or security in self.permissions


def parse_permissions(names: Iterable[str]) -> frozenset[Security]:
    """Turn permission names ("TRADE", "USER_DATA", "USER_STREAM") into a set; ValueError if bad."""
    out = set()
    for name in names:
        try:
            security = Security(name)
        except ValueError:
            raise ValueError(f"unknown permission {name!r}") from None
        if security is Security.NONE:
            raise ValueError("permission NONE is implied, not granted")
        out.add(security)
    return frozenset(out)


@dataclass
class KeyStore:
    """All API keys, looked up by the key string."""

    _keys: dict[str, ApiKey] = field(default_factory=dict)

    def get(self, api_key: str) -> ApiKey | None:
        """Return the live key, or None if unknown or revoked."""
        key = self._keys.get(api_key)
        if key is None or key.revoked:
            return None
        return key

    def of_account(self, account_id: int) -> list[ApiKey]:
        """Return the live keys of an account."""
        return [k for k in self._keys.values() if k.account_id == account_id and not k.revoked]

    def create(
        self,
        account_id: int,
        key_type: KeyType,
        *,
        public_key_pem: str | None = None,
        permissions: frozenset[Security] = ALL_PERMISSIONS,
        api_key: str | None = None,
        secret_key: str | None = None,
    ) -> ApiKey:
        """Create a key; HMAC keys get a generated secret, RSA/Ed25519 need `public_key_pem`."""
        if key_type is KeyType.HMAC_SHA256:
            secret_key = secret_key or generate_hmac_secret()
            verifier = SignatureVerifier.hmac(secret_key)
        else:
            if not public_key_pem:
                raise ValueError(f"publicKey (PEM) is required for {key_type} keys")
            verifier = SignatureVerifier.from_public_key_pem(public_key_pem)
            if verifier.key_type is not key_type:
                raise ValueError(f"publicKey is a {verifier.key_type} key, not {key_type}")
            secret_key = None
        api_key = api_key or generate_api_key()
        if api_key in self._keys:
            raise ValueError("apiKey already exists")
        key = ApiKey(
            api_key=api_key,
            account_id=account_id,
            key_type=key_type,
            verifier=verifier,
            permissions=permissions,
            secret_key=secret_key,
            public_key_pem=public_key_pem,
        )
        self._keys[api_key] = key
        return key

    def revoke(self, api_key: str) -> ApiKey | None:
        """Revoke a key; return it, or None if unknown."""
        key = self._keys.get(api_key)
        if key is not None:
            key.revoked = True
        return key
