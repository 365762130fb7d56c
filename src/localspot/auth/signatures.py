"""Signature payloads and verification for HMAC-SHA256, RSA and Ed25519 API keys.

Payload rules:

- WebSocket API (web-socket-api.md, "SIGNED request example (HMAC)", step 1): every request
  param except ``signature``, sorted by name, written ``name=value``, joined with ``&``,
  encoded in UTF-8, with no percent-encoding.
- REST API (rest-api.md, "SIGNED Endpoint Examples for POST /api/v3/order"): the query string
  concatenated without separator to the HTTP body, in the client's own order, with the
  ``signature`` parameter taken out and every non-ASCII character percent-encoded as UTF-8
  bytes (uppercase hex). ASCII text is signed exactly as received.

Signatures (web-socket-api.md, "Signature Case Sensitivity"): HMAC is hex and case-insensitive;
RSA (RSASSA-PKCS1-v1_5 with SHA-256) and Ed25519 are base64 and case-sensitive. Public keys
are parsed once, when a verifier is built, so ``verify`` only checks.

Known limits:

- A WS value decoded from JSON is rendered from its decoded form, not from the frame's text: a
  number with an exponent (``1e2``) comes back as ``1E+2`` and a JSON array is re-serialized
  compactly. Clients send prices and quantities as strings, so this only matters for odd input.
- binance-sdk-spot and python-binance sign the WS payload after ``urllib.parse.urlencode``,
  i.e. percent-encoded, contrary to the docs; the two agree only when every value is made of
  ``[A-Za-z0-9_.~-]``. ``ws_signature_payload_encoded`` builds that form, and the pipeline
  accepts a signature over either.
"""

import base64
import enum
import hashlib
import json
import re
import secrets
import string
from collections.abc import Callable, Mapping
from decimal import Decimal
from hmac import HMAC, compare_digest
from urllib.parse import quote, urlencode

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

RSA_KEY_BITS_MIN = 2048
RSA_KEY_BITS_MAX = 4096
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_LENGTH = 64
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class KeyType(enum.StrEnum):
    HMAC_SHA256 = "HMAC_SHA256"
    RSA = "RSA"
    ED25519 = "ED25519"


def ws_signature_payload(params: Mapping[str, object]) -> bytes:
    """Build the WebSocket API signature payload from decoded request params."""
    return "&".join(
        f"{name}={_ws_value_text(params[name])}" for name in sorted(params) if name != "signature"
    ).encode()


def ws_signature_payload_encoded(params: Mapping[str, object]) -> bytes:
    """Build the percent-encoded variant (`urllib.parse.urlencode`) that real clients sign."""
    return urlencode(
        [(name, _ws_value_text(params[name])) for name in sorted(params) if name != "signature"]
    ).encode()


# What the clients put on the wire, and so what a WS value looks like when it arrives:
# - binance-sdk-spot (binance_common.utils.make_serializable / ws_api_payload) sends every
#   value as a JSON string: bool -> "true"/"false" (it adds returnRateLimits=false to each
#   signed request unless rate limits are asked for), int -> str(int), Decimal -> format(v, "f"),
#   list or dict -> json.dumps(v, separators=(",", ":")) such as '["BTCUSDT","BNBBTC"]';
#   None values are dropped before sending.
# - python-binance (BaseClient._sign_ws_params / _generate_ws_api_signature) sends the values
#   as given (true, ["A","B"], null in the JSON) but signs str(value): "True", "['A', 'B']",
#   "None". Those can never match what the server sees, so python-binance callers only succeed
#   with string and int values.
# A real JSON bool, array or null is therefore rendered the way binance-sdk-spot writes it:
# "true"/"false", compact JSON text, and "null" for JSON null.
def _ws_value_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(_json_item_text(item) for item in value) + "]"
    if isinstance(value, dict):
        members = (f"{_json_item_text(str(k))}:{_json_item_text(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    return str(value)


def _json_item_text(value: object) -> str:
    if isinstance(value, str):
        # Inside an array or object a string keeps its JSON quotes and escapes.
        return json.dumps(value, ensure_ascii=False)
    return _ws_value_text(value)


def rest_signature_payload(raw_query: str, raw_body: str) -> bytes:
    """Build the REST signature payload from the raw query string and raw body."""
    payload = _without_signature(raw_query) + _without_signature(raw_body)
    if not payload.isascii():
        payload = _NON_ASCII.sub(_percent_encode, payload)
    return payload.encode("ascii")


def _without_signature(raw: str) -> str:
    if "signature" not in raw:
        return raw
    return "&".join(part for part in raw.split("&") if part.partition("=")[0] != "signature")


def _percent_encode(match: re.Match[str]) -> str:
    # surrogateescape turns undecodable bytes (kept as lone surrogates) back into themselves.
    return quote(match.group(), safe="", errors="surrogateescape")


class SignatureVerifier:
    """Check request signatures for one API key."""

    __slots__ = ("_check", "key_type")

    def __init__(self, key_type: KeyType, check: Callable[[bytes, str], bool]) -> None:
        """Wrap a ready check; use the ``hmac`` or ``from_public_key_pem`` builders."""
        self.key_type = key_type
        self._check = check

    @classmethod
    def hmac(cls, secret_key: str) -> "SignatureVerifier":
        """Build a verifier for an HMAC-SHA256 secret key."""
        keyed = HMAC(secret_key.encode(), digestmod=hashlib.sha256)

        def check(payload: bytes, signature: str) -> bool:
            if not signature.isascii():
                return False
            mac = keyed.copy()
            mac.update(payload)
            return compare_digest(mac.hexdigest(), signature.lower())

        return cls(KeyType.HMAC_SHA256, check)

    @classmethod
    def from_public_key_pem(cls, pem: str) -> "SignatureVerifier":
        """Build a verifier for an RSA or Ed25519 public key in PEM "PUBLIC KEY" form."""
        key = _load_public_key(pem)
        if isinstance(key, Ed25519PublicKey):
            ed25519_key = key
            return cls(
                KeyType.ED25519, lambda payload, sig: _check_ed25519(ed25519_key, payload, sig)
            )
        rsa_key = key
        return cls(KeyType.RSA, lambda payload, sig: _check_rsa(rsa_key, payload, sig))

    def verify(self, payload: bytes, signature: str) -> bool:
        """Return whether ``signature`` signs ``payload``; never raise on malformed input."""
        return self._check(payload, signature)


def _load_public_key(pem: str) -> RSAPublicKey | Ed25519PublicKey:
    if "PRIVATE KEY" in pem:
        raise ValueError("expected a public key, got a private key")
    if "-----BEGIN PUBLIC KEY-----" not in pem:
        raise ValueError("expected a PEM block '-----BEGIN PUBLIC KEY-----'")
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"cannot read the public key: {error}") from error
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, RSAPublicKey):
        if not RSA_KEY_BITS_MIN <= key.key_size <= RSA_KEY_BITS_MAX:
            raise ValueError(
                f"RSA key has {key.key_size} bits; "
                f"{RSA_KEY_BITS_MIN} to {RSA_KEY_BITS_MAX} are supported"
            )
        return key
    raise ValueError(f"unsupported key type {type(key).__name__}; use RSA or Ed25519")


def _decode_base64(signature: str) -> bytes | None:
    try:
        return base64.b64decode(signature, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        return None


def _check_rsa(key: RSAPublicKey, payload: bytes, signature: str) -> bool:
    raw = _decode_base64(signature)
    if raw is None:
        return False
    try:
        key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _check_ed25519(key: Ed25519PublicKey, payload: bytes, signature: str) -> bool:
    raw = _decode_base64(signature)
    if raw is None:
        return False
    try:
        key.verify(raw, payload)
    except InvalidSignature:
        return False
    return True


def generate_api_key() -> str:
    """Return a new random 64-character alphanumeric API key."""
    return _random_alphanumeric()


def generate_hmac_secret() -> str:
    """Return a new random 64-character alphanumeric HMAC secret key."""
    return _random_alphanumeric()


def _random_alphanumeric() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_LENGTH))
