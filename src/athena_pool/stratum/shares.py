"""From a judged share to storage, without ever losing an acknowledged one.

The judge runs in a task of its own that the session only *awaits through a shield*: a connection that
drops (or a server that shuts down) while a share is being hashed or a block submitted never cancels the
judge half-way. The share record reaches the sink before the miner reads "OK"; a block the daemon
accepted is handed over as a `BlockCandidate` right behind its share, and stored before the reply too.

A share to be hashed first waits for one of its IP's judging slots (`JudgeSlots`), so one IP never holds
more than its share of the hashing threads. A share the trust policy lets through unhashed is judged with
`verify=False`, which the judge must accept (`PoolShareJudge` does; see `accepts_verify`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Protocol, cast

from athena_pool.jobs.contracts import (
    BlockFound,
    IssuedJob,
    MinerIdentity,
    RejectReason,
    ShareJudge,
    ShareOutcome,
)
from athena_pool.storage.records import BlockCandidate, RewardType, ShareKind, ShareRecord
from athena_pool.stratum.judge_slots import JudgeSlots

log = logging.getLogger(__name__)

_REJECTED_KINDS: Mapping[RejectReason, ShareKind] = MappingProxyType(
    {
        RejectReason.UNKNOWN_JOB: ShareKind.INVALID,
        RejectReason.EXPIRED_JOB: ShareKind.EXPIRED,
        RejectReason.MALFORMED_NONCE: ShareKind.INVALID,
        RejectReason.MALFORMED_RESULT: ShareKind.INVALID,
        RejectReason.DUPLICATE: ShareKind.DUPLICATE,
        RejectReason.BAD_HASH: ShareKind.INVALID,
        RejectReason.LOW_DIFFICULTY: ShareKind.LOW_DIFF,
    }
)


class TrustAwareJudge(Protocol):
    """A `ShareJudge` that can be told not to hash a share (block candidates are hashed all the same)."""

    async def judge(
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity, *, verify: bool = True
    ) -> ShareOutcome: ...


def accepts_verify(judge: ShareJudge) -> bool:
    try:
        parameter = inspect.signature(judge.judge).parameters.get("verify")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY


class ShareSink(Protocol):
    """Storage's side (`storage.recorder.ShareRecorder` fits): takes shares without blocking, never
    drops one once taken, and stores a block candidate behind the shares submitted before it."""

    def submit(self, share: ShareRecord) -> None: ...

    async def add_block_candidate(self, candidate: BlockCandidate) -> None: ...


def share_kind(outcome: ShareOutcome) -> ShareKind:
    if outcome.accepted:
        return ShareKind.STALE if outcome.stale else ShareKind.VALID
    return _REJECTED_KINDS.get(outcome.reason, ShareKind.INVALID) if outcome.reason else ShareKind.INVALID


def share_record(outcome: ShareOutcome, miner: MinerIdentity, height: int, time_ms: int) -> ShareRecord:
    return ShareRecord(
        address=miner.address,
        worker=miner.worker,
        difficulty=outcome.credited_difficulty if outcome.accepted else 0,
        kind=share_kind(outcome),
        solo=miner.solo,
        time_ms=time_ms,
        height=height,
        ip=miner.ip,
    )


def block_candidate(block: BlockFound, miner: MinerIdentity, time_ms: int) -> BlockCandidate:
    return BlockCandidate(
        height=block.height,
        hash_hex=block.block_id_hex.lower(),
        network_difficulty=block.network_difficulty,
        reward_type=RewardType.SOLO if miner.solo else RewardType.PROP,
        finder_address=miner.address,
        finder_worker=miner.worker,
        time_ms=time_ms,
    )


class SharePipeline:
    """Judge, then record. Owns the in-flight judge tasks so shutdown can wait for them."""

    def __init__(
        self,
        judge: ShareJudge,
        sink: ShareSink,
        clock: Callable[[], float],
        slots: JudgeSlots | None = None,
    ) -> None:
        self._judge = judge
        self._trusting = cast(TrustAwareJudge, judge) if accepts_verify(judge) else None
        self._sink = sink
        self._clock = clock
        self._slots = slots or JudgeSlots(1_000_000)
        self._in_flight: set[asyncio.Task[ShareOutcome | None]] = set()

    @property
    def can_skip_verification(self) -> bool:
        return self._trusting is not None

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def judge(
        self, job: IssuedJob, nonce: str, result: str, miner: MinerIdentity, *, verify: bool = True
    ) -> ShareOutcome | None:
        """The outcome (already recorded), or None if judging or recording failed (logged)."""
        task = asyncio.get_running_loop().create_task(
            self._judge_and_record(job, nonce, result, miner, verify)
        )
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return await asyncio.shield(task)

    def record(self, outcome: ShareOutcome, miner: MinerIdentity, height: int) -> None:
        self._sink.submit(share_record(outcome, miner, height, self._now_ms()))

    async def _judged(
        self, job: IssuedJob, nonce: str, result: str, miner: MinerIdentity, verify: bool
    ) -> ShareOutcome:
        if not verify and self._trusting is not None:
            return await self._trusting.judge(job, nonce, result, miner, verify=False)
        async with self._slots.held(miner.ip):
            return await self._judge.judge(job, nonce, result, miner)

    async def _judge_and_record(
        self, job: IssuedJob, nonce: str, result: str, miner: MinerIdentity, verify: bool
    ) -> ShareOutcome | None:
        try:
            outcome = await self._judged(job, nonce, result, miner, verify)
        except Exception:
            log.exception("share judge failed for %s/%s job %s", miner.address, miner.worker, job.job_id)
            return None
        try:
            self.record(outcome, miner, job.height)
        except Exception:
            # Not recorded means not acknowledged: the miner gets an error, never "OK".
            log.exception("share sink refused a share of %s/%s", miner.address, miner.worker)
            return None
        if outcome.block is not None and outcome.block.accepted_by_daemon:
            await self._record_block(outcome.block, miner)
        return outcome

    async def _record_block(self, block: BlockFound, miner: MinerIdentity) -> None:
        try:
            await self._sink.add_block_candidate(block_candidate(block, miner, self._now_ms()))
        except Exception:
            # The share itself is recorded and stays acknowledged; the block needs an operator's eyes.
            log.critical(
                "block %s at height %d found by %s could not be stored",
                block.block_id_hex,
                block.height,
                miner.address,
                exc_info=True,
            )

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for shares still being judged, e.g. at shutdown."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)
