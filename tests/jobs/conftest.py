"""Fixtures of the job tests: a forknote2 daemon on a real template, a verifier, a job manager, miners."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from forknote2_daemon import Forknote2Daemon
from job_test_support import ATHENA, ATHENA_ALGO, NETWORK_DIFFICULTY, POOL_ADDRESS, vector

from athena_pool.coins.families import get_family
from athena_pool.jobs import JobConfig, JobManager, new_instance_id
from athena_pool.jobs.contracts import MinerIdentity
from athena_pool.pow import PowVerifier, create_algorithm
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient


@pytest.fixture
def trtl_template_blob(block_vectors: list[dict[str, Any]]) -> bytes:
    """A real TurtleCoin template (major 5, 19 transactions) that the simulated daemon builds on."""
    return bytes.fromhex(vector(block_vectors, "TRTL", 1457937)["template_json"]["blob"])


@pytest.fixture
async def daemon(trtl_template_blob: bytes) -> AsyncIterator[Forknote2Daemon]:
    simulated = Forknote2Daemon(trtl_template_blob, algo=ATHENA_ALGO, difficulty=NETWORK_DIFFICULTY)
    await simulated.start()
    yield simulated
    await simulated.stop()


@pytest.fixture
def verifier() -> Iterator[PowVerifier]:
    pow_verifier = PowVerifier(create_algorithm(ATHENA_ALGO), threads=2)
    yield pow_verifier
    pow_verifier.close()


@pytest.fixture
async def rpc(daemon: Forknote2Daemon) -> AsyncIterator[JsonRpcClient]:
    async with JsonRpcClient(daemon.url, timeout=5) as client:
        yield client


@pytest.fixture
def job_config() -> JobConfig:
    return JobConfig(wallet_address=POOL_ADDRESS, refresh_interval=0.05, keep_templates=3)


@pytest.fixture
async def manager(rpc: JsonRpcClient, job_config: JobConfig) -> AsyncIterator[JobManager]:
    jobs = JobManager(
        TurtleDaemonClient(rpc),
        get_family(ATHENA.blob_family),
        ATHENA_ALGO,
        job_config,
        instance_id=new_instance_id(),
    )
    yield jobs
    await jobs.stop()


@pytest.fixture
def miner() -> MinerIdentity:
    return MinerIdentity(address="miner-address", worker="rig1", solo=False, ip="127.0.0.1", session_id="s1")
