"""Job manager and share judge against a real `monerod --regtest` with RandomX: blocks, side chains, stale."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from share_miner import mine_async

from athena_pool.coins.families import get_family
from athena_pool.jobs import ConfirmPolicy, JobConfig, JobManager, PoolShareJudge, new_instance_id
from athena_pool.jobs.contracts import MinerIdentity, RejectReason, ShareStatus
from athena_pool.pow import PowVerifier, create_algorithm
from athena_pool.rpc import JsonRpcClient, MoneroDaemonClient
from athena_pool.rpc.monerod_regtest import REGTEST_ADDRESS, MonerodRegtest, generate_blocks

# Shares below 4 are plain shares, shares at 4 or more are blocks: both occur within a few hashes.
NETWORK_DIFFICULTY = 4
MONERO = get_family("monero")


@pytest.fixture(scope="module")
def monerod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonerodRegtest]:
    if shutil.which("monerod") is None:
        pytest.skip("monerod is not installed (scripts/install --dev installs it)")
    with MonerodRegtest(tmp_path_factory.mktemp("monerod"), fixed_difficulty=NETWORK_DIFFICULTY) as node:
        yield node


@pytest.fixture(scope="module")
def verifier() -> Iterator[PowVerifier]:
    """One RandomX verifier for the module: building a seed's cache is the slow part."""
    pow_verifier = PowVerifier(create_algorithm("rx/0"), threads=2)
    yield pow_verifier
    pow_verifier.close()


@pytest.fixture
async def rpc(monerod: MonerodRegtest) -> AsyncIterator[JsonRpcClient]:
    async with JsonRpcClient(monerod.rpc_url, timeout=30) as client:
        yield client


@pytest.fixture
async def daemon(rpc: JsonRpcClient) -> MoneroDaemonClient:
    client = MoneroDaemonClient(rpc)
    if await client.get_block_count() < 3:  # a chain with some history, not just the genesis block
        await generate_blocks(rpc, 2)
    return client


@pytest.fixture
async def manager(daemon: MoneroDaemonClient) -> AsyncIterator[JobManager]:
    config = JobConfig(wallet_address=REGTEST_ADDRESS, keep_templates=2)
    jobs = JobManager(daemon, MONERO, "rx/0", config, instance_id=new_instance_id())
    assert await jobs.refresh() is True
    yield jobs
    await jobs.stop()


@pytest.fixture
def judge(manager: JobManager, verifier: PowVerifier, daemon: MoneroDaemonClient) -> PoolShareJudge:
    return PoolShareJudge(manager, verifier, daemon, confirm=ConfirmPolicy(attempts=2, interval=0.05))


@pytest.fixture
def miner() -> MinerIdentity:
    return MinerIdentity(address=REGTEST_ADDRESS, worker="rig", solo=False, ip="127.0.0.1", session_id="m1")


def is_block(achieved: int) -> bool:
    return achieved >= NETWORK_DIFFICULTY


def is_plain_share(achieved: int) -> bool:
    return achieved < NETWORK_DIFFICULTY


async def test_jobs_carry_monerod_hashing_blob_and_seed(
    manager: JobManager, rpc: JsonRpcClient, daemon: MoneroDaemonClient
) -> None:
    template = manager.current_template()
    assert template.difficulty == NETWORK_DIFFICULTY
    raw = await rpc.call("get_block_template", {"wallet_address": REGTEST_ADDRESS, "reserve_size": 16})
    assert MONERO.hashing_blob(bytes.fromhex(raw["blocktemplate_blob"])).hex() == raw["blockhashing_blob"]
    job = manager.issue_job(1)
    stratum = job.to_stratum("m1")
    genesis = await daemon.get_block_header_by_height(0)
    assert stratum["seed_hash"] == genesis.hash_hex == raw["seed_hash"]
    assert stratum["algo"] == "rx/0"
    assert stratum["height"] == raw["height"]
    assert stratum["target"] == "ffffffff"


async def test_block_is_found_submitted_and_in_monerods_chain(
    manager: JobManager,
    judge: PoolShareJudge,
    verifier: PowVerifier,
    daemon: MoneroDaemonClient,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(1)
    share = await mine_async(job, verifier.algorithm, is_block)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.BLOCK
    assert outcome.block is not None and outcome.block.accepted_by_daemon is True
    header = await daemon.get_block_header_by_height(job.height)
    assert header.hash_hex == outcome.block.block_id_hex
    assert header.orphan is False
    assert outcome.block.network_difficulty == NETWORK_DIFFICULTY
    assert await manager.refresh() is True
    assert manager.current_template().prev_hash_hex == outcome.block.block_id_hex


async def test_plain_share_is_accepted_without_a_block(
    manager: JobManager,
    judge: PoolShareJudge,
    verifier: PowVerifier,
    daemon: MoneroDaemonClient,
    miner: MinerIdentity,
) -> None:
    count = await daemon.get_block_count()
    job = manager.issue_job(1)
    share = await mine_async(job, verifier.algorithm, is_plain_share)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.block is None
    assert await daemon.get_block_count() == count


async def test_low_difficulty_share(
    manager: JobManager, judge: PoolShareJudge, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(2)
    share = await mine_async(job, verifier.algorithm, lambda achieved: achieved < 2)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.reason is RejectReason.LOW_DIFFICULTY


async def test_result_hashed_with_another_seed_is_a_bad_hash(
    manager: JobManager, judge: PoolShareJudge, miner: MinerIdentity
) -> None:
    job = manager.issue_job(1)
    blob = bytearray(job.hashing_blob)
    blob[39:43] = bytes.fromhex("01020304")
    randomx = create_algorithm("rx/0")
    try:
        wrong = randomx.hash(bytes(blob), seed=bytes(32))
    finally:
        randomx.close()
    outcome = await judge.judge(job, "01020304", wrong.hex(), miner)
    assert outcome.reason is RejectReason.BAD_HASH


async def test_stale_share_is_credited_and_a_side_chain_block_is_not_confirmed(
    manager: JobManager,
    judge: PoolShareJudge,
    verifier: PowVerifier,
    rpc: JsonRpcClient,
    daemon: MoneroDaemonClient,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(1)
    (foreign_id,) = await generate_blocks(rpc, 1)  # someone else's block at the job's height
    assert await manager.refresh() is True

    plain = await mine_async(job, verifier.algorithm, is_plain_share)
    outcome = await judge.judge(job, plain.nonce_hex, plain.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is True
    assert outcome.credited_difficulty == 1

    # A block on the old tip: monerod answers OK, but keeps it on a side chain. Only the check of its
    # chain tells.
    strong = await mine_async(job, verifier.algorithm, is_block)
    outcome = await judge.judge(job, strong.nonce_hex, strong.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is True
    assert outcome.block is not None
    assert outcome.block.accepted_by_daemon is False
    assert foreign_id in outcome.block.detail and "side chain" in outcome.block.detail
    ours = await daemon.get_block_header_by_hash(outcome.block.block_id_hex)
    assert ours.orphan is True
    assert (await daemon.get_block_header_by_height(job.height)).hash_hex == foreign_id


async def test_share_for_an_evicted_template_is_expired(
    manager: JobManager,
    judge: PoolShareJudge,
    verifier: PowVerifier,
    rpc: JsonRpcClient,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(1)
    share = await mine_async(job, verifier.algorithm, is_plain_share)
    for _ in range(manager.config.keep_templates):
        await generate_blocks(rpc, 1)
        assert await manager.refresh() is True
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.reason is RejectReason.EXPIRED_JOB
