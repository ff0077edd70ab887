"""vardiff.retarget: the documented semantics, and simulated miners (hypothesis) converging within bounds."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from athena_pool.stratum.vardiff import ShareGap, VardiffConfig, VardiffState, is_due, mean_interval, retarget

CONFIG = VardiffConfig(
    min_difficulty=100,
    max_difficulty=1_000_000,
    target_time=30,
    retarget_time=60,
    variance_percent=30,
    max_jump_percent=100,
    window=16,
)
T0 = 1_000_000.0


def state_with_gaps(difficulty: int, gaps: list[float], now: float = T0) -> VardiffState:
    """A miner whose last share came just now, after `gaps` between shares, with a retarget due."""
    t = now - sum(gaps)
    state = VardiffState.start(difficulty, t, CONFIG)
    for gap in gaps:
        t += gap
        state.record_share(t)
    state.last_check_time = now - CONFIG.retarget_time
    return state


def test_nothing_before_the_retarget_time() -> None:
    state = VardiffState.start(1000, T0, CONFIG)
    state.record_share(T0 + 1)
    assert not is_due(state, T0 + 59, CONFIG)
    assert retarget(state, T0 + 59, CONFIG) is None


def test_in_band_means_no_change() -> None:
    assert retarget(state_with_gaps(1000, [25, 35, 30, 22]), T0, CONFIG) is None


def test_no_share_and_no_long_silence_means_no_change() -> None:
    state = VardiffState.start(1000, T0 - 20, CONFIG)
    state.last_check_time = T0 - 60
    assert retarget(state, T0, CONFIG) is None


def test_fast_miner_goes_up_by_at_most_one_jump() -> None:
    assert retarget(state_with_gaps(1000, [10, 10, 10]), T0, CONFIG) == 2000  # wants x3, capped at x2
    assert retarget(state_with_gaps(1000, [20, 20, 20]), T0, CONFIG) == 1500


def test_slow_miner_goes_down_by_at_most_one_jump() -> None:
    assert retarget(state_with_gaps(1000, [45, 45]), T0, CONFIG) == 667
    assert retarget(state_with_gaps(1000, [300, 300]), T0, CONFIG) == 500


def test_time_since_the_last_share_counts_as_work() -> None:
    state = state_with_gaps(1000, [10, 10, 10], now=T0 - 60)  # fast, then 60 s of nothing
    state.last_check_time = T0 - 60
    assert mean_interval(state, T0) == (pytest.approx(30.0), 3)
    assert retarget(state, T0, CONFIG) is None


def test_long_silence_lowers_a_miner_with_no_share_at_all() -> None:
    state = VardiffState.start(1000, T0 - 120, CONFIG)
    state.last_check_time = T0 - 60
    assert retarget(state, T0, CONFIG) == 500
    state.checked(T0, 500, CONFIG)
    assert state.last_share_time == T0 and state.gaps[-1] == ShareGap(120, 1000, 0)
    assert retarget(state, T0 + 10, CONFIG) is None  # not due yet
    assert retarget(state, T0 + 60, CONFIG) == 250  # still nothing: 120 s at 1000 + 60 s at 500


def test_gaps_at_an_older_difficulty_still_count() -> None:
    state = state_with_gaps(1000, [15, 15, 15, 15])
    state.checked(T0, 2000, CONFIG)
    state.last_check_time = T0 - 60
    # Four shares at 1000 in 60 s say 30 s per share at 2000: in band, no further change.
    assert mean_interval(state, T0) == (pytest.approx(30.0), 4)
    assert retarget(state, T0, CONFIG) is None


def test_zero_gaps_and_a_clock_stepping_back_stay_finite() -> None:
    state = state_with_gaps(1000, [0, 0, 0])
    assert retarget(state, T0, CONFIG) == 2000
    state.record_share(T0 - 500)  # clock stepped back
    assert state.gaps[-1].seconds == 0 and state.last_share_time == T0
    assert retarget(state, math.nan, CONFIG) is None
    assert retarget(state, math.inf, CONFIG) is None
    state.record_share(math.nan)
    assert len(state.gaps) == 4


def test_bounds_hold() -> None:
    assert retarget(state_with_gaps(150, [300, 300]), T0, CONFIG) == 100
    assert retarget(state_with_gaps(100, [300, 300]), T0, CONFIG) is None  # already at the floor
    assert retarget(state_with_gaps(900_000, [1, 1]), T0, CONFIG) == 1_000_000
    assert VardiffState.start(10, T0, CONFIG).difficulty == 100


def test_checked_keeps_the_ring_and_restarts_the_timer() -> None:
    state = state_with_gaps(1000, [25, 35])
    state.checked(T0, None, CONFIG)
    assert [gap.seconds for gap in state.gaps] == [25, 35] and state.last_check_time == T0
    state.checked(T0 + 60, 1200, CONFIG)
    assert list(state.gaps)[-1] == ShareGap(60, 1000, 0) and state.difficulty == 1200


def test_the_ring_is_bounded() -> None:
    state = VardiffState.start(1000, T0, CONFIG)
    for i in range(1000):
        state.record_share(T0 + i)
    assert len(state.gaps) == CONFIG.window


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_difficulty": 0},
        {"min_difficulty": 10, "max_difficulty": 5},
        {"target_time": 0},
        {"retarget_time": -1},
        {"variance_percent": 100},
        {"max_jump_percent": 0},
        {"window": 0},
    ],
)
def test_bad_configs_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="vardiff"):
        VardiffConfig(**kwargs)  # type: ignore[arg-type]


# --- simulated miners ---------------------------------------------------------------------------------------


def simulate(
    hashrate: float,
    start_difficulty: int,
    config: VardiffConfig,
    seconds: float,
    seed: int | None,
    tick: float = 5.0,
) -> tuple[list[int], list[int]]:
    """A miner of `hashrate` H/s: a share `difficulty / hashrate` seconds after it starts on a job
    (exponentially distributed when seeded). A new difficulty comes with a new job, so the miner starts
    over (for random shares that loses nothing: they are memoryless).

    Retargets run after every share and on a housekeeping tick, as the server does. Returns every
    difficulty the miner had, and the difficulty at each tick (samples evenly spread in time).
    """
    rng = random.Random(seed) if seed is not None else None

    def next_share(after: float) -> float:
        mean = state.difficulty / hashrate
        return after + (rng.expovariate(1 / mean) if rng else mean)

    state = VardiffState.start(start_difficulty, 0.0, config)
    every, at_ticks = [state.difficulty], []
    share_time, next_tick = next_share(0.0), tick
    while next_tick < seconds:
        if next_tick <= share_time:  # housekeeping while the miner works
            if _check(state, next_tick, config):
                share_time = next_share(next_tick)
            at_ticks.append(state.difficulty)
            next_tick += tick
        else:
            state.record_share(share_time)
            _check(state, share_time, config)
            every.append(state.difficulty)
            share_time = next_share(share_time)
    return every + at_ticks, at_ticks


def _check(state: VardiffState, now: float, config: VardiffConfig) -> bool:
    """A due retarget, as the server runs it; True when the difficulty changed."""
    if not is_due(state, now, config):
        return False
    new_difficulty = retarget(state, now, config)
    state.checked(now, new_difficulty, config)
    return new_difficulty is not None


@settings(max_examples=60, deadline=None)
@given(
    hashrate=st.floats(min_value=1, max_value=1e6),
    start=st.integers(min_value=1, max_value=10**9),
)
def test_a_steady_miner_settles_inside_the_band(hashrate: float, start: int) -> None:
    every, at_ticks = simulate(hashrate, start, CONFIG, seconds=6 * 3600, seed=None)
    assert all(CONFIG.min_difficulty <= d <= CONFIG.max_difficulty for d in every)
    ideal = hashrate * CONFIG.target_time
    low, high = CONFIG.band
    final = at_ticks[-1]
    interval = final / hashrate
    # A share every target_time, within the variance (the open gap may make a settled miner look up to
    # 1/window slower than it is); or pinned at the bound the ideal difficulty lies beyond.
    in_band = low * (1 - 1 / CONFIG.window) <= interval <= high * 1.01
    pinned_low = final == CONFIG.min_difficulty and ideal < CONFIG.min_difficulty
    pinned_high = final == CONFIG.max_difficulty and ideal > CONFIG.max_difficulty
    assert in_band or pinned_low or pinned_high


@settings(max_examples=40, deadline=None)
@given(
    hashrate=st.floats(min_value=10, max_value=30_000),
    start=st.integers(min_value=100, max_value=1_000_000),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_random_miner_converges_toward_the_target_rate(hashrate: float, start: int, seed: int) -> None:
    every, at_ticks = simulate(hashrate, start, CONFIG, seconds=24 * 3600, seed=seed)
    assert all(CONFIG.min_difficulty <= d <= CONFIG.max_difficulty for d in every)
    assert all(isinstance(d, int) for d in every)
    ideal = hashrate * CONFIG.target_time
    settled = at_ticks[len(at_ticks) // 2 :]  # the second half of a day, sampled evenly in time
    log_mean = sum(math.log(d) for d in settled) / len(settled)
    # Shares are random (exponential), so the difficulty keeps wandering; on average it must sit near
    # hashrate * target_time (the geometric mean within a factor of 1.25).
    assert abs(log_mean - math.log(CONFIG.clamp(round(ideal)))) < math.log(1.25)


@settings(max_examples=200, deadline=None)
@given(
    difficulty=st.integers(min_value=1, max_value=2**63),
    intervals=st.lists(st.floats(min_value=-1e9, max_value=1e9), max_size=40),
    silence=st.floats(min_value=0, max_value=1e9),
    min_difficulty=st.integers(min_value=1, max_value=10**6),
    span=st.integers(min_value=0, max_value=10**12),
    jump=st.floats(min_value=1, max_value=10_000),
)
def test_retarget_never_leaves_the_bounds_nor_returns_nan(
    difficulty: int, intervals: list[float], silence: float, min_difficulty: int, span: int, jump: float
) -> None:
    config = VardiffConfig(
        min_difficulty=min_difficulty, max_difficulty=min_difficulty + span, max_jump_percent=jump
    )
    state = VardiffState.start(difficulty, 0.0, config)
    now = 0.0
    for interval in intervals:
        now += interval
        state.record_share(now)
    now += silence + config.retarget_time
    new = retarget(state, now, config)
    assert new is None or (isinstance(new, int) and config.min_difficulty <= new <= config.max_difficulty)
