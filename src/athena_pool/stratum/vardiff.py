"""Variable difficulty: aim each miner at one share every `target_time` seconds.

Semantics (all times in seconds from the injected clock):

- A miner's `VardiffState` holds its difficulty, the time of its last accepted share (or of the last
  difficulty change, whichever is later), the time of the last retarget check, and a ring of the last
  `window` share gaps (bounded memory). Each gap remembers the difficulty it was mined at, so the ring
  stays valid across difficulty changes and the estimate always uses up to `window` shares.
- The estimate: the miner's hashrate is (shares in the ring) / (sum of gap / difficulty), where the time
  since the last share counts as work that has not produced a share yet. Expressed at the current
  difficulty, that is the miner's mean share interval. (Leaving the open time out would overstate fast
  miners; counting it as a whole share, as the reference pool does, drags every miner down.)
- `retarget(state, now, config)` is pure. It returns None unless a check is due (`retarget_time` since
  the last check). A mean interval inside the band [target*(1-v), target*(1+v)] (v = variance_percent)
  means no change. With no share in the ring at all, the only conclusion is "too slow": the silence,
  taken as one share, lowers the difficulty once it is past the band; anything shorter means no change.
- Otherwise the new difficulty is `difficulty * target_time / mean`, limited to one `max_jump_percent`
  step in either direction (multiplicatively: at most times (1+j) up or divided by (1+j) down, so it
  never reaches 0), rounded, and clamped to [min_difficulty, max_difficulty]. No change means None.
- After every due check the caller calls `state.checked(now, new_difficulty, config)`: it restarts the
  retarget timer; on a change it closes the open gap as "work without a share" at the old difficulty and
  starts the next gap at `now` (share arrivals are memoryless, so nothing is lost by that).

No NaN or infinity can come out: gaps are clamped at zero (a clock stepping backwards), non-finite times
are ignored, a mean of zero (shares inside one clock tick) means "as fast as can be", and the jump limit
caps the ratio.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class VardiffConfig:
    min_difficulty: int = 100
    max_difficulty: int = 100_000_000_000
    target_time: float = 30.0
    retarget_time: float = 60.0
    variance_percent: float = 30.0
    max_jump_percent: float = 100.0
    window: int = 16

    def __post_init__(self) -> None:
        if not 1 <= self.min_difficulty <= self.max_difficulty:
            raise ValueError("vardiff: need 1 <= min_difficulty <= max_difficulty")
        if not (self.target_time > 0 and self.retarget_time > 0):
            raise ValueError("vardiff: target_time and retarget_time must be positive")
        if not 0 <= self.variance_percent < 100:
            raise ValueError("vardiff: variance_percent must be in [0, 100)")
        if not self.max_jump_percent > 0:
            raise ValueError("vardiff: max_jump_percent must be positive")
        if self.window < 1:
            raise ValueError("vardiff: window must be at least 1")

    @property
    def band(self) -> tuple[float, float]:
        spread = self.target_time * self.variance_percent / 100
        return self.target_time - spread, self.target_time + spread

    @property
    def max_factor(self) -> float:
        return 1 + self.max_jump_percent / 100

    def clamp(self, difficulty: int) -> int:
        return max(self.min_difficulty, min(self.max_difficulty, difficulty))


class ShareGap(NamedTuple):
    seconds: float
    difficulty: int
    shares: int  # 1 for a gap that ended with a share, 0 for one closed by a difficulty change


@dataclass
class VardiffState:
    difficulty: int
    last_share_time: float
    last_check_time: float
    gaps: deque[ShareGap] = field(default_factory=deque)

    @classmethod
    def start(cls, difficulty: int, now: float, config: VardiffConfig) -> VardiffState:
        return cls(config.clamp(difficulty), now, now, deque(maxlen=config.window))

    def record_share(self, now: float) -> None:
        self._close_gap(now, shares=1)

    def checked(self, now: float, new_difficulty: int | None, config: VardiffConfig) -> None:
        self.last_check_time = now
        if new_difficulty is not None and new_difficulty != self.difficulty:
            self._close_gap(now, shares=0)
            self.difficulty = config.clamp(new_difficulty)

    def _close_gap(self, now: float, shares: int) -> None:
        if not math.isfinite(now):
            return
        self.gaps.append(ShareGap(max(0.0, now - self.last_share_time), self.difficulty, shares))
        self.last_share_time = max(self.last_share_time, now)


def is_due(state: VardiffState, now: float, config: VardiffConfig) -> bool:
    return now - state.last_check_time >= config.retarget_time


def mean_interval(state: VardiffState, now: float) -> tuple[float, int]:
    """The estimated mean share interval at the current difficulty, and the shares it rests on."""
    open_seconds = max(0.0, now - state.last_share_time)
    work = sum(gap.seconds / gap.difficulty for gap in state.gaps) + open_seconds / state.difficulty
    shares = sum(gap.shares for gap in state.gaps)
    return work * state.difficulty / max(shares, 1), shares


def retarget(state: VardiffState, now: float, config: VardiffConfig) -> int | None:
    """The new difficulty, or None for no change (see the module docstring)."""
    if not math.isfinite(now) or not is_due(state, now, config):
        return None
    mean, shares = mean_interval(state, now)
    low, high = config.band
    if low <= mean <= high or (shares == 0 and mean < low):
        return None
    new = config.clamp(round(state.difficulty * _ratio(config.target_time, mean, config.max_factor)))
    return None if new == state.difficulty else new


def _ratio(target_time: float, mean: float, max_factor: float) -> float:
    if mean <= 0:
        return max_factor
    return max(1 / max_factor, min(max_factor, target_time / mean))
