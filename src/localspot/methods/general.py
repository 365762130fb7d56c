"""General requests: `ping`, `time`, `exchangeInfo`, `executionRules`.

web-socket-api.md "General requests"; rest-api.md "General endpoints".
Known difference: `sors` is never present (localspot has no SOR yet), as in the real testnet's
answer to a `symbols=` request.
"""

from __future__ import annotations

import enum
from typing import Any

from localspot import errors
from localspot.methods.context import Call
from localspot.methods.params import Params
from localspot.methods.registry import Registry, method


class SymbolStatus(enum.StrEnum):
    """Symbol trading status (enums.md)."""

    PRE_TRADING = "PRE_TRADING"
    TRADING = "TRADING"
    HALT = "HALT"
    BREAK = "BREAK"
    CANCEL_ONLY = "CANCEL_ONLY"


_QUERYABLE_STATUSES = (SymbolStatus.TRADING, SymbolStatus.HALT, SymbolStatus.BREAK)
DEFAULT_PERMISSIONS = ("SPOT", "MARGIN", "LEVERAGED")


def register(registry: Registry) -> None:
    """Add the general methods to `registry`."""
    method(registry, "ping", weight=1, rest=[("GET", "/api/v3/ping")])(ping)
    method(registry, "time", weight=1, rest=[("GET", "/api/v3/time")])(time)
    method(
        registry,
        "exchangeInfo",
        weight=20,
        params=("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"),
        rest=[("GET", "/api/v3/exchangeInfo")],
    )(exchange_info)
    method(
        registry,
        "executionRules",
        weight=execution_rules_weight,
        params=("symbol", "symbols", "symbolStatus"),
        rest=[("GET", "/api/v3/executionRules")],
    )(execution_rules)


def ping(call: Call) -> dict[str, Any]:
    """Test connectivity."""
    return {}


def time(call: Call) -> dict[str, Any]:
    """Return the server time."""
    return {"serverTime": call.server_time()}


def exchange_info(call: Call) -> dict[str, Any]:
    """Return trading rules, rate limits and symbols (all documented variants)."""
    p = call.params
    symbols = _selected_symbols(call, p)
    show_permission_sets = p.boolean("showPermissionSets")
    if show_permission_sets is False:
        symbols = [{**s, "permissionSets": []} for s in symbols]
    services = call.services
    return {
        "timezone": services.config.exchange_info.get("timezone", "UTC"),
        "serverTime": call.server_time(),
        "rateLimits": [rule.exchange_info() for rule in services.config.rate_limits],
        "exchangeFilters": services.config.exchange_info.get("exchangeFilters", []),
        "symbols": symbols,
    }


def _selected_symbols(call: Call, p: Params) -> list[dict[str, Any]]:
    chosen = [name for name in ("symbol", "symbols", "permissions") if p.has(name)]
    if len(chosen) > 1:
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    status = _symbol_status(p)
    if status is not None and chosen and chosen[0] != "permissions":
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    by_name = call.services.symbols
    if chosen and chosen[0] != "permissions":
        return [by_name[n] for n in _requested_names(p, by_name)]
    wanted = set(_permissions(p) if chosen else DEFAULT_PERMISSIONS)
    entries = [s for s in by_name.values() if _has_permission(s, wanted)]
    if status is not None:
        entries = [s for s in entries if s["status"] == status]
    return entries


def _requested_names(p: Params, known: dict[str, Any]) -> list[str]:
    """Return the names asked for by `symbol` or `symbols`; -1121 for an unknown one."""
    single = p.symbol("symbol", required=False)
    names = [single] if single is not None else (p.symbol_list("symbols") or [])
    if not names or any(name not in known for name in names):
        raise errors.BAD_SYMBOL.error()
    return names


def _symbol_status(p: Params) -> SymbolStatus | None:
    status = p.enum("symbolStatus", SymbolStatus, invalid=errors.INVALID_SYMBOLSTATUS)
    if status is not None and status not in _QUERYABLE_STATUSES:
        raise errors.INVALID_SYMBOLSTATUS.error()
    return status


def _permissions(p: Params) -> list[str]:
    raw = p["permissions"]
    if isinstance(raw, str) and not raw.startswith("["):
        return [raw]
    return p.string_list("permissions", legal_range=r"^\[(\"[A-Z_0-9]{1,50}\",?)*\]$") or []


def _has_permission(entry: dict[str, Any], wanted: set[str]) -> bool:
    sets = entry.get("permissionSets") or [entry.get("permissions", [])]
    return any(perm in wanted for group in sets for perm in group)


def execution_rules_weight(p: Params) -> int:
    """Return the documented weight: 2 per symbol (capped at 40), else 40."""
    if p.has("symbol"):
        return 2
    symbols = p.get("symbols")
    if isinstance(symbols, list):
        return min(40, 2 * len(symbols))
    if isinstance(symbols, str) and symbols:
        return min(40, 2 * max(1, symbols.count(",") + 1))
    return 40


def execution_rules(call: Call) -> dict[str, Any]:
    """Return the execution rules (PRICE_RANGE) per symbol."""
    p = call.params
    chosen = [name for name in ("symbol", "symbols", "symbolStatus") if p.has(name)]
    if len(chosen) > 1:
        raise errors.OPTIONAL_PARAMS_BAD_COMBO.error()
    by_name = call.services.symbols
    status = _symbol_status(p)
    if chosen and chosen[0] != "symbolStatus":
        names = _requested_names(p, by_name)
    else:
        names = [n for n, s in by_name.items() if status is None or s["status"] == status]
    rules = call.services.execution_rules
    return {"symbolRules": [{"symbol": n, "rules": rules.get(n, [])} for n in names]}
