"""Signature payloads and verification against the examples in the Binance docs."""

import asyncio
import base64
import hashlib
import hmac
import json
import re
import types
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from localspot.auth.signatures import (
    KeyType,
    SignatureVerifier,
    generate_api_key,
    generate_hmac_secret,
    rest_signature_payload,
    ws_signature_payload,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"

# web-socket-api.md and rest-api.md, "SIGNED request example (HMAC)" / "HMAC Keys".
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
HMAC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
RSA_API_KEY = "CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ"
ED25519_API_KEY = "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO"
UNICODE_SYMBOL = "１２３４５６"
UNICODE_SYMBOL_ENCODED = "%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96"


WS_DOC_VALUES: dict[bool, tuple[str, str, str, str, int]] = {
    False: ("BTCUSDT", "SELL", "0.01000000", "52000.00", 100),
    True: (UNICODE_SYMBOL, "BUY", "1.00000000", "0.10000000", 5000),
}


def ws_doc_params(api_key: str, *, unicode_symbol: bool) -> dict[str, object]:
    """Return the step-1 parameter table of a WS example, in request order, as JSON-decoded."""
    # The Ed25519 non-ASCII table lists other values than its payload; the payload is what the
    # doc signs, and it matches the HMAC and RSA tables, so all three use those.
    symbol, side, quantity, price, recv_window = WS_DOC_VALUES[unicode_symbol]
    return {
        "symbol": symbol,
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": quantity,
        "price": price,
        "recvWindow": recv_window,
        "timestamp": 1645423376532,
        "apiKey": api_key,
        "signature": "------ FILL ME ------",
    }


def ws_doc_payload(api_key: str, *, unicode_symbol: bool) -> str:
    """Return the step-1 payload string of a WS example, as printed in web-socket-api.md."""
    if unicode_symbol:
        return (
            f"apiKey={api_key}&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY"
            f"&symbol={UNICODE_SYMBOL}&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        )
    return (
        f"apiKey={api_key}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL"
        "&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    )


WS_HMAC_SIGNATURES = {
    False: "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
    True: "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd",
}

# rest-api.md, "HMAC Keys" step 1, and the query string of its curl commands.
REST_ASCII_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
REST_ASCII_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
REST_UNICODE_PAYLOAD = REST_ASCII_PAYLOAD.replace("LTCBTC", UNICODE_SYMBOL_ENCODED)
REST_UNICODE_SIGNATURE = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"


def tamper(text: str) -> str:
    """Change one character in the middle of ``text``."""
    middle = len(text) // 2
    replacement = "0" if text[middle] != "0" else "1"
    return text[:middle] + replacement + text[middle + 1 :]


def public_pem(private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa_sign(private_key: rsa.RSAPrivateKey, payload: bytes) -> str:
    return base64.b64encode(private_key.sign(payload, padding.PKCS1v15(), hashes.SHA256())).decode()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


# --- WebSocket API payloads -------------------------------------------------------------------


@pytest.mark.parametrize("unicode_symbol", [False, True], ids=["ascii", "non_ascii"])
@pytest.mark.parametrize("api_key", [HMAC_API_KEY, RSA_API_KEY, ED25519_API_KEY])
def test_ws_payload_matches_doc_byte_for_byte(api_key: str, unicode_symbol: bool) -> None:
    params = ws_doc_params(api_key, unicode_symbol=unicode_symbol)
    expected = ws_doc_payload(api_key, unicode_symbol=unicode_symbol).encode("utf-8")
    assert ws_signature_payload(params) == expected


def test_ws_payload_keeps_decimal_text_of_json_numbers() -> None:
    params = json.loads('{"price": 52000.00, "quantity": 0.01000000}', parse_float=Decimal)
    assert ws_signature_payload(params) == b"price=52000.00&quantity=0.01000000"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (["BTCUSDT", "BNBBTC"], '["BTCUSDT","BNBBTC"]'),
        ([1, Decimal("0.10"), True, None], "[1,0.10,true,null]"),
        ({"a": [UNICODE_SYMBOL]}, '{"a":["１２３４５６"]}'),
        ('["BTCUSDT","BNBBTC"]', '["BTCUSDT","BNBBTC"]'),
    ],
)
def test_ws_payload_renders_json_values_like_binance_sdk(value: object, text: str) -> None:
    assert ws_signature_payload({"x": value}) == f"x={text}".encode()


def test_ws_payload_is_empty_without_params() -> None:
    assert ws_signature_payload({"signature": "abc"}) == b""


# --- WebSocket API HMAC -----------------------------------------------------------------------


@pytest.mark.parametrize("unicode_symbol", [False, True], ids=["ascii", "non_ascii"])
@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["lower", "upper"])
def test_ws_hmac_doc_signature_verifies(unicode_symbol: bool, case: Callable[[str], str]) -> None:
    payload = ws_signature_payload(ws_doc_params(HMAC_API_KEY, unicode_symbol=unicode_symbol))
    signature = WS_HMAC_SIGNATURES[unicode_symbol]
    assert SignatureVerifier.hmac(DOC_SECRET).verify(payload, case(signature))


@pytest.mark.parametrize("unicode_symbol", [False, True], ids=["ascii", "non_ascii"])
def test_ws_hmac_one_character_change_fails(unicode_symbol: bool) -> None:
    payload = ws_doc_payload(HMAC_API_KEY, unicode_symbol=unicode_symbol)
    signature = WS_HMAC_SIGNATURES[unicode_symbol]
    verifier = SignatureVerifier.hmac(DOC_SECRET)
    assert not verifier.verify(tamper(payload).encode(), signature)
    assert not verifier.verify(payload.encode(), tamper(signature))
    assert not SignatureVerifier.hmac(tamper(DOC_SECRET)).verify(payload.encode(), signature)


# --- REST payloads and HMAC -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_query", "raw_body", "expected", "signature"),
    [
        pytest.param(
            f"{REST_ASCII_PAYLOAD}&signature={REST_ASCII_SIGNATURE}",
            "",
            REST_ASCII_PAYLOAD,
            REST_ASCII_SIGNATURE,
            id="doc_ascii_query",
        ),
        pytest.param(
            f"{REST_UNICODE_PAYLOAD}&signature={REST_UNICODE_SIGNATURE}",
            "",
            REST_UNICODE_PAYLOAD,
            REST_UNICODE_SIGNATURE,
            id="doc_non_ascii_percent_encoded_by_client",
        ),
        pytest.param(
            f"{REST_ASCII_PAYLOAD.replace('LTCBTC', UNICODE_SYMBOL)}"
            f"&signature={REST_UNICODE_SIGNATURE}",
            "",
            REST_UNICODE_PAYLOAD,
            REST_UNICODE_SIGNATURE,
            id="non_ascii_raw_utf8_in_query",
        ),
        pytest.param(
            "",
            f"{REST_ASCII_PAYLOAD.replace('LTCBTC', UNICODE_SYMBOL)}"
            f"&signature={REST_UNICODE_SIGNATURE}",
            REST_UNICODE_PAYLOAD,
            REST_UNICODE_SIGNATURE,
            id="non_ascii_raw_utf8_in_body",
        ),
        pytest.param(
            "",
            f"{REST_ASCII_PAYLOAD}&signature={REST_ASCII_SIGNATURE}",
            REST_ASCII_PAYLOAD,
            REST_ASCII_SIGNATURE,
            id="signature_at_end_of_body",
        ),
        pytest.param(
            f"signature={REST_ASCII_SIGNATURE}",
            REST_ASCII_PAYLOAD,
            REST_ASCII_PAYLOAD,
            REST_ASCII_SIGNATURE,
            id="signature_alone_in_query_params_in_body",
        ),
        pytest.param(
            f"signature={REST_ASCII_SIGNATURE}&{REST_ASCII_PAYLOAD}",
            "",
            REST_ASCII_PAYLOAD,
            REST_ASCII_SIGNATURE,
            id="signature_at_start_of_query",
        ),
        pytest.param(
            REST_ASCII_PAYLOAD.replace("&type=", f"&signature={REST_ASCII_SIGNATURE}&type="),
            "",
            REST_ASCII_PAYLOAD,
            REST_ASCII_SIGNATURE,
            id="signature_in_middle_of_query",
        ),
        pytest.param(
            "",
            REST_ASCII_PAYLOAD.replace(
                "&type=", f"&signature={REST_ASCII_SIGNATURE.upper()}&type="
            ),
            REST_ASCII_PAYLOAD,
            REST_ASCII_SIGNATURE.upper(),
            id="signature_in_middle_of_body_upper_case",
        ),
    ],
)
def test_rest_payload_and_doc_hmac_signature(
    raw_query: str, raw_body: str, expected: str, signature: str
) -> None:
    payload = rest_signature_payload(raw_query, raw_body)
    assert payload == expected.encode("ascii")
    verifier = SignatureVerifier.hmac(DOC_SECRET)
    assert verifier.verify(payload, signature)
    assert not verifier.verify(tamper(expected).encode(), signature)


def test_rest_payload_joins_query_and_body_without_separator() -> None:
    # rest-api.md: "the query string concatenated without separator to the HTTP body".
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    signature = hmac.new(DOC_SECRET.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    payload = rest_signature_payload(query, f"{body}&signature={signature}")
    assert payload == (query + body).encode()
    assert SignatureVerifier.hmac(DOC_SECRET).verify(payload, signature)


@pytest.mark.parametrize(
    ("raw_query", "raw_body", "expected"),
    [
        ("newClientOrderId=a%3Ab&x=%ef%bc%91", "", "newClientOrderId=a%3Ab&x=%ef%bc%91"),
        ("symbol=这是测试币456", "", "symbol=%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456"),
        ("a=1&&b=2+3", "c=%20", "a=1&&b=2+3c=%20"),
        ("a=1&signatures=x&mysignature=y", "", "a=1&signatures=x&mysignature=y"),
        ("a=1&signature=x&signature=y", "", "a=1"),
        ("x=\udcff", "", "x=%FF"),
        ("", "", ""),
    ],
)
def test_rest_payload_keeps_ascii_as_received(raw_query: str, raw_body: str, expected: str) -> None:
    assert rest_signature_payload(raw_query, raw_body) == expected.encode("ascii")


# --- RSA --------------------------------------------------------------------------------------

RSA_DOC_EXAMPLES = [
    pytest.param(
        ws_doc_payload(RSA_API_KEY, unicode_symbol=False),
        "OJJaf8C/3VGrU4ATTR4GiUDqL2FboSE1Qw7UnnoYNfXTXHubIl1iaePGuGyfct4NPu5oVEZCH4Q6ZStfB1w4ssgu0uiB"
        "/Bg+fBrRFfVgVaLKBdYHMvT+ljUJzqVaeoThG9oXlduiw8PbS9U8DYAbDvWN3jqZLo4Z2YJbyovyDAvDTr/oC0+vssLq"
        "P7NmlNb3fF3Bj7StmOwJvQJTbRAtzxK5PP7OQe+0mbW+D7RqVkUiSswR8qJFWTeSe4nXXNIdZdueYhF/Xf25L+KitJS5"
        "IHdIHcKfEw3MQzHFb2ZsGWkjDQwxkwr7Noi0Zaa+gFtxCuatGFm9dFIyx217pmSHtA==",
        id="ws_ascii",
    ),
    pytest.param(
        ws_doc_payload(RSA_API_KEY, unicode_symbol=True),
        "F3o/79Ttvl2cVYGPfBOF3oEOcm5QcYmTYWpdVIrKve5u+8paMNDAdUE+teqMxFM9HcquetGcfuFpLYtsQames5bDx/tsk"
        "GM76TWW8HaM+6tuSYBSFLrKqChfA9hQGLYGjAiflf1YBnDhY+7vNbJFusUborNOloOj+ufzP5q42PvI3H0uNy3W5V3pyf"
        "XpDGCBtfCYYr9NAqA4d+AQfyllL/zkO9h9JSdozN49t0/hWGoD2dWgSO0Je6MytKEvD4DQXGeqNlBTB6tUXcWnRW+FcaKZ"
        "4KYqnxCtb1u8rFXUYgFykr2CbcJLSmw6ydEJ3EZ/NaZopRr+cU0W2m0HZ3qucw==",
        id="ws_non_ascii",
    ),
]


@pytest.mark.parametrize(("payload", "doc_signature"), RSA_DOC_EXAMPLES)
def test_rsa_doc_payload_verifies_with_generated_key(
    rsa_key: rsa.RSAPrivateKey, payload: str, doc_signature: str
) -> None:
    # The docs do not publish the public key of apiKey CAvIj..., and it could not be recovered
    # from their example signatures (no two share a 2048-bit modulus with e=65537 over the
    # printed payloads), so a fresh key signs the doc's payload here.
    verifier = SignatureVerifier.from_public_key_pem(public_pem(rsa_key))
    assert verifier.key_type is KeyType.RSA
    payload_bytes = payload.encode("utf-8")
    signature = rsa_sign(rsa_key, payload_bytes)
    assert verifier.verify(payload_bytes, signature)
    assert not verifier.verify(payload_bytes, doc_signature)
    assert not verifier.verify(tamper(payload).encode(), signature)
    assert not verifier.verify(payload_bytes, signature.swapcase())


@pytest.mark.parametrize("key_size", [2048, 3072, 4096])
def test_rsa_key_sizes_from_2048_to_4096_are_accepted(key_size: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    verifier = SignatureVerifier.from_public_key_pem(public_pem(key))
    assert verifier.verify(b"a=1", rsa_sign(key, b"a=1"))


def test_rest_rsa_signature_from_percent_encoded_query(rsa_key: rsa.RSAPrivateKey) -> None:
    # rest-api.md, "RSA Keys": the base64 signature is itself percent-encoded in the query; the
    # transport decodes the parameter value, this module signs the rest as received.
    payload = REST_UNICODE_PAYLOAD.encode()
    signature = rsa_sign(rsa_key, payload)
    query = f"{REST_UNICODE_PAYLOAD}&{urlencode({'signature': signature})}"
    assert rest_signature_payload(query, "") == payload
    assert SignatureVerifier.from_public_key_pem(public_pem(rsa_key)).verify(payload, signature)


# --- Ed25519 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("unicode_symbol", [False, True], ids=["ascii", "non_ascii"])
def test_ed25519_doc_payload_verifies_with_generated_key(
    ed25519_key: ed25519.Ed25519PrivateKey, unicode_symbol: bool
) -> None:
    verifier = SignatureVerifier.from_public_key_pem(public_pem(ed25519_key))
    assert verifier.key_type is KeyType.ED25519
    payload = ws_signature_payload(ws_doc_params(ED25519_API_KEY, unicode_symbol=unicode_symbol))
    signature = base64.b64encode(ed25519_key.sign(payload)).decode()
    assert verifier.verify(payload, signature)
    assert not verifier.verify(payload + b"&", signature)
    assert not verifier.verify(payload, signature.swapcase())
    other = SignatureVerifier.from_public_key_pem(public_pem(ed25519.Ed25519PrivateKey.generate()))
    assert not other.verify(payload, signature)


@pytest.mark.parametrize(
    ("file_name", "key_type"),
    [
        ("binance-doc-sample-rsa-2048-public.pem", KeyType.RSA),
        ("binance-doc-sample-ed25519-public.pem", KeyType.ED25519),
    ],
)
def test_doc_sample_public_keys_load(file_name: str, key_type: KeyType) -> None:
    verifier = SignatureVerifier.from_public_key_pem((FIXTURES / file_name).read_text())
    assert verifier.key_type is key_type


# --- Malformed input --------------------------------------------------------------------------

GARBAGE_SIGNATURES = [
    "",
    "not base64 !!",
    "====",
    "AAAA",
    "é" * 64,
    "\x00",
    "ZZZZ" * 86,
    base64.b64encode(bytes(64)).decode(),
    base64.b64encode(bytes(256)).decode(),
    base64.b64encode(bytes(512)).decode() + "\n",
    "0" * 64,
    "g" * 64,
    "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db2",
]


@pytest.mark.parametrize("signature", GARBAGE_SIGNATURES)
def test_garbage_signatures_are_rejected_without_exception(
    rsa_key: rsa.RSAPrivateKey, ed25519_key: ed25519.Ed25519PrivateKey, signature: str
) -> None:
    verifiers = [
        SignatureVerifier.hmac(DOC_SECRET),
        SignatureVerifier.from_public_key_pem(public_pem(rsa_key)),
        SignatureVerifier.from_public_key_pem(public_pem(ed25519_key)),
    ]
    payload = ws_doc_payload(HMAC_API_KEY, unicode_symbol=False).encode()
    for verifier in verifiers:
        assert verifier.verify(payload, signature) is False


def test_hmac_signature_of_another_payload_is_rejected() -> None:
    verifier = SignatureVerifier.hmac(DOC_SECRET)
    assert not verifier.verify(REST_ASCII_PAYLOAD.encode(), WS_HMAC_SIGNATURES[False])


def _private_key_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _rsa_public_pem(key_size: int, public_format: serialization.PublicFormat) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    return key.public_key().public_bytes(serialization.Encoding.PEM, public_format).decode()


def _ec_public_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    ("make_pem", "message"),
    [
        pytest.param(lambda: "", "PUBLIC KEY", id="empty"),
        pytest.param(lambda: "not a key", "PUBLIC KEY", id="garbage"),
        pytest.param(
            lambda: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "cannot read",
            id="garbage_in_pem_block",
        ),
        pytest.param(_private_key_pem, "private key", id="private_key"),
        pytest.param(
            lambda: _rsa_public_pem(1024, serialization.PublicFormat.SubjectPublicKeyInfo),
            "1024 bits",
            id="rsa_1024",
        ),
        pytest.param(
            lambda: _rsa_public_pem(2048, serialization.PublicFormat.PKCS1),
            "PUBLIC KEY",
            id="rsa_pkcs1_block",
        ),
        pytest.param(_ec_public_pem, "unsupported key type", id="ec_p256"),
    ],
)
def test_unusable_public_keys_raise_value_error(make_pem: Callable[[], str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        SignatureVerifier.from_public_key_pem(make_pem())


# --- Key generation ---------------------------------------------------------------------------


@pytest.mark.parametrize("generate", [generate_api_key, generate_hmac_secret])
def test_generated_keys_are_64_alphanumeric_characters(generate: Callable[[], str]) -> None:
    first, second = generate(), generate()
    assert re.fullmatch(r"[A-Za-z0-9]{64}", first)
    assert first != second


# --- Real clients -----------------------------------------------------------------------------


def test_binance_sdk_ws_signature_verifies() -> None:
    from binance_common.models import WebsocketApiOptions
    from binance_common.utils import ws_api_payload

    config = types.SimpleNamespace(api_key=HMAC_API_KEY, api_secret=DOC_SECRET, private_key=None)
    request = {
        "method": "order.place",
        "params": {
            "symbol": "BTCUSDT",
            "side": "SELL",
            "price": Decimal("52000.00"),
            "recv_window": 100,
            "returnRateLimits": False,
        },
    }
    options = WebsocketApiOptions(api_key=True, is_signed=True, skip_auth=False, signer=None)
    frame = json.dumps(ws_api_payload(config, request, options))
    params = json.loads(frame, parse_float=Decimal)["params"]
    assert b"&returnRateLimits=false&" in ws_signature_payload(params)
    assert SignatureVerifier.hmac(DOC_SECRET).verify(
        ws_signature_payload(params), params["signature"]
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_python_binance_rest_signature_verifies(method: str) -> None:
    with warnings.catch_warnings():
        # python-binance imports a deprecated name from websockets.
        warnings.simplefilter("ignore", DeprecationWarning)
        from binance.client import Client

    client = Client(HMAC_API_KEY, DOC_SECRET, ping=False)
    # The sync client makes itself an event loop it never closes; close it here, or its
    # ResourceWarning surfaces in whichever test happens to run the garbage collector.
    client.loop.close()
    asyncio.set_event_loop(None)
    client.close_connection()
    data = {"symbol": UNICODE_SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "1"}
    request = client._get_request_kwargs(method, True, data=data)
    if method == "get":  # signed params go in the query string
        raw_query, raw_body = request["params"], ""
        signature = raw_query.rpartition("&signature=")[2]
    else:  # signed params go in a form body, which requests encodes with urlencode
        raw_query, raw_body = "", urlencode(request["data"])
        signature = dict(request["data"])["signature"]
    payload = rest_signature_payload(raw_query, raw_body)
    assert UNICODE_SYMBOL_ENCODED.encode() in payload
    assert SignatureVerifier.hmac(DOC_SECRET).verify(payload, signature)
