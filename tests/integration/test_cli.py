"""`localspot serve` and `localspot account create` as a person runs them, in real processes."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

URL_LINE = re.compile(r"REST (http://127\.0\.0\.1:(\d+))/api/v3")


QUIET = ["--log-level", "WARNING"]


@pytest.fixture
def served():
    """Start `localspot serve --port 0` and yield its base URL; SIGTERM it at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localspot", "serve", "--port", "0", "--in-memory", *QUIET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = URL_LINE.search(line)
        assert match, f"no startup line: {line!r}"
        assert "ws://127.0.0.1:" in line
        assert "/ws-api/v3" in line
        assert "/admin/v1" in line
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
        process.stderr.close()


def _get(url: str) -> tuple[int, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


def _localspot(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `localspot` command line to completion."""
    return subprocess.run(
        [sys.executable, "-m", "localspot", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_serve_answers_and_stops_gracefully_on_sigterm(served):
    process, base = served
    assert _get(base + "/api/v3/ping") == (200, {})
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert "shutting down" in process.stdout.read()


async def test_running_server_sends_server_shutdown_on_sigint(served):
    import aiohttp

    process, base = served
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(base.replace("http", "ws") + "/ws-api/v3")
        await ws.send_str('{"id":1,"method":"ping"}')
        assert (await ws.receive_json(timeout=5))["status"] == 200
        process.send_signal(signal.SIGINT)
        event = await ws.receive_json(timeout=10)
        assert event["event"]["e"] == "serverShutdown"
        await ws.close()
    assert await asyncio.to_thread(process.wait, 10) == 0


def test_account_create_prints_keys(served):
    _, base = served
    result = _localspot(
        "account", "create", "--url", base, "--balance", "BTC=10", "--balance", "USDT=1000"
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^apiKey:\s+[A-Za-z0-9]{64}$", result.stdout, re.MULTILINE)
    assert re.search(r"^secretKey:\s+[A-Za-z0-9]{64}$", result.stdout, re.MULTILINE)
    assert "balance:   BTC 10.00000000" in result.stdout
    account_id = re.search(r"^accountId: (\d+)$", result.stdout, re.MULTILINE).group(1)
    status, account = _get(f"{base}/admin/v1/accounts/{account_id}")
    assert status == 200
    assert account["balances"]["USDT"]["free"] == "1000.00000000"


def test_account_create_ed25519_generates_a_key_pair(served):
    _, base = served
    result = _localspot(
        "account", "create", "--url", base, "--key-type", "ED25519", "--balance", "BTC=1"
    )
    assert result.returncode == 0, result.stderr
    assert "-----BEGIN PRIVATE KEY-----" in result.stdout
    assert "secretKey" not in result.stdout


def test_bad_config_file_is_refused(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[nope]\n")
    result = subprocess.run(
        [sys.executable, "-m", "localspot", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown section(s): nope" in result.stderr
