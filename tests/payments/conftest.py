"""Fixtures for the payment tests: a store and a crediter per test (on the session's private redis-server,
under a coin prefix of its own), and a devnet (daemon and walletd-style wallet on free ports) whose chain
tests move by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from payments_support import Crediter, WalletProxy

from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.wallet import WalletdClient
from athena_pool.storage.payment_store import PaymentStore

DEVNET_DIFFICULTY = 8  # a handful of cn-lite/1 hashes per block


@pytest.fixture
def payment_store(redis_client: aioredis.Redis, coin_prefix: str) -> PaymentStore:
    return PaymentStore(redis_client, coin_prefix)


@pytest.fixture
def crediter(redis_client: aioredis.Redis, coin_prefix: str) -> Crediter:
    return Crediter(redis_client, coin_prefix)


@pytest.fixture
def devnet_options(tmp_path: Path) -> DevnetOptions:
    return DevnetOptions(
        daemon_port=0,
        wallet_port=0,
        data_dir=tmp_path / "devnet",
        difficulty=DEVNET_DIFFICULTY,
        network_blocks=False,  # tests move the chain explicitly
        seed=4321,
    )


@pytest.fixture
async def devnet(devnet_options: DevnetOptions) -> AsyncIterator[RunningDevnet]:
    async with start_devnet(devnet_options) as running:
        yield running


@pytest.fixture
async def walletd(devnet: RunningDevnet) -> AsyncIterator[WalletdClient]:
    client = WalletdClient(JsonRpcClient(devnet.wallet_url, timeout=5), rpc_password=devnet.rpc_password,
                           transfer_timeout=3)  # fmt: skip
    yield client
    await client.close()


@pytest.fixture
async def rebuilt_view(devnet: RunningDevnet) -> AsyncIterator[WalletProxy]:
    """The devnet wallet as a walletd rebuilt from its keys shows it (see `WalletProxy`)."""
    view = WalletProxy(devnet.wallet_url, rebuilt_as=devnet.pool_address)
    await view.start()
    yield view
    await view.stop()


@pytest.fixture
async def rebuilt_walletd(rebuilt_view: WalletProxy, devnet: RunningDevnet) -> AsyncIterator[WalletdClient]:
    client = WalletdClient(JsonRpcClient(rebuilt_view.url, timeout=5), rpc_password=devnet.rpc_password,
                           transfer_timeout=3)  # fmt: skip
    yield client
    await client.close()
