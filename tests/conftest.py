"""Fixtures shared by the whole suite: reference vectors; a private redis-server, a key prefix per test."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from redis_support import RedisServer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"reference material not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def pow_vectors(shared_dir: Path) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((shared_dir / "vectors" / "pow_vectors.json").read_text())
    return vectors


@pytest.fixture(scope="session")
def block_vectors(shared_dir: Path) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((shared_dir / "vectors" / "blocks.json").read_text())
    return vectors


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private, memory-only redis-server for the session; tests keep apart by coin prefix."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def coin_prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
async def redis_client(redis_server: RedisServer, coin_prefix: str) -> AsyncIterator[aioredis.Redis]:
    """A client of `redis_server`; the test's keys (under `coin_prefix`) are deleted afterwards."""
    client = redis_server.client()
    yield client
    async for key in client.scan_iter(match=f"{coin_prefix}:*", count=1000):
        await client.delete(key)
    await client.aclose()
