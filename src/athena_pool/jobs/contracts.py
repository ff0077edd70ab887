"""What the stratum server and the job side agree on.

The job side (templates, issued jobs, share validation, block submission) implements `JobSource` and
`ShareJudge`; the stratum server consumes them and never looks inside a template. Keeping the seam here
lets either side be tested on its own and keeps coin knowledge out of the stratum code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class ShareStatus(enum.Enum):
    ACCEPTED = "accepted"
    BLOCK = "block"  # accepted and it met the network difficulty
    REJECTED = "rejected"


class RejectReason(enum.Enum):
    """Why a share was refused; `message` is what the miner reads (xmrig-safe wording)."""

    UNKNOWN_JOB = "unknown_job"
    EXPIRED_JOB = "expired_job"
    MALFORMED_NONCE = "malformed_nonce"
    MALFORMED_RESULT = "malformed_result"
    DUPLICATE = "duplicate"
    BAD_HASH = "bad_hash"
    LOW_DIFFICULTY = "low_difficulty"

    @property
    def message(self) -> str:
        return _REJECT_MESSAGES[self]


# xmrig drops the connection on "Invalid job id"; that is right for a job we never issued, but an expired
# job is an ordinary race at a block change and must be answered with a message that keeps it connected.
_REJECT_MESSAGES = {
    RejectReason.UNKNOWN_JOB: "Invalid job id",
    RejectReason.EXPIRED_JOB: "Block expired",
    RejectReason.MALFORMED_NONCE: "Malformed nonce: expected 8 hex characters",
    RejectReason.MALFORMED_RESULT: "Malformed result: expected 64 hex characters",
    RejectReason.DUPLICATE: "Duplicate share",
    RejectReason.BAD_HASH: "Rejected share: invalid result",
    RejectReason.LOW_DIFFICULTY: "Low difficulty share",
}


@dataclass(frozen=True)
class MinerIdentity:
    """Who submits: enough to credit the share and to judge the miner."""

    address: str  # payout destination as stored (address, or address + payment id form)
    worker: str
    solo: bool
    ip: str
    session_id: str


@dataclass(frozen=True)
class BlockFound:
    height: int
    block_id_hex: str
    network_difficulty: int
    # submitblock succeeded and the daemon did not show another block at that height: a block candidate to
    # store. With a non-empty `detail` the chain could not be read to confirm it (the unlocker settles it).
    accepted_by_daemon: bool
    detail: str = ""  # why it was refused, or why it is unconfirmed


@dataclass(frozen=True)
class ShareOutcome:
    status: ShareStatus
    credited_difficulty: int  # the job's difficulty for accepted shares, 0 otherwise
    achieved_difficulty: int = 0
    stale: bool = False  # valid, for a job of an earlier (still kept) template
    reason: RejectReason | None = None
    block: BlockFound | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not ShareStatus.REJECTED


class IssuedJob(Protocol):
    """A job handed to one miner. The session keeps its last few; the job side owns the contents."""

    job_id: str
    difficulty: int
    height: int
    submitted_nonces: set[bytes]

    def to_stratum(self, session_id: str) -> dict[str, Any]:
        """The job object of a login reply, a `job` push or a `getjob` answer."""
        ...


class JobSource(Protocol):
    algo: str  # canonical xmrig name of the pool's algorithm

    def issue_job(self, difficulty: int) -> IssuedJob:
        """A new job on the current template with a fresh extra nonce. Raises NoTemplateError."""
        ...

    def add_template_listener(self, listener: Callable[[], None]) -> None:
        """Called (on the event loop) each time a new template becomes current."""
        ...


class ShareJudge(Protocol):
    async def judge(
        self, job: IssuedJob, nonce_hex: str, result_hex: str, miner: MinerIdentity
    ) -> ShareOutcome:
        """Checks in this order: expired job, malformed nonce/result, duplicate, hash, difficulty.

        Hashing runs off the event loop. A block candidate is submitted and confirmed before returning.
        """
        ...


class NoTemplateError(RuntimeError):
    """No block template yet (daemon unreachable or still syncing)."""


@dataclass
class ShareCounters:
    """Per-outcome counts, kept by the judge for the console and metrics."""

    by_status: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: ShareOutcome) -> None:
        key = "stale" if outcome.stale else outcome.status.value
        self.by_status[key] = self.by_status.get(key, 0) + 1
        if outcome.reason is not None:
            self.by_reason[outcome.reason.value] = self.by_reason.get(outcome.reason.value, 0) + 1
