"""The README's first command, as a test: local Redis, devnet, pool and the built-in miner on one machine.

A real miner (the built-in one, real cn-lite/1 hashes) mines through the pool's stratum port; the pool
verifies every share, records it in a real appendonly Redis and submits blocks to the devnet daemon,
whose chain must then hold the pool's block ids.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from integration_support import free_loopback_port, wait_for

from athena_pool.config import (
    ConsoleSettings,
    DemoMinerSettings,
    DevnetSettings,
    JobSettings,
    PoolConfig,
    RedisSettings,
)
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.storage import ShareKind
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.vardiff import VardiffConfig
from athena_pool.supervisor import run_pool


def devnet_config(data_dir: Path) -> PoolConfig:
    vardiff = VardiffConfig(min_difficulty=20, target_time=2.0, retarget_time=4.0)
    return PoolConfig(
        coin="athena",
        data_dir=data_dir,
        redis=RedisSettings(local_port=free_loopback_port()),
        jobs=JobSettings(refresh_interval=0.5),
        stratum=StratumConfig(ports=(PortConfig(port=0, difficulty=40, vardiff=vardiff),)),
        # ~180 H/s from one miner thread: a block every few seconds, a share every fraction of one.
        devnet=DevnetSettings(enabled=True, daemon_port=0, wallet_port=0, difficulty=600, block_time=3600),
        demo_miner=DemoMinerSettings(enabled=True, threads=1, worker="rig-1"),
        console=ConsoleSettings(interval=0),
    )


async def test_a_miner_mines_real_blocks_through_the_pool(tmp_path: Path) -> None:
    config = devnet_config(tmp_path / "data")
    async with run_pool(config) as pool:
        assert pool.miner is not None

        async def two_blocks_stored() -> bool:
            return len(await pool.store.block_candidates()) >= 2

        await wait_for(two_blocks_stored, 120, "two blocks found by the pool")
        await pool.recorder.flush(10)

        candidates = await pool.store.block_candidates()
        async with JsonRpcClient(pool.daemon_url) as rpc:
            for block in candidates:
                header = await rpc.call("getblockheaderbyheight", {"height": block.candidate.height})
                assert header["block_header"]["hash"] == block.candidate.hash_hex
                assert block.candidate.finder_worker == "rig-1"

        miner_address = pool.miner.options.user
        stats = await pool.store.miner_stats(miner_address)
        assert stats is not None
        # Shares below the network difficulty were credited too.
        assert stats.counts[ShareKind.VALID] > len(candidates)
        workers = await pool.store.worker_stats(miner_address)
        assert set(workers) == {"rig-1"}
        pool_stats = await pool.store.pool_stats()
        assert pool_stats.counts[ShareKind.VALID] >= stats.counts[ShareKind.VALID]


async def test_acknowledged_shares_survive_a_pool_restart(tmp_path: Path) -> None:
    """Stop the whole pool (and its appendonly Redis), start it again on the same data folder: Redis holds
    exactly the shares the first run acknowledged."""
    config = devnet_config(tmp_path / "data")
    async with run_pool(config) as pool:
        miner_address = pool.miner.options.user if pool.miner else ""

        async def some_shares() -> bool:
            return pool.stratum.stats().shares.get("accepted", 0) >= 5

        await wait_for(some_shares, 60, "five accepted shares")
    # Counted after the stop: the shares judged while the pool was shutting down were answered too.
    shares = pool.stratum.stats().shares
    acknowledged = sum(shares.get(status, 0) for status in ("accepted", "stale", "block"))
    async with run_pool(replace(config, demo_miner=DemoMinerSettings(enabled=False))) as pool:
        stats = await pool.store.miner_stats(miner_address)
        assert stats is not None
        assert stats.counts.accepted == acknowledged
