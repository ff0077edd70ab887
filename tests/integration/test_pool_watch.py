"""A part of the pool whose own background task dies stops the whole pool (exit code 1), never limps on.

Without this, a dead template poller would leave miners on a stale job, and a dead share writer would
leave acknowledged shares in memory, while the process looks healthy to its supervisor.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from test_pool_on_devnet import devnet_config

from athena_pool.config import DemoMinerSettings
from athena_pool.supervisor import _watch, run_pool


async def test_a_task_that_dies_sets_failed_and_a_cancelled_one_does_not() -> None:
    failed = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("the poller hit a bug")

    dying, cancelled = asyncio.create_task(broken(), name="poller"), asyncio.create_task(asyncio.sleep(60))
    _watch((cancelled,), failed)
    cancelled.cancel()
    await asyncio.wait({cancelled})
    await asyncio.sleep(0)
    assert not failed.is_set()

    _watch((dying,), failed)
    await asyncio.wait_for(failed.wait(), 5)
    assert isinstance(dying.exception(), RuntimeError)


async def test_every_long_running_part_of_the_pool_role_is_watched(tmp_path: Path) -> None:
    config = replace(devnet_config(tmp_path / "data"), demo_miner=DemoMinerSettings(enabled=False))
    async with run_pool(config, roles=("pool",)) as pool:
        parts = {
            "jobs": pool.jobs.background_tasks(),
            "recorder": pool.recorder.background_tasks(),
            "stratum": pool.stratum.background_tasks(),
        }
        for name, tasks in parts.items():
            assert tasks, f"{name} runs no background task"
            assert all(not task.done() for task in tasks), name
        assert not pool.failed.is_set()
    assert not pool.failed.is_set()  # a clean stop cancels them: no failure
