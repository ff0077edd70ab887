"""Fixtures of the API tests: a client of the session's private redis-server (tests/conftest.py), a fresh
coin prefix per test, the real pool history of `seed_pool`, and the API served over HTTP on a free port."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis
from api_support import Seeded, seed_pool, served

from athena_pool.api.server import ApiParts
from redis_support import RedisServer


@pytest.fixture
def prefix() -> str:
    return f"apitest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = redis_server.client()
    yield client
    await client.aclose()


@pytest.fixture
async def seeded(redis_client: aioredis.Redis, prefix: str) -> Seeded:
    return await seed_pool(redis_client, prefix)


@pytest.fixture
async def api(redis_client: aioredis.Redis, prefix: str, seeded: Seeded) -> AsyncIterator[ApiParts]:
    async with served(redis_client, prefix) as parts:
        yield parts


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: keep cookies from an IP-address host (127.0.0.1), as browsers do.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), cookie_jar=jar) as session:
        yield session
