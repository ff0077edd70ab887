"""Fixtures for the storage tests: restartable redis-servers, stores and limits.

Most tests use the session's private redis-server (`redis_server`, `redis_client`, `coin_prefix` in
tests/conftest.py) under a coin prefix of their own, so nothing collides with other test files or other runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from athena_pool.storage import Store, StoreLimits
from redis_support import RedisServer


@pytest.fixture
def stopped_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with an fsync'd append-only file, not started: its port refuses connections until the
    test starts it."""
    server = RedisServer(tmp_path / "redis-data", appendonly=True)
    yield server
    server.kill()


@pytest.fixture
def persistent_redis(stopped_redis: RedisServer) -> RedisServer:
    """Like stopped_redis, but running, for tests that stop and restart it."""
    stopped_redis.start()
    return stopped_redis


@pytest.fixture
def limits() -> StoreLimits:
    return StoreLimits(pplns_max_entries=10_000, hashrate_window_s=600, ip_history=4)


@pytest.fixture
def store(redis_client: aioredis.Redis, coin_prefix: str, limits: StoreLimits) -> Store:
    return Store(redis_client, coin_prefix, limits)
