"""`localspot serve` and `localspot account create`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import web

from localspot.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ConfigError,
    default_data_dir,
    load_config,
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localspot", description="A local, self-hosted Binance Spot Testnet."
    )
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=int, help=f"port to listen on (default {DEFAULT_PORT}; 0 = any free port)"
    )
    serve.add_argument(
        "--data-dir",
        type=Path,
        help="directory for durable state (default $LOCALSPOT_DATA_DIR, else "
        "$XDG_DATA_HOME/localspot or ~/.local/share/localspot)",
    )
    serve.add_argument(
        "--in-memory", action="store_true", default=None, help="keep no state on disk"
    )
    serve.add_argument(
        "--synchronous",
        choices=["OFF", "NORMAL", "FULL", "EXTRA"],
        help="SQLite synchronous level of journal commits (default NORMAL)",
    )
    serve.add_argument(
        "--commit-window-ms",
        type=float,
        help="how long a group commit waits for more commands (default 0)",
    )
    serve.add_argument("--config", type=Path, help="TOML configuration file")
    serve.add_argument("--admin-token", help="require 'Authorization: Bearer TOKEN' on /admin/v1")
    serve.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    serve.set_defaults(run=_serve)

    replay = commands.add_parser(
        "replay", help="verify a data dir: replay its journal and compare with its snapshot"
    )
    replay.add_argument("data_dir", type=Path, help="the data dir to verify (read only)")
    replay.add_argument("--config", type=Path, help="TOML configuration the server runs with")
    replay.set_defaults(run=_replay)

    account = commands.add_parser("account", help="manage accounts on a running server")
    account_commands = account.add_subparsers(dest="account_command", required=True)
    create = account_commands.add_parser("create", help="create a funded account and its API key")
    create.add_argument(
        "--balance",
        action="append",
        default=[],
        metavar="ASSET=AMOUNT",
        help="initial balance, repeatable (e.g. --balance BTC=10)",
    )
    create.add_argument(
        "--key-type", default="HMAC_SHA256", choices=["HMAC_SHA256", "ED25519", "RSA"]
    )
    create.add_argument(
        "--public-key",
        type=Path,
        help="PEM public key (ED25519/RSA); without it a key pair is generated",
    )
    create.add_argument(
        "--permission",
        action="append",
        dest="permissions",
        choices=["TRADE", "USER_DATA", "USER_STREAM"],
        help="grant only these permissions (repeatable; default all)",
    )
    create.add_argument(
        "--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}", help="server base URL"
    )
    create.add_argument("--admin-token", help="admin token, if the server requires one")
    create.set_defaults(run=_account_create)
    return parser


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config).with_overrides(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            in_memory=args.in_memory,
            admin_token=args.admin_token,
            synchronous=args.synchronous,
            commit_window_ms=args.commit_window_ms,
        )
    except ConfigError as exc:
        print(f"localspot: configuration error: {exc}", file=sys.stderr)
        return 2
    if config.data_dir is None and not config.in_memory:
        config = config.with_overrides(data_dir=default_data_dir())
    from localspot.storage import StorageError

    try:
        asyncio.run(_run_server(config))
    except StorageError as exc:
        print(f"localspot: data dir error: {exc}", file=sys.stderr)
        return 1
    return 0


def _replay(args: argparse.Namespace) -> int:
    from localspot.app import build_services
    from localspot.storage import StorageError, engine_factory
    from localspot.storage.persistence import verify
    from localspot.storage.snapshot import fingerprint
    from localspot.storage.sqlite import SqliteStorage

    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    try:
        services = build_services(load_config(args.config))
        storage = SqliteStorage(args.data_dir, read_only=True)
    except (ConfigError, StorageError) as exc:
        print(f"localspot: {exc}", file=sys.stderr)
        return 2
    try:
        result = verify(storage, engine_factory(services.symbols), fingerprint(services.symbols))
    except StorageError as exc:
        print(f"localspot: {exc}", file=sys.stderr)
        return 1
    finally:
        storage.close()
    print(f"journal records replayed: {result.records}")
    if result.snapshot_seq is None:
        print("no snapshot to compare with")
    else:
        print(f"compared with the snapshot at seq {result.snapshot_seq}")
    if result.note:
        print(f"note: {result.note}")
    for difference in result.differences:
        print(f"DIFFERS {difference}")
    print("OK" if result.ok else "MISMATCH")
    return 0 if result.ok else 1


async def _run_server(config: Any) -> None:
    from localspot.app import build_app

    app = build_app(config)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = _bound_port(runner, config.port)
    host = config.host if ":" not in config.host else f"[{config.host}]"
    print(
        f"localspot listening: WebSocket API ws://{host}:{port}/ws-api/v3 "
        f"REST http://{host}:{port}/api/v3 admin http://{host}:{port}/admin/v1",
        flush=True,
    )
    if config.in_memory or config.data_dir is None:
        print("localspot: in memory; nothing is kept after exit", flush=True)
    else:
        print(f"localspot: state in {config.data_dir}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("localspot: shutting down", flush=True)
    await runner.cleanup()


def _bound_port(runner: web.AppRunner, default: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return default


def _account_create(args: argparse.Namespace) -> int:
    balances: dict[str, str] = {}
    for item in args.balance:
        asset, sep, amount = item.partition("=")
        if not sep or not asset or not amount:
            print(f"localspot: --balance wants ASSET=AMOUNT, got {item!r}", file=sys.stderr)
            return 2
        balances[asset.upper()] = amount
    body: dict[str, Any] = {"balances": balances, "keyType": args.key_type}
    private_pem = None
    if args.key_type != "HMAC_SHA256":
        if args.public_key is not None:
            body["publicKey"] = args.public_key.read_text()
        else:
            private_pem, body["publicKey"] = _generate_key_pair(args.key_type)
    if args.permissions:
        body["permissions"] = args.permissions
    request = urllib.request.Request(
        args.url.rstrip("/") + "/admin/v1/accounts",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if args.admin_token:
        request.add_header("Authorization", f"Bearer {args.admin_token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            created = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        print(f"localspot: {exc.code} {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"localspot: cannot reach {args.url}: {exc.reason}", file=sys.stderr)
        return 1
    print(f"accountId: {created['accountId']}")
    print(f"apiKey:    {created['apiKey']}")
    if "secretKey" in created:
        print(f"secretKey: {created['secretKey']}")
    if private_pem is not None:
        print("privateKey (keep it; it is not stored anywhere):")
        print(private_pem, end="")
    for asset, balance in created["balances"].items():
        print(f"balance:   {asset} {balance['free']}")
    return 0


def _generate_key_pair(key_type: str) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    private: Any
    if key_type == "ED25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


if __name__ == "__main__":
    sys.exit(main())
