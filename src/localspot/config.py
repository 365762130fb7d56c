"""Configuration: one `Config` object from which `app.py` builds the whole server.

Sources, later ones winning: the built-in defaults (the real testnet's values), a TOML file
(`--config FILE.toml`), then command-line flags. docs/configuration.md is the reference.
"""

from __future__ import annotations

import copy
import json
import os
import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from localspot.limits.limiter import DEFAULT_CONNECTION_RULE, RateLimitRule

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def default_exchange_info() -> dict[str, Any]:
    """Return the packaged testnet exchangeInfo (timezone, rateLimits, filters, symbols)."""
    text = resources.files("localspot").joinpath("data/symbols.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True)
class CommissionConfig:
    """Default commission rates given to new accounts (fractions; testnet charges none)."""

    maker: Decimal = Decimal(0)
    taker: Decimal = Decimal(0)
    buyer: Decimal = Decimal(0)
    seller: Decimal = Decimal(0)


@dataclass(frozen=True)
class Config:
    """Everything the server needs to start."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path | None = None
    in_memory: bool = False
    # Durable state (docs/persistence.md); used when data_dir is set and in_memory is not.
    synchronous: str = "NORMAL"
    commit_window_ms: float = 0.0
    snapshot_every_commands: int = 20_000
    snapshot_every_s: float = 300.0
    admin_token: str | None = None
    admin_allow_remote: bool = False
    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    connection_lifetime_s: float = 24 * 3600.0
    max_frame_bytes: int = 1 << 20
    recv_window_default_ms: int = 5000
    recv_window_max_ms: int = 60000
    rate_limits: tuple[RateLimitRule, ...] = ()
    connection_limit: RateLimitRule = DEFAULT_CONNECTION_RULE
    rate_limits_enabled: bool = True
    exchange_info: dict[str, Any] = field(default_factory=default_exchange_info)
    commission: CommissionConfig = CommissionConfig()

    def __post_init__(self) -> None:
        if not self.rate_limits:
            rules = tuple(rule_from_json(r) for r in self.exchange_info["rateLimits"])
            object.__setattr__(self, "rate_limits", rules)

    @property
    def symbols(self) -> list[dict[str, Any]]:
        """Return the exchangeInfo symbol entries."""
        symbols: list[dict[str, Any]] = self.exchange_info["symbols"]
        return symbols

    def with_overrides(self, **changes: Any) -> Config:
        """Return a copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def default_data_dir() -> Path:
    """Return where `localspot serve` keeps state without --data-dir (docs/persistence.md)."""
    if os.environ.get("LOCALSPOT_DATA_DIR"):
        return Path(os.environ["LOCALSPOT_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "localspot"


def rule_from_json(entry: dict[str, Any]) -> RateLimitRule:
    """Build a rate limit rule from its exchangeInfo JSON form."""
    return RateLimitRule(
        entry["rateLimitType"], entry["interval"], int(entry["intervalNum"]), int(entry["limit"])
    )


class ConfigError(ValueError):
    """The configuration file is not valid; the message names the problem."""


def load_config(path: Path | None) -> Config:
    """Read a TOML configuration file (or return the defaults for None)."""
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return config_from_toml(raw)


def config_from_toml(raw: dict[str, Any]) -> Config:
    """Build a Config from parsed TOML (see docs/configuration.md for the keys)."""
    known = {"server", "websocket", "rate_limits", "commission", "symbols", "storage"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    info = default_exchange_info()
    kwargs: dict[str, Any] = {}
    server = raw.get("server", {})
    for key in ("host", "port", "admin_token", "admin_allow_remote", "in_memory"):
        if key in server:
            kwargs[key] = server[key]
    if "data_dir" in server:
        kwargs["data_dir"] = Path(server["data_dir"])
    storage = raw.get("storage", {})
    for key in ("synchronous", "commit_window_ms", "snapshot_every_commands", "snapshot_every_s"):
        if key in storage:
            kwargs[key] = storage[key]
    if "data_dir" in storage:
        kwargs["data_dir"] = Path(storage["data_dir"])
    ws = raw.get("websocket", {})
    for key in ("ping_interval_s", "pong_timeout_s", "connection_lifetime_s", "max_frame_bytes"):
        if key in ws:
            kwargs[key] = ws[key]
    limits = raw.get("rate_limits", {})
    if "enabled" in limits:
        kwargs["rate_limits_enabled"] = bool(limits["enabled"])
    if "rules" in limits:
        info["rateLimits"] = [_rule_entry(r) for r in limits["rules"]]
    if "connections" in limits:
        kwargs["connection_limit"] = rule_from_json(_rule_entry(limits["connections"]))
    if "commission" in raw:
        kwargs["commission"] = CommissionConfig(
            **{k: _decimal(v, f"commission.{k}") for k, v in raw["commission"].items()}
        )
    if "symbols" in raw:
        info["symbols"] = _merge_symbols(info["symbols"], raw["symbols"])
    return Config(exchange_info=info, **kwargs)


def _rule_entry(rule: dict[str, Any]) -> dict[str, Any]:
    try:
        return {
            "rateLimitType": str(rule["rateLimitType"]),
            "interval": str(rule["interval"]),
            "intervalNum": int(rule["intervalNum"]),
            "limit": int(rule["limit"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"rate limit rule {rule!r}: {exc}") from exc


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f"{where}: not a decimal: {value!r}") from exc


def _merge_symbols(defaults: list[dict[str, Any]], raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply `[symbols]`: `only = [...]` keeps a subset; `[symbols.NAME]` overrides or adds."""
    by_name = {s["symbol"]: s for s in defaults}
    names = list(by_name)
    if "only" in raw:
        names = [n for n in raw["only"] if n in by_name]
        missing = set(raw["only"]) - set(by_name)
        names += [n for n in raw["only"] if n in missing and n in raw]
    for name, override in raw.items():
        if name == "only":
            continue
        if not isinstance(override, dict):
            raise ConfigError(f"symbols.{name} must be a table")
        base = by_name.get(name)
        if base is None:
            for required in ("baseAsset", "quoteAsset"):
                if required not in override:
                    raise ConfigError(f"new symbol {name} needs {required}")
            base = copy.deepcopy(by_name.get("BTCUSDT", defaults[0]))
            base["symbol"] = name
            if name not in names:
                names.append(name)
        by_name[name] = _override_symbol(base, override)
    return [by_name[n] for n in names]


def _override_symbol(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    entry = copy.deepcopy(base)
    for key, value in override.items():
        if key == "filters":
            by_type = {f["filterType"]: f for f in entry["filters"]}
            for new in value:
                if "filterType" not in new:
                    raise ConfigError(f"{entry['symbol']}: filter without filterType")
                old = by_type.get(new["filterType"])
                if old is None:
                    entry["filters"].append(dict(new))
                else:
                    old.update(new)
        else:
            entry[key] = value
    return entry
