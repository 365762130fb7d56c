"""Configuration: defaults are the testnet's; TOML overrides symbols, limits and options."""

from __future__ import annotations

from decimal import Decimal

import pytest

from localspot.config import Config, ConfigError, config_from_toml, load_config


def test_defaults_are_the_testnet_values():
    config = Config()
    assert config.port == 8765
    assert config.host == "127.0.0.1"
    assert [s["symbol"] for s in config.symbols] == [
        "BTCUSDT",
        "ETHUSDT",
        "BNBUSDT",
        "ETHBTC",
        "BNBBTC",
    ]
    assert [(r.rate_limit_type, r.interval_num, r.limit) for r in config.rate_limits] == [
        ("REQUEST_WEIGHT", 1, 6000),
        ("ORDERS", 10, 50),
        ("ORDERS", 1, 160000),
        ("RAW_REQUESTS", 5, 300000),
    ]
    assert config.connection_limit.limit == 300


def test_toml_overrides(tmp_path):
    path = tmp_path / "localspot.toml"
    path.write_text(
        """
[server]
port = 9000
admin_token = "t"

[websocket]
ping_interval_s = 5

[rate_limits]
rules = [{rateLimitType = "REQUEST_WEIGHT", interval = "MINUTE", intervalNum = 1, limit = 100}]

[commission]
maker = "0.001"
taker = "0.002"

[symbols]
only = ["BTCUSDT", "DOGEUSDT"]

[symbols.BTCUSDT]
status = "HALT"
filters = [{filterType = "LOT_SIZE", minQty = "0.00100000"}]

[symbols.DOGEUSDT]
baseAsset = "DOGE"
quoteAsset = "USDT"
"""
    )
    config = load_config(path)
    assert config.port == 9000
    assert config.admin_token == "t"
    assert config.ping_interval_s == 5
    assert [r.limit for r in config.rate_limits] == [100]
    assert config.commission.taker == Decimal("0.002")
    names = [s["symbol"] for s in config.symbols]
    assert names == ["BTCUSDT", "DOGEUSDT"]
    btc = config.symbols[0]
    assert btc["status"] == "HALT"
    lot = next(f for f in btc["filters"] if f["filterType"] == "LOT_SIZE")
    assert lot == {
        "filterType": "LOT_SIZE",
        "minQty": "0.00100000",
        "maxQty": "9000.00000000",
        "stepSize": "0.00001000",
    }
    doge = config.symbols[1]
    assert (doge["baseAsset"], doge["quoteAsset"]) == ("DOGE", "USDT")
    assert list(doge) == list(btc)
    # the defaults were not mutated
    assert Config().symbols[0]["status"] == "TRADING"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"nope": {}}, "unknown section"),
        ({"symbols": {"NEWCOIN": {"baseAsset": "NEW"}}}, "needs quoteAsset"),
        ({"rate_limits": {"rules": [{"limit": 1}]}}, "rate limit rule"),
        ({"commission": {"maker": "x"}}, "not a decimal"),
    ],
)
def test_bad_config_names_the_problem(raw, fragment):
    with pytest.raises(ConfigError, match=fragment):
        config_from_toml(raw)


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.toml")
