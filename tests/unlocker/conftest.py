"""Fixtures for the unlocker tests: stores under a fresh prefix, a devnet.

Every test runs against the session's private redis-server (tests/conftest.py) under a coin prefix of its
own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from unlocker_support import DevnetDriver

from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet
from athena_pool.storage import Store
from athena_pool.storage.ledger import Ledger

DEVNET_DIFFICULTY = 8  # a few cn-lite/1 hashes per block


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
