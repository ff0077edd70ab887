"""The share judge end to end on the simulated Athena daemon: real templates, CN-Lite hashes, blocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from forknote2_daemon import FAMILY, Forknote2Daemon
from job_test_support import NETWORK_DIFFICULTY
from share_miner import MinedShare, mine_async

from athena_pool.jobs import ConfirmPolicy, Job, JobManager, PoolShareJudge
from athena_pool.jobs.contracts import IssuedJob, MinerIdentity, RejectReason, ShareOutcome, ShareStatus
from athena_pool.pow import PowVerifier
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient

JOB_DIFFICULTY = 2


@pytest.fixture
async def judge(manager: JobManager, verifier: PowVerifier, rpc: JsonRpcClient) -> PoolShareJudge:
    await manager.refresh()
    return PoolShareJudge(
        manager, verifier, TurtleDaemonClient(rpc), confirm=ConfirmPolicy(attempts=3, interval=0.01)
    )


@dataclass
class Bench:
    """The judge and what the tests do around it: issue a job, mine a share for it as xmrig would, submit it
    as the one miner, let other people find blocks."""

    judge: PoolShareJudge
    manager: JobManager
    daemon: Forknote2Daemon
    verifier: PowVerifier
    miner: MinerIdentity

    def issue_job(self, difficulty: int = JOB_DIFFICULTY) -> Job:
        return self.manager.issue_job(difficulty)

    async def mine(self, job: Job, wanted: Callable[[int], bool]) -> MinedShare:
        """A share for `job` whose achieved difficulty is what `wanted` accepts."""
        return await mine_async(job, self.verifier.algorithm, wanted)

    async def submit(self, job: IssuedJob, nonce_hex: str, result_hex: str) -> ShareOutcome:
        return await self.judge.judge(job, nonce_hex, result_hex, self.miner)

    async def submit_share(self, job: IssuedJob, share: MinedShare) -> ShareOutcome:
        return await self.submit(job, share.nonce_hex, share.result_hex)

    async def foreign_blocks(self, count: int) -> None:
        """Other people find `count` blocks; the job manager takes each new tip's template."""
        for _ in range(count):
            self.daemon.mine_foreign_block()
            await self.manager.refresh()


@pytest.fixture
def bench(
    judge: PoolShareJudge,
    manager: JobManager,
    daemon: Forknote2Daemon,
    verifier: PowVerifier,
    miner: MinerIdentity,
) -> Bench:
    return Bench(judge, manager, daemon, verifier, miner)


def is_share_not_block(achieved: int) -> bool:
    return JOB_DIFFICULTY <= achieved < NETWORK_DIFFICULTY


def is_block(achieved: int) -> bool:
    return achieved >= NETWORK_DIFFICULTY


def is_below_job(achieved: int) -> bool:
    return achieved < JOB_DIFFICULTY


async def test_valid_share_is_accepted_and_credited(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_share_not_block)
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.credited_difficulty == JOB_DIFFICULTY
    assert outcome.achieved_difficulty == share.achieved
    assert outcome.stale is False
    assert outcome.block is None


async def test_result_hex_is_compared_case_insensitively(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_share_not_block)
    outcome = await bench.submit(job, share.nonce_hex.upper(), share.result_hex.upper())
    assert outcome.status is ShareStatus.ACCEPTED


async def test_block_is_submitted_confirmed_and_the_template_refreshed(bench: Bench) -> None:
    manager, daemon = bench.manager, bench.daemon
    refreshed = asyncio.Event()
    manager.add_template_listener(refreshed.set)
    manager.start()  # the poller performs the refresh the judge asks for
    job = bench.issue_job()
    height = job.height
    share = await bench.mine(job, is_block)
    refreshed.clear()
    outcome = await bench.submit_share(job, share)

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


async def test_block_refused_by_the_daemon_is_still_a_credited_share(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_block)
    await bench.foreign_blocks(1)  # the network moved on: the daemon refuses a block on the old tip
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is True
    assert outcome.credited_difficulty == JOB_DIFFICULTY
    assert outcome.block is not None
    assert outcome.block.accepted_by_daemon is False
    assert "not on the tip" in outcome.block.detail  # the daemon's own message
    assert len(bench.daemon.submitted) == 1


async def test_block_whose_header_cannot_be_read_is_kept_as_an_unconfirmed_candidate(bench: Bench) -> None:
    """The daemon took the block but cannot show the header at its height: inconclusive, so the block stays
    a candidate (the unlocker's orphan check settles it) instead of losing the round's reward."""
    bench.daemon.headers_unreadable = True
    job = bench.issue_job()
    share = await bench.mine(job, is_block)
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.BLOCK
    assert outcome.block is not None
    assert outcome.block.accepted_by_daemon is True
    assert outcome.block.block_id_hex == bench.daemon.tip.hash_hex
    assert "unconfirmed" in outcome.block.detail
    assert "could not read the block header" in outcome.block.detail  # the daemon's own message


async def test_block_the_daemon_shows_on_a_side_chain_is_not_a_candidate(bench: Bench) -> None:
    """submitblock said OK (as monerod does for a side-chain block), but the main chain holds another block
    at that height: no candidate, the share is still credited."""
    bench.daemon.side_chain_submits = True
    job = bench.issue_job()
    share = await bench.mine(job, is_block)
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.credited_difficulty == JOB_DIFFICULTY
    assert outcome.block is not None
    assert outcome.block.accepted_by_daemon is False
    assert bench.daemon.tip.height == outcome.block.height
    assert f"holds {bench.daemon.tip.hash_hex} at height {outcome.block.height}" in outcome.block.detail


async def test_stale_but_valid_share_is_judged_on_its_own_template(bench: Bench) -> None:
    job = bench.issue_job()
    bench.daemon.mine_foreign_block()
    assert await bench.manager.refresh() is True
    share = await bench.mine(job, is_share_not_block)
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is True
    assert outcome.credited_difficulty == JOB_DIFFICULTY


async def test_share_on_a_refreshed_template_of_the_same_tip_is_not_stale(bench: Bench) -> None:
    job = bench.issue_job()
    assert await bench.manager.refresh(force=True) is True  # new transactions, same tip
    share = await bench.mine(job, is_share_not_block)
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.ACCEPTED
    assert outcome.stale is False


async def test_share_for_an_evicted_template_is_expired(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_share_not_block)
    await bench.foreign_blocks(bench.manager.config.keep_templates)
    outcome = await bench.submit_share(job, share)
    assert outcome.status is ShareStatus.REJECTED
    assert outcome.reason is RejectReason.EXPIRED_JOB
    assert outcome.reason.message == "Block expired"  # not "Invalid job id", which makes xmrig reconnect
    assert outcome.credited_difficulty == 0


@pytest.mark.parametrize("nonce", ["0000000", "000000000", "zzzzzzzz", "", "0x000000", " 0000000"])
async def test_malformed_nonce(bench: Bench, nonce: str) -> None:
    outcome = await bench.submit(bench.issue_job(), nonce, "00" * 32)
    assert outcome.reason is RejectReason.MALFORMED_NONCE


@pytest.mark.parametrize("result", ["00" * 31, "00" * 33, "0" * 63, "g" * 64, ""])
async def test_malformed_result(bench: Bench, result: str) -> None:
    outcome = await bench.submit(bench.issue_job(), "00000000", result)
    assert outcome.reason is RejectReason.MALFORMED_RESULT


async def test_expired_is_checked_before_malformed(bench: Bench) -> None:
    job = bench.issue_job()
    await bench.foreign_blocks(bench.manager.config.keep_templates)
    outcome = await bench.submit(job, "bad", "bad")
    assert outcome.reason is RejectReason.EXPIRED_JOB


async def test_duplicate_nonce_is_refused_even_in_another_case(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, lambda achieved: achieved >= JOB_DIFFICULTY)
    first = await bench.submit(job, share.nonce_hex.lower(), share.result_hex)
    again = await bench.submit(job, share.nonce_hex.upper(), share.result_hex)
    assert first.accepted
    assert again.reason is RejectReason.DUPLICATE
    assert again.credited_difficulty == 0


async def test_concurrent_copies_of_one_share_count_once(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_share_not_block)
    outcomes = await asyncio.gather(*(bench.submit_share(job, share) for _ in range(4)))
    assert sum(outcome.accepted for outcome in outcomes) == 1
    assert sum(outcome.reason is RejectReason.DUPLICATE for outcome in outcomes) == 3


async def test_same_nonce_on_another_job_is_not_a_duplicate(bench: Bench) -> None:
    first_job, second_job = bench.issue_job(1), bench.issue_job(1)
    share = await bench.mine(first_job, lambda achieved: achieved < NETWORK_DIFFICULTY)
    assert (await bench.submit_share(first_job, share)).accepted
    # The other job's blob has another extra nonce, so the same nonce gives another hash.
    other = await bench.submit_share(second_job, share)
    assert other.reason is RejectReason.BAD_HASH


async def test_wrong_result_is_a_bad_hash(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_share_not_block)
    forged = bytearray(bytes.fromhex(share.result_hex))
    forged[31] = 0  # what a cheater sends: a hash that would meet any target
    outcome = await bench.submit(job, share.nonce_hex, forged.hex())
    assert outcome.reason is RejectReason.BAD_HASH
    assert outcome.credited_difficulty == 0


async def test_share_below_the_job_difficulty_is_low_difficulty(bench: Bench) -> None:
    job = bench.issue_job()
    share = await bench.mine(job, is_below_job)
    outcome = await bench.submit_share(job, share)
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


async def test_job_not_issued_here_is_unknown(bench: Bench) -> None:
    outcome = await bench.submit(ForeignJob(), "00000000", "00" * 32)
    assert outcome.reason is RejectReason.UNKNOWN_JOB


async def test_counters_follow_the_outcomes(bench: Bench) -> None:
    job = bench.issue_job()
    good = await bench.mine(job, is_share_not_block)
    await bench.submit_share(job, good)
    await bench.submit_share(job, good)
    await bench.submit(job, "xyz", good.result_hex)
    await bench.foreign_blocks(1)
    stale = await bench.mine(job, is_share_not_block)
    await bench.submit_share(job, stale)
    assert bench.judge.counters.by_status == {"accepted": 1, "rejected": 2, "stale": 1}
    assert bench.judge.counters.by_reason == {"duplicate": 1, "malformed_nonce": 1}
