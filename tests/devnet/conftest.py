"""Fixtures: a devnet on free ports with a low fixed difficulty, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from devnet_testkit import Rpc

from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet

DIFFICULTY = 8  # about 8 cn-lite/1 hashes (~50 ms) per block


@pytest.fixture
def devnet_options(tmp_path: Path) -> DevnetOptions:
    return DevnetOptions(
        daemon_port=0,
        wallet_port=0,
        data_dir=tmp_path / "devnet",
        difficulty=DIFFICULTY,
        network_blocks=False,  # tests mine "other people's" blocks explicitly
        seed=1234,
    )


@pytest.fixture
async def devnet(devnet_options: DevnetOptions) -> AsyncIterator[RunningDevnet]:
    async with start_devnet(devnet_options) as running:
        yield running


@pytest.fixture
async def rpc(devnet: RunningDevnet) -> AsyncIterator[Rpc]:
    async with aiohttp.ClientSession() as session:
        yield Rpc(session, devnet)
