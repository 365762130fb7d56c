"""Shared fixtures: in-process servers on 127.0.0.1 with free ports, stopped after each test."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from localspot.app import build_app
from localspot.clock import Clock
from localspot.config import Config
from support import Server, ServerFactory


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.fixture
def clock() -> Clock | None:
    return None


@pytest.fixture
async def start_server() -> AsyncIterator[ServerFactory]:
    """Start servers with a given config (and clock); all are stopped at the end."""
    started: list[Server] = []

    async def start(
        config: Config | None = None, clock: Clock | None = None, **overrides: Any
    ) -> Server:
        cfg = config or Config()
        if overrides:
            cfg = replace(cfg, **overrides)
        app = build_app(cfg, clock)
        test_server = TestServer(app, host="127.0.0.1", port=0)
        await test_server.start_server()
        session = aiohttp.ClientSession()
        server = Server(test_server, session)
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()
    # Collect now, so an unclosed client connection or loop warns in the test that made it
    # rather than in whichever later test the garbage collector happens to run in.
    gc.collect()


@pytest.fixture
async def server(start_server: ServerFactory, config: Config, clock: Clock | None) -> Server:
    return await start_server(config, clock)
