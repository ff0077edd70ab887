"""Pool processes tell each other about a new chain tip through Redis pub/sub (jobs/tip_relay.py).

Two job managers poll the same daemon with an hour between polls, as two cluster workers would see a new
block a poll interval apart; the relay moves the second one within a Redis round trip of the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from forknote2_daemon import Forknote2Daemon
from job_test_support import ATHENA, ATHENA_ALGO, POOL_ADDRESS

from athena_pool.coins.families import get_family
from athena_pool.jobs import JobConfig, JobManager, new_instance_id
from athena_pool.jobs.tip_relay import TipRelay
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient
from athena_pool.storage import KeySpace

NO_POLLING = JobConfig(wallet_address=POOL_ADDRESS, refresh_interval=3600, max_template_age=36_000)


async def started_manager(rpc: JsonRpcClient) -> JobManager:
    jobs = JobManager(
        TurtleDaemonClient(rpc), get_family(ATHENA.blob_family), ATHENA_ALGO, NO_POLLING,
        instance_id=new_instance_id(),
    )  # fmt: skip
    jobs.start()
    await jobs.wait_for_template()
    return jobs


@pytest.fixture
async def workers(
    rpc: JsonRpcClient, redis_client: aioredis.Redis, coin_prefix: str
) -> AsyncIterator[list[tuple[JobManager, TipRelay]]]:
    channel = KeySpace(coin_prefix).jobs_tip_channel
    pairs = []
    for name in ("worker-0", "worker-1"):
        jobs = await started_manager(rpc)
        relay = TipRelay(redis_client, channel, jobs, name)
        await relay.start()
        pairs.append((jobs, relay))
    await asyncio.sleep(0.2)  # both subscribed
    yield pairs
    for jobs, relay in pairs:
        await relay.close()
        await jobs.stop()


async def wait_for_height(jobs: JobManager, height: int, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while jobs.current_template().height < height:
            await asyncio.sleep(0.01)


async def test_a_new_tip_seen_by_one_worker_moves_the_other_at_once(
    workers: list[tuple[JobManager, TipRelay]], daemon: Forknote2Daemon
) -> None:
    (first, first_relay), (second, second_relay) = workers
    start_height = second.current_template().height
    block = daemon.mine_foreign_block()
    assert await first.refresh()  # the first worker's poll comes round
    await wait_for_height(second, start_height + 1)  # the second never polled: the relay moved it
    assert second.current_template().prev_hash_hex == block.hash_hex
    assert (first_relay.relayed, second_relay.relayed) == (0, 1)
    # The second worker's own install is announced too, but the first already has that tip: no refresh.
    await asyncio.sleep(0.2)
    assert first_relay.relayed == 0


async def test_a_refresh_on_the_same_tip_is_not_announced(
    workers: list[tuple[JobManager, TipRelay]], redis_client: aioredis.Redis, coin_prefix: str
) -> None:
    (first, _), (second, second_relay) = workers
    generation = second.current_template().generation
    assert await first.refresh(force=True)  # new transactions, same block height and parent
    await asyncio.sleep(0.3)
    assert second.current_template().generation == generation and second_relay.relayed == 0


async def test_junk_and_old_tips_on_the_channel_are_ignored(
    workers: list[tuple[JobManager, TipRelay]], redis_client: aioredis.Redis, coin_prefix: str
) -> None:
    (_, first_relay), (second, second_relay) = workers
    channel = KeySpace(coin_prefix).jobs_tip_channel
    height = second.current_template().height
    generation = second.current_template().generation
    for junk in (
        b"",
        b"x" * 10_000,
        b"worker-9 notanumber abc",
        b"\xff\xfe",
        f"worker-9 {height - 1} ab".encode(),
    ):
        await redis_client.publish(channel, junk)
    await asyncio.sleep(0.3)
    assert second.current_template().generation == generation
    assert (first_relay.relayed, second_relay.relayed) == (0, 0)


async def test_the_relay_survives_redis_dropping_its_subscription(
    workers: list[tuple[JobManager, TipRelay]], redis_client: aioredis.Redis, daemon: Forknote2Daemon
) -> None:
    (first, _), (second, second_relay) = workers
    await redis_client.client_kill_filter(_type="pubsub")
    await asyncio.sleep(2.5)  # RECONNECT_DELAY_S: both relays subscribe again
    height = second.current_template().height
    daemon.mine_foreign_block()
    assert await first.refresh()
    await wait_for_height(second, height + 1)
    assert second_relay.relayed == 1
