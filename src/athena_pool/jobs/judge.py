"""The share judge: every check in the contract's order, the real hash off the event loop, and blocks.

A share is always judged against the template its job was built on (kept by the `JobManager`), never the
current one, so a share for the previous job is verified correctly and credited as stale. A share that
meets the network difficulty is reassembled into a block, submitted, and then confirmed: the daemon's main
chain must hold our block id at that height, since monerod answers OK even for a side-chain block.

Only a positive contradiction (the daemon shows another block at that height) drops the block. When the
header cannot be read in time, the block is kept as a candidate all the same: the unlocker's orphan check
settles it later, whereas dropping it would lose the round's reward.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from athena_pool.jobs.contracts import (
    BlockFound,
    IssuedJob,
    MinerIdentity,
    RejectReason,
    ShareCounters,
    ShareOutcome,
    ShareStatus,
)
from athena_pool.jobs.job import Job
from athena_pool.jobs.manager import JobManager
from athena_pool.jobs.template import NONCE_SIZE, Template
from athena_pool.pow.verifier import PowVerifier
from athena_pool.rpc.daemon import DaemonClient
from athena_pool.rpc.errors import RpcFailure
from athena_pool.targets import achieved_difficulty

log = logging.getLogger(__name__)

RESULT_SIZE = 32
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class ConfirmPolicy:
    """How long to look for our block in the daemon's chain after a successful submit."""

    attempts: int = 5
    interval: float = 0.5  # seconds between attempts

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.interval < 0:
            raise ValueError("confirmation needs at least one attempt and a non-negative interval")


def parse_fixed_hex(text: str, size: int) -> bytes | None:
    """`size` bytes from exactly 2*size hex characters (either case), else None."""
    if not isinstance(text, str) or len(text) != 2 * size or not _HEX_DIGITS.issuperset(text):
        return None
    return bytes.fromhex(text)


def rejected(reason: RejectReason, achieved: int = 0) -> ShareOutcome:
    return ShareOutcome(
        ShareStatus.REJECTED, credited_difficulty=0, achieved_difficulty=achieved, reason=reason
    )


class PoolShareJudge:
    """Implements `contracts.ShareJudge` for the jobs issued by one `JobManager`."""

    def __init__(
        self,
        jobs: JobManager,
        verifier: PowVerifier,
        daemon: DaemonClient,
        *,
        confirm: ConfirmPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._jobs = jobs
        self._verifier = verifier
        self._daemon = daemon
        self._confirm = confirm or ConfirmPolicy()
        self._sleep = sleep
        self.counters = ShareCounters()

    async def judge(
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity, *, verify: bool = True
    ) -> ShareOutcome:
        """`verify=False` (the stratum trust policy's call) accepts the miner's claimed result without hashing
        it, after every other check; a claimed result that would make a block is hashed all the same."""
        outcome = await self._judge(job, nonce_hex, result_hex, miner, verify)
        self.counters.count(outcome)
        return outcome

    async def _judge(
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity, verify: bool
    ) -> ShareOutcome:
        if not isinstance(job, Job):
            return rejected(RejectReason.UNKNOWN_JOB)  # not one of ours: no template to judge it against
        if not self._jobs.is_kept(job.template):
            return rejected(RejectReason.EXPIRED_JOB)
        nonce = parse_fixed_hex(nonce_hex, NONCE_SIZE)
        if nonce is None:
            return rejected(RejectReason.MALFORMED_NONCE)
        result = parse_fixed_hex(result_hex, RESULT_SIZE)
        if result is None:
            return rejected(RejectReason.MALFORMED_RESULT)
        if nonce in job.submitted_nonces:
            return rejected(RejectReason.DUPLICATE)
        # Taken before hashing: a second copy arriving while the first is being hashed is a duplicate too.
        job.submitted_nonces.add(nonce)
        if not verify and achieved_difficulty(result) < job.template.difficulty:
            return self._trusted(job, result)
        return await self._check_work(job, nonce, result, miner)

    def _trusted(self, job: Job, result: bytes) -> ShareOutcome:
        """A share taken on trust: only the claimed result's difficulty is checked (never a block: those are
        always hashed)."""
        achieved = achieved_difficulty(result)
        if achieved < job.difficulty:
            return rejected(RejectReason.LOW_DIFFICULTY, achieved)
        stale = self._jobs.is_stale(job.template)
        return ShareOutcome(
            ShareStatus.ACCEPTED,
            credited_difficulty=job.difficulty,
            achieved_difficulty=achieved,
            stale=stale,
        )

    async def _check_work(self, job: Job, nonce: bytes, result: bytes, miner: MinerIdentity) -> ShareOutcome:
        template = job.template
        # What the daemon's consensus check hashes is the PoW blob of the assembled block. When the template
        # showed that this equals the job's hashing blob with the nonce written in (checked once per
        # template), that is hashed directly, and the block is only assembled for a block candidate.
        block: bytes | None = None
        if template.pow_shortcut:
            pow_input = template.pow_input(job.hashing_blob, nonce)
        else:
            block = template.family.assemble_block(job.blob, nonce)
            pow_input = template.family.pow_blob(block)
        pow_hash = await self._verifier.hash(pow_input, height=template.height, seed=template.seed_hash)
        if pow_hash != result:
            log.debug(
                "bad hash from %s (%s): job %s nonce %s", miner.address, miner.ip, job.job_id, nonce.hex()
            )
            return rejected(RejectReason.BAD_HASH)
        achieved = achieved_difficulty(pow_hash)
        is_block = achieved >= template.difficulty
        if achieved < job.difficulty and not is_block:
            return rejected(RejectReason.LOW_DIFFICULTY, achieved)
        stale = self._jobs.is_stale(template)
        found = None
        if is_block:
            block = block or template.family.assemble_block(job.blob, nonce)
            found = await self._submit_block(template, block, miner)
        status = ShareStatus.BLOCK if found is not None and found.accepted_by_daemon else ShareStatus.ACCEPTED
        return ShareOutcome(
            status,
            credited_difficulty=job.difficulty,
            achieved_difficulty=achieved,
            stale=stale,
            block=found,
        )

    async def _submit_block(self, template: Template, block: bytes, miner: MinerIdentity) -> BlockFound:
        block_id_hex = template.family.block_id(block).hex()
        log.info(
            "block candidate at height %d by %s: %s, submitting", template.height, miner.address, block_id_hex
        )
        try:
            await self._daemon.submit_block(block)
        except RpcFailure as exc:
            log.error("daemon refused block %s at height %d: %s", block_id_hex, template.height, exc)
            self._jobs.refresh_now()
            return self._found(template, block_id_hex, accepted=False, detail=f"submit failed: {exc}")
        accepted, detail = await self._confirm_in_chain(template.height, block_id_hex)
        self._jobs.refresh_now()
        if not accepted:
            log.error(
                "block %s at height %d rejected as a side-chain block: %s",
                block_id_hex,
                template.height,
                detail,
            )
        elif detail:
            log.warning("block %s at height %d was submitted, %s", block_id_hex, template.height, detail)
        else:
            log.info("block %s at height %d is in the daemon's chain", block_id_hex, template.height)
        return self._found(template, block_id_hex, accepted=accepted, detail=detail)

    async def _confirm_in_chain(self, height: int, block_id_hex: str) -> tuple[bool, str]:
        """(keep it as a candidate, why it is not confirmed). Only a header showing another block at that
        height drops it; when no header could be read at all, it is kept, unconfirmed."""
        side_chain = ""
        unread = ""
        for attempt in range(self._confirm.attempts):
            if attempt:
                await self._sleep(self._confirm.interval)
            try:
                header = await self._daemon.get_block_header_by_height(height)
            except RpcFailure as exc:
                unread = f"the header at height {height} could not be read: {exc}"
                continue
            if header.hash_hex == block_id_hex:
                return True, ""
            side_chain = (
                f"the daemon's chain holds {header.hash_hex} at height {height} (ours is on a side chain)"
            )
        if side_chain:
            return False, side_chain
        return True, f"unconfirmed ({unread}), kept as a candidate for the unlocker's orphan check"

    @staticmethod
    def _found(template: Template, block_id_hex: str, *, accepted: bool, detail: str) -> BlockFound:
        return BlockFound(
            height=template.height,
            block_id_hex=block_id_hex,
            network_difficulty=template.difficulty,
            accepted_by_daemon=accepted,
            detail=detail,
        )
