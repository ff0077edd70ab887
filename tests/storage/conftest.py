"""Fixtures for the storage tests: private redis-server processes, clients, stores and share factories.

Every test runs against a redis-server started here on a free port (never the shared one on 6379), under a
coin prefix of its own, so nothing collides with other test files or other runs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from storage_support import RedisServer

from athena_pool.storage import Store, StoreLimits


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private, memory-only redis-server for the storage tests of this session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with an fsync'd append-only file, for tests that stop and restart it."""
    data_dir = tmp_path / "redis-data"
    data_dir.mkdir()
    server = RedisServer(data_dir, appendonly=True)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def stopped_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Like persistent_redis, but not started: its port refuses connections until the test starts it."""
    data_dir = tmp_path / "redis-data"
    data_dir.mkdir()
    server = RedisServer(data_dir, appendonly=True)
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
def limits() -> StoreLimits:
    return StoreLimits(pplns_max_entries=10_000, hashrate_window_s=600, ip_history=4)


@pytest.fixture
def store(redis_client: aioredis.Redis, coin_prefix: str, limits: StoreLimits) -> Store:
    return Store(redis_client, coin_prefix, limits)
