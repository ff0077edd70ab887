"""Fixtures for the unlocker tests: a private redis-server, stores under a fresh prefix, a devnet.

Every test runs against a redis-server started here on a free port, under a coin prefix of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from unlocker_support import DevnetDriver, RedisServer

from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet
from athena_pool.storage import Store
from athena_pool.storage.ledger import Ledger

DEVNET_DIFFICULTY = 8  # a few cn-lite/1 hashes per block


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def coin_prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
async def redis_client(redis_server: RedisServer, coin_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = redis_server.client()
    yield client
    async for key in client.scan_iter(match=f"{coin_prefix}:*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
def store(redis_client: aioredis.Redis, coin_prefix: str) -> Store:
    return Store(redis_client, coin_prefix)


@pytest.fixture
def ledger(redis_client: aioredis.Redis, store: Store) -> Ledger:
    return Ledger(redis_client, store.keys, credit_history=3)


@pytest.fixture
async def devnet(tmp_path: Path) -> AsyncIterator[RunningDevnet]:
    options = DevnetOptions(
        daemon_port=0,
        wallet_port=0,
        data_dir=tmp_path / "devnet",
        difficulty=DEVNET_DIFFICULTY,
        network_blocks=False,  # the tests move the chain themselves
        seed=4321,
    )
    async with start_devnet(options) as running:
        yield running


@pytest.fixture
async def chain(devnet: RunningDevnet) -> AsyncIterator[DevnetDriver]:
    async with aiohttp.ClientSession() as session:
        yield DevnetDriver(session, devnet)
