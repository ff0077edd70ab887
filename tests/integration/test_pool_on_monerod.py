"""The pool on a real Monero daemon: monerod --regtest --offline --fixed-difficulty D, on loopback.

The built-in miner hashes real RandomX (rx/0, light mode) through the pool; the pool verifies every share,
submits the blocks and confirms them; monerod's own chain must hold the pool's block ids.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_support import free_loopback_port, wait_for

from athena_pool.config import (
    ConsoleSettings,
    DaemonSettings,
    DemoMinerSettings,
    JobSettings,
    PoolConfig,
    RedisSettings,
)
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.monerod_regtest import REGTEST_ADDRESS, MonerodRegtest, generate_blocks
from athena_pool.storage import ShareKind
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.supervisor import run_pool

pytestmark = pytest.mark.skipif(
    shutil.which("monerod") is None, reason="monerod not installed (apt-get install monero)"
)

# One miner thread does ~35 H/s of light-mode RandomX: a block every few seconds at this difficulty,
# and about ten shares per block at the port's fixed difficulty.
NETWORK_DIFFICULTY = 120
SHARE_DIFFICULTY = 12


@pytest.fixture(scope="module")
def monerod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonerodRegtest]:
    with MonerodRegtest(tmp_path_factory.mktemp("monerod"), fixed_difficulty=NETWORK_DIFFICULTY) as daemon:
        yield daemon


async def test_the_pool_finds_blocks_that_monerod_keeps(monerod: MonerodRegtest, tmp_path: Path) -> None:
    async with JsonRpcClient(monerod.rpc_url, timeout=120) as rpc:  # generateblocks mines with RandomX
        await generate_blocks(rpc, 2)  # a chain past genesis, as a pool would see it
        config = PoolConfig(
            coin="monero",
            pool_address=REGTEST_ADDRESS,
            data_dir=tmp_path / "data",
            daemon=DaemonSettings(url=monerod.rpc_url),
            redis=RedisSettings(local_port=free_loopback_port()),
            jobs=JobSettings(refresh_interval=0.5),
            stratum=StratumConfig(
                ports=(PortConfig(port=0, difficulty=SHARE_DIFFICULTY, fixed_difficulty=SHARE_DIFFICULTY),)
            ),
            demo_miner=DemoMinerSettings(enabled=True, threads=1, worker="regtest-rig"),
            console=ConsoleSettings(interval=0),
        )
        async with run_pool(config) as pool:

            async def blocks_found() -> bool:
                return len(await pool.store.block_candidates()) >= 2

            await wait_for(blocks_found, 180, "two blocks found on monerod regtest")
            await pool.recorder.flush(10)
            candidates = await pool.store.block_candidates()
            miner_address = pool.miner.options.user if pool.miner else ""
            stats = await pool.store.miner_stats(miner_address)

        for block in candidates:
            answer = await rpc.call("get_block_header_by_height", {"height": block.candidate.height})
            assert answer["block_header"]["hash"] == block.candidate.hash_hex
        assert stats is not None
        assert stats.counts[ShareKind.VALID] >= len(candidates)
        assert stats.counts[ShareKind.INVALID] == 0
