"""Share trust: which shares of a proven miner may be accepted without hashing (off by default).

The decision is made here, per share, with one random draw against the miner's verification chance, which
never falls below the floor (MoneroOcean's lesson: combining two draws once let ~99 % through unhashed).
The judge honours it through `PoolShareJudge.judge(..., verify=False)`: every other check still runs, the
claimed result must meet the job's difficulty, and a claimed result that would make a block is hashed all
the same, so no unverified block is ever submitted.

Trust belongs to one session; a wallet whose share failed recently starts every new session under penalty,
so reconnecting does not wash a cheat clean.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from athena_pool.jobs.contracts import RejectReason, ShareOutcome
from athena_pool.stratum.settings import TrustSettings

MAX_REMEMBERED_OFFENDERS = 100_000
# Rejections that say nothing about the miner's honesty: a race with a new template, a job from elsewhere.
_INNOCENT_REJECTS = frozenset({RejectReason.EXPIRED_JOB, RejectReason.UNKNOWN_JOB})


@dataclass(slots=True)
class TrustState:
    """One session's standing: verified good shares in a row, shares left under penalty, the chance of
    hashing the next share."""

    streak: int = 0
    penalty: int = 0
    verify_chance: float = 1.0


class TrustPolicy:
    def __init__(
        self,
        settings: TrustSettings,
        *,
        clock: Callable[[], float],
        draw: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._draw = draw or random.SystemRandom().random
        self._floor = settings.min_verified_percent / 100
        self._step = settings.step_percent / 100
        self._offenders: OrderedDict[str, float] = OrderedDict()  # address -> until (clock seconds)

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def new_state(self, address: str) -> TrustState:
        until = self._offenders.get(address)
        if until is not None and until > self._clock():
            return TrustState(penalty=self.settings.penalty_shares)
        return TrustState()

    def should_verify(self, state: TrustState, difficulty: int) -> bool:
        """True: hash this share. False: the judge may take its claimed result (blocks are hashed anyway)."""
        settings = self.settings
        if not settings.enabled or state.penalty > 0 or state.streak < settings.trusted_after:
            return True
        if settings.max_difficulty and difficulty > settings.max_difficulty:
            return True
        return self._draw() < max(self._floor, state.verify_chance)

    def record(self, state: TrustState, address: str, outcome: ShareOutcome, verified: bool) -> None:
        """After the judge's answer: a good verified share earns trust, a failed one loses all of it."""
        if not self.settings.enabled:
            return
        if outcome.accepted:
            state.penalty = max(0, state.penalty - 1)
            if verified and state.penalty == 0:
                state.streak += 1
                if state.streak > self.settings.trusted_after:
                    state.verify_chance = max(self._floor, state.verify_chance - self._step)
            return
        if outcome.reason in _INNOCENT_REJECTS:
            return
        state.streak = 0
        state.verify_chance = 1.0
        state.penalty = self.settings.penalty_shares
        self._remember_offender(address)

    def _remember_offender(self, address: str) -> None:
        self._offenders[address] = self._clock() + self.settings.offender_memory
        self._offenders.move_to_end(address)
        while len(self._offenders) > MAX_REMEMBERED_OFFENDERS:
            self._offenders.popitem(last=False)
