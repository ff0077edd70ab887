"""A stratum server on 127.0.0.1 (free ports) with the in-test job source, judge, sink and clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from stratum_fakes import (
    ALGO_ALIASES,
    TEST_LIMITS,
    FakeClock,
    FakeJobSource,
    FakeJudge,
    ListSink,
    Pool,
    PoolFactory,
    default_ports,
    validate_test_address,
)
from stratum_support import self_signed_certificate

from athena_pool.storage.bans_store import BanStore
from athena_pool.stratum import PortConfig, StratumConfig, StratumLimits, StratumServer
from redis_support import RedisServer


@pytest.fixture
def template_blob(block_vectors: list[dict[str, Any]]) -> bytes:
    vector = next(
        v
        for v in block_vectors
        if v["family"] == "forknote2" and v["kind"] == "template" and v["verified_all"]
    )
    return bytes.fromhex(vector["expected_hashing_blob_hex"])


@pytest.fixture
async def make_pool(template_blob: bytes) -> AsyncIterator[PoolFactory]:
    servers: list[StratumServer] = []

    async def factory(
        limits: StratumLimits = TEST_LIMITS,
        *,
        payment_ids_allowed: bool = True,
        ports: tuple[PortConfig, ...] | None = None,
        judge_factory: Callable[[FakeJobSource], FakeJudge] = FakeJudge,
        clock: FakeClock | None = None,
        **settings: Any,
    ) -> Pool:
        """`settings`: StratumConfig fields (protection, proxy, tls, trust, shutdown) and the server's
        keyword arguments (ban_store, trust_draw, hash_threads, instance)."""
        server_args = {k: settings.pop(k) for k in ("ban_store", "trust_draw", "hash_threads", "instance")
                       if k in settings}  # fmt: skip
        source = FakeJobSource(template_blob, height=1_457_937)
        judge = judge_factory(source)
        sink = ListSink()
        clock = clock or FakeClock()
        config = StratumConfig(
            ports=ports or default_ports(),
            payment_ids_allowed=payment_ids_allowed,
            algo_aliases=ALGO_ALIASES,
            limits=limits,
            **settings,
        )
        server = StratumServer(
            config=config,
            job_source=source,
            judge=judge,
            share_sink=sink,
            validate_address=validate_test_address,
            clock=clock,
            **server_args,
        )
        await server.start()
        servers.append(server)
        return Pool(server, source, judge, sink, clock)

    yield factory
    for server in servers:
        await server.close()


@pytest.fixture
async def pool(make_pool: PoolFactory) -> Pool:
    return await make_pool()


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A memory-only redis-server of the stratum tests' own (never the shared 6379)."""
    server = RedisServer(tmp_path_factory.mktemp("stratum-redis"))
    server.start()
    yield server.port
    server.kill()


@pytest.fixture
async def redis_client(redis_port: int) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(port=redis_port, socket_timeout=5)
    yield client
    await client.aclose()


@pytest.fixture
def ban_store(redis_client: aioredis.Redis) -> BanStore:
    return BanStore(redis_client, f"test-{uuid.uuid4().hex}")


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))
