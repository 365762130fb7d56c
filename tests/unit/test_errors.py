"""The error catalog against errors.md: every code and message is Binance's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localspot import errors


def _errors_md() -> str:
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "binance-spot-docs" / "testnet" / "errors.md"
        if candidate.exists():
            return candidate.read_text()
    pytest.skip("shared/binance-spot-docs not found")


CATALOG = [value for value in vars(errors).values() if isinstance(value, errors.ErrorSpec)]


def test_catalog_is_not_empty():
    assert len(CATALOG) > 60


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: f"{s.code}:{s.message[:30]}")
def test_every_code_is_documented(spec):
    assert f"### {spec.code} " in _errors_md() or spec.code in (-1010, -2038)


# Messages documented elsewhere than errors.md (binance-observed.md and the WebSocket API docs).
OBSERVED = {
    errors.INVALID_PARAMS_OBJECT.message,
    errors.INVALID_REQUEST_ID.message,
    errors.TOO_MANY_RAW_REQUESTS.message,
    errors.STP_MODE_NOT_ALLOWED.message,  # stp_faq.md
}


@pytest.mark.parametrize("spec", CATALOG, ids=lambda s: f"{s.code}:{s.message[:30]}")
def test_every_message_is_documented_word_for_word(spec):
    if spec.message in OBSERVED:
        pytest.skip("documented in binance-observed.md / web-socket-api.md")
    text = _errors_md().replace("`", "")
    message = spec.message.replace("`", "").rstrip(".")
    # a template's %s stands for whatever Binance fills in (a filter name, a parameter ...)
    pattern = ".+?".join(re.escape(part) for part in message.split("%s"))
    assert re.search(pattern, text), spec.message


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        (errors.REJECTED_MBX_KEY, 401),
        (errors.BAD_API_KEY_FMT, 401),
        (errors.TOO_MUCH_REQUEST_WEIGHT, 429),
        (errors.IP_BANNED, 418),
        (errors.TOO_MANY_ORDERS, 429),
        (errors.UNEXPECTED_RESP, 500),
        (errors.BAD_SYMBOL, 400),
        (errors.TIMESTAMP_AHEAD, 400),
    ],
)
def test_statuses(spec, status):
    assert spec.status == status


def test_templates_are_filled_positionally():
    error = errors.ILLEGAL_CHARS_PARAM.error("symbol", "^[A-Z]$")
    assert error.msg == "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z]$'."
    assert error.body() == {"code": -1100, "msg": error.msg}
    assert errors.BAD_SYMBOL.error().body() == {"code": -1121, "msg": "Invalid symbol."}


def test_data_is_carried_for_rate_limit_errors():
    error = errors.IP_BANNED.error(5, data={"serverTime": 1, "retryAfter": 5})
    assert error.body() == {
        "code": -1003,
        "msg": "Way too much request weight used; IP banned until 5. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        "data": {"serverTime": 1, "retryAfter": 5},
    }


def test_engine_rejections_cover_the_documented_table():
    text = _errors_md()
    table = text.split("## Messages for -1010")[1].split("## Errors regarding")[0]
    quoted = re.findall(r'^\s*\|?\s*"([^"|]+)', table, flags=re.MULTILINE)
    assert len(quoted) > 30
    for message in quoted:
        wanted = message.strip().rstrip(".")
        assert any(m.startswith(wanted) for m in errors.ENGINE_MESSAGES), message
    assert errors.INSUFFICIENT_BALANCE.error().body() == {
        "code": -2010,
        "msg": "Account has insufficient balance for requested action.",
    }
