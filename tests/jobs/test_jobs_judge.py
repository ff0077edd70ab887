"""The share judge end to end on the simulated Athena daemon: real templates, CN-Lite hashes, blocks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from forknote2_daemon import FAMILY, Forknote2Daemon
from job_test_support import NETWORK_DIFFICULTY
from share_miner import mine_async

from athena_pool.jobs import ConfirmPolicy, JobManager, PoolShareJudge
from athena_pool.jobs.contracts import MinerIdentity, RejectReason, ShareStatus
from athena_pool.pow import PowVerifier
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient

JOB_DIFFICULTY = 2


@pytest.fixture
async def judge(manager: JobManager, verifier: PowVerifier, rpc: JsonRpcClient) -> PoolShareJudge:
    await manager.refresh()
    return PoolShareJudge(
        manager, verifier, TurtleDaemonClient(rpc), confirm=ConfirmPolicy(attempts=3, interval=0.01)
    )


def is_share_not_block(achieved: int) -> bool:
    return JOB_DIFFICULTY <= achieved < NETWORK_DIFFICULTY


def is_block(achieved: int) -> bool:
    return achieved >= NETWORK_DIFFICULTY


def is_below_job(achieved: int) -> bool:
    return achieved < JOB_DIFFICULTY


async def test_valid_share_is_accepted_and_credited(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.credited_difficulty == JOB_DIFFICULTY
    assert outcome.achieved_difficulty == share.achieved
    assert outcome.stale is False
    assert outcome.block is None


async def test_result_hex_is_compared_case_insensitively(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    outcome = await judge.judge(job, share.nonce_hex.upper(), share.result_hex.upper(), miner)
    assert outcome.status is ShareStatus.ACCEPTED


async def test_block_is_submitted_confirmed_and_the_template_refreshed(
    judge: PoolShareJudge,
    manager: JobManager,
    daemon: Forknote2Daemon,
    verifier: PowVerifier,
    miner: MinerIdentity,
) -> None:
    refreshed = asyncio.Event()
    manager.add_template_listener(refreshed.set)
    manager.start()  # the poller performs the refresh the judge asks for
    job = manager.issue_job(JOB_DIFFICULTY)
    height = job.height
    share = await mine_async(job, verifier.algorithm, is_block)
    refreshed.clear()
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)

    assert outcome.status is ShareStatus.BLOCK
    assert outcome.credited_difficulty == JOB_DIFFICULTY
    assert outcome.block is not None
    assert outcome.block.accepted_by_daemon is True
    assert outcome.block.height == height
    assert outcome.block.network_difficulty == NETWORK_DIFFICULTY
    # The daemon took exactly the block the miner's nonce makes, and its chain now ends with our id.
    (submitted,) = daemon.submitted
    assert submitted == FAMILY.assemble_block(job.blob, bytes.fromhex(share.nonce_hex))
    assert daemon.tip.height == height
    assert daemon.tip.hash_hex == outcome.block.block_id_hex == FAMILY.block_id(submitted).hex()
    await asyncio.wait_for(refreshed.wait(), 10)
    assert manager.current_template().height == height + 1
    assert manager.current_template().prev_hash_hex == outcome.block.block_id_hex


async def test_block_refused_by_the_daemon_is_still_a_credited_share(
    judge: PoolShareJudge,
    manager: JobManager,
    daemon: Forknote2Daemon,
    verifier: PowVerifier,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_block)
    daemon.mine_foreign_block()  # the network moved on: the daemon refuses a block on the old tip
    await manager.refresh()
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is True
    assert outcome.credited_difficulty == JOB_DIFFICULTY
    assert outcome.block is not None
    assert outcome.block.accepted_by_daemon is False
    assert "not on the tip" in outcome.block.detail  # the daemon's own message
    assert len(daemon.submitted) == 1


async def test_stale_but_valid_share_is_judged_on_its_own_template(
    judge: PoolShareJudge,
    manager: JobManager,
    daemon: Forknote2Daemon,
    verifier: PowVerifier,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    daemon.mine_foreign_block()
    assert await manager.refresh() is True
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is True
    assert outcome.credited_difficulty == JOB_DIFFICULTY


async def test_share_on_a_refreshed_template_of_the_same_tip_is_not_stale(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    assert await manager.refresh(force=True) is True  # new transactions, same tip
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is False


async def test_share_for_an_evicted_template_is_expired(
    judge: PoolShareJudge,
    manager: JobManager,
    daemon: Forknote2Daemon,
    verifier: PowVerifier,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    for _ in range(manager.config.keep_templates):
        daemon.mine_foreign_block()
        await manager.refresh()
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.status is ShareStatus.REJECTED
    assert outcome.reason is RejectReason.EXPIRED_JOB
    assert outcome.reason.message == "Block expired"  # not "Invalid job id", which makes xmrig reconnect
    assert outcome.credited_difficulty == 0


@pytest.mark.parametrize("nonce", ["0000000", "000000000", "zzzzzzzz", "", "0x000000", " 0000000"])
async def test_malformed_nonce(
    judge: PoolShareJudge, manager: JobManager, miner: MinerIdentity, nonce: str
) -> None:
    outcome = await judge.judge(manager.issue_job(JOB_DIFFICULTY), nonce, "00" * 32, miner)
    assert outcome.reason is RejectReason.MALFORMED_NONCE


@pytest.mark.parametrize("result", ["00" * 31, "00" * 33, "0" * 63, "g" * 64, ""])
async def test_malformed_result(
    judge: PoolShareJudge, manager: JobManager, miner: MinerIdentity, result: str
) -> None:
    outcome = await judge.judge(manager.issue_job(JOB_DIFFICULTY), "00000000", result, miner)
    assert outcome.reason is RejectReason.MALFORMED_RESULT


async def test_expired_is_checked_before_malformed(
    judge: PoolShareJudge, manager: JobManager, daemon: Forknote2Daemon, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    for _ in range(manager.config.keep_templates):
        daemon.mine_foreign_block()
        await manager.refresh()
    outcome = await judge.judge(job, "bad", "bad", miner)
    assert outcome.reason is RejectReason.EXPIRED_JOB


async def test_duplicate_nonce_is_refused_even_in_another_case(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, lambda achieved: achieved >= JOB_DIFFICULTY)
    first = await judge.judge(job, share.nonce_hex.lower(), share.result_hex, miner)
    again = await judge.judge(job, share.nonce_hex.upper(), share.result_hex, miner)
    assert first.accepted
    assert again.reason is RejectReason.DUPLICATE
    assert again.credited_difficulty == 0


async def test_concurrent_copies_of_one_share_count_once(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    outcomes = await asyncio.gather(
        *(judge.judge(job, share.nonce_hex, share.result_hex, miner) for _ in range(4))
    )
    assert sum(outcome.accepted for outcome in outcomes) == 1
    assert sum(outcome.reason is RejectReason.DUPLICATE for outcome in outcomes) == 3


async def test_same_nonce_on_another_job_is_not_a_duplicate(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    first_job, second_job = manager.issue_job(1), manager.issue_job(1)
    share = await mine_async(first_job, verifier.algorithm, lambda achieved: achieved < NETWORK_DIFFICULTY)
    assert (await judge.judge(first_job, share.nonce_hex, share.result_hex, miner)).accepted
    # The other job's blob has another extra nonce, so the same nonce gives another hash.
    other = await judge.judge(second_job, share.nonce_hex, share.result_hex, miner)
    assert other.reason is RejectReason.BAD_HASH


async def test_wrong_result_is_a_bad_hash(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_share_not_block)
    forged = bytearray(bytes.fromhex(share.result_hex))
    forged[31] = 0  # what a cheater sends: a hash that would meet any target
    outcome = await judge.judge(job, share.nonce_hex, forged.hex(), miner)
    assert outcome.reason is RejectReason.BAD_HASH
    assert outcome.credited_difficulty == 0


async def test_share_below_the_job_difficulty_is_low_difficulty(
    judge: PoolShareJudge, manager: JobManager, verifier: PowVerifier, miner: MinerIdentity
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    share = await mine_async(job, verifier.algorithm, is_below_job)
    outcome = await judge.judge(job, share.nonce_hex, share.result_hex, miner)
    assert outcome.reason is RejectReason.LOW_DIFFICULTY
    assert outcome.achieved_difficulty == share.achieved  # from our own hash
    assert outcome.credited_difficulty == 0


@dataclass
class ForeignJob:
    """A job object the judge never issued (the contract's shape, nothing of ours inside)."""

    job_id: str = "f" * 24
    difficulty: int = 1
    height: int = 1
    submitted_nonces: set[bytes] = field(default_factory=set)

    def to_stratum(self, session_id: str) -> dict[str, Any]:
        return {}


async def test_job_not_issued_here_is_unknown(judge: PoolShareJudge, miner: MinerIdentity) -> None:
    outcome = await judge.judge(ForeignJob(), "00000000", "00" * 32, miner)
    assert outcome.reason is RejectReason.UNKNOWN_JOB


async def test_counters_follow_the_outcomes(
    judge: PoolShareJudge,
    manager: JobManager,
    daemon: Forknote2Daemon,
    verifier: PowVerifier,
    miner: MinerIdentity,
) -> None:
    job = manager.issue_job(JOB_DIFFICULTY)
    good = await mine_async(job, verifier.algorithm, is_share_not_block)
    await judge.judge(job, good.nonce_hex, good.result_hex, miner)
    await judge.judge(job, good.nonce_hex, good.result_hex, miner)
    await judge.judge(job, "xyz", good.result_hex, miner)
    daemon.mine_foreign_block()
    await manager.refresh()
    stale = await mine_async(job, verifier.algorithm, is_share_not_block)
    await judge.judge(job, stale.nonce_hex, stale.result_hex, miner)
    assert judge.counters.by_status == {"accepted": 1, "rejected": 2, "stale": 1}
    assert judge.counters.by_reason == {"duplicate": 1, "malformed_nonce": 1}
