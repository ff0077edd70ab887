"""The appendonly check of an external Redis, against real servers: the machine's Redis on 6379 (appendonly
off), a private one with appendonly, and a user whose ACL forbids CONFIG (as managed Redis services do)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from athena_pool.storage.durability import Appendonly, check_appendonly
from redis_support import RedisServer

LOGGER = "athena_pool.storage"


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


@pytest.fixture
async def machine_redis() -> AsyncIterator[aioredis.Redis]:
    """The Redis every developer machine runs on 6379, as it is (appendonly off); only read here."""
    client = aioredis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2)
    try:
        reply = await client.config_get("appendonly")
        appendonly = {str(k): str(v) for k, v in reply.items()}.get("appendonly")
    except RedisConnectionError:
        appendonly = None
    if appendonly != "no":
        await client.aclose()
        pytest.skip("no appendonly-off Redis on 127.0.0.1:6379")
    yield client
    await client.aclose()


async def test_the_machine_redis_without_appendonly_gets_one_clear_warning(
    machine_redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        state = await check_appendonly(machine_redis)
    assert state is Appendonly.OFF
    [warning] = warnings_of(caplog)
    assert "Redis at 127.0.0.1:6379 runs with appendonly off" in warning
    assert "appendonly yes" in warning  # tells the operator what to set


async def test_a_redis_with_appendonly_passes_silently(
    persistent_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = persistent_redis.client(decode_responses=True)  # either reply type is understood
    with caplog.at_level(logging.INFO, logger=LOGGER):
        state = await check_appendonly(client)
    await client.aclose()
    assert state is Appendonly.ON
    assert [r for r in caplog.records if r.name == LOGGER] == []


async def test_a_user_without_config_rights_is_reported_as_not_checked(
    persistent_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    admin = persistent_redis.client()
    await admin.acl_setuser(
        "pool", enabled=True, passwords=["+secret"], keys=["*"], commands=["+@all", "-config"]
    )
    await admin.aclose()
    limited = aioredis.from_url(f"redis://pool:secret@127.0.0.1:{persistent_redis.port}/0")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        state = await check_appendonly(limited)
    await limited.aclose()
    assert state is Appendonly.UNKNOWN
    assert warnings_of(caplog) == []
    [note] = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert note.startswith(f"could not check whether Redis at 127.0.0.1:{persistent_redis.port} runs with")
    assert "secret" not in note  # the password is never logged
    assert "config" in note.lower()  # the server's NOPERM message names the refused command


async def test_a_redis_that_is_not_there_is_reported_as_not_checked(
    stopped_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = stopped_redis.client()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        state = await check_appendonly(client)
    await client.aclose()
    assert state is Appendonly.UNKNOWN
    assert warnings_of(caplog) == []
