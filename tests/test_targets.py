"""Share targets and achieved difficulty (block-format.md section 10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from athena_pool.targets import (
    MAX_HASH_VALUE,
    achieved_difficulty,
    compact_target_hex,
    job_target_hex,
    meets,
    miner_target,
    miner_would_submit,
    wide_target_hex,
)

# The PoW hash of Monero block 202609 (cn/0), from blocks.json.
XMR_202609_POW = bytes.fromhex("c960d540000459480560b7816de968c7470083e5874e10040bdd4cc501000000")


@pytest.mark.parametrize(
    ("difficulty", "target_hex"), [(1000, "37894100"), (5000, "711b0d00"), (1, "ffffffff")]
)
def test_compact_target_examples(difficulty: int, target_hex: str) -> None:
    assert compact_target_hex(difficulty) == target_hex


def test_wide_target_example() -> None:
    assert wide_target_hex(1000) == "efa7c64b37894100"
    assert wide_target_hex(1) == "ffffffffffffffff"


def test_job_target_switches_to_8_bytes_above_2_to_the_24() -> None:
    assert job_target_hex(2**24) == compact_target_hex(2**24) == "ff000000"
    assert job_target_hex(2**24 + 1) == wide_target_hex(2**24 + 1)
    assert job_target_hex(2**32) == wide_target_hex(2**32) == "ffffffff00000000"
    assert len(job_target_hex(10**15)) == 16


def test_target_range_errors() -> None:
    with pytest.raises(ValueError, match="too high for a 4-byte target"):
        compact_target_hex(2**32)
    with pytest.raises(ValueError, match="too high for an 8-byte target"):
        job_target_hex(2**64)
    with pytest.raises(ValueError, match="at least 1"):
        job_target_hex(0)


def test_achieved_difficulty_of_a_real_block() -> None:
    assert achieved_difficulty(XMR_202609_POW) == 2425570321
    assert meets(XMR_202609_POW, 2425570321)
    assert not meets(XMR_202609_POW, 2425570322)


def test_zero_hash_is_guarded() -> None:
    assert achieved_difficulty(bytes(32)) == MAX_HASH_VALUE
    assert meets(bytes(32), 2**128)


def test_hash_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        achieved_difficulty(bytes(31))


def test_xmrig_reading_of_targets() -> None:
    assert miner_target("ffffffff") == 2**64 - 1
    assert miner_target("37894100") == (2**64 - 1) // ((2**32 - 1) // 0x00418937)
    assert miner_target("efa7c64b37894100") == 0x00418937_4BC6A7EF
    with pytest.raises(ValueError, match="4 or 8 bytes"):
        miner_target("0011")
    with pytest.raises(ValueError, match="cannot be met"):
        miner_target("00000000")


def test_compact_targets_are_coarse_near_2_to_the_32() -> None:
    """At d = 2.4e9 the 4-byte target is 1, which xmrig reads as difficulty 2**32 - 1.

    The real block 202609 meets d but xmrig would not submit it; with the 8-byte target it would.
    """
    difficulty = 2_400_000_000
    assert meets(XMR_202609_POW, difficulty)
    assert compact_target_hex(difficulty) == "01000000"
    assert not miner_would_submit(XMR_202609_POW, miner_target(compact_target_hex(difficulty)))
    assert miner_would_submit(XMR_202609_POW, miner_target(wide_target_hex(difficulty)))


difficulties = st.integers(min_value=1, max_value=2**64 - 1)
hashes = st.binary(min_size=32, max_size=32)


@given(difficulties)
def test_compact_target_is_uint32_division(difficulty: int) -> None:
    if difficulty < 2**32:
        target = int.from_bytes(bytes.fromhex(compact_target_hex(difficulty)), "little")
        assert target == (2**32 - 1) // difficulty


@given(hashes, difficulties)
def test_meets_agrees_with_achieved_difficulty(pow_hash: bytes, difficulty: int) -> None:
    assert meets(pow_hash, difficulty) == (achieved_difficulty(pow_hash) >= difficulty)


@given(st.integers(min_value=1, max_value=2**64 - 1), difficulties)
def test_whatever_xmrig_submits_meets_the_job_difficulty(top64: int, difficulty: int) -> None:
    """Both target forms round towards a harder target, so a submitted share never falls short."""
    for target_hex in {job_target_hex(difficulty), wide_target_hex(difficulty)}:
        target = miner_target(target_hex)
        # The weakest hash xmrig still submits: top 64 bits just below T, the rest all ones.
        weakest = min(top64, target - 1)
        if weakest < 0:
            continue
        pow_hash = (2**192 - 1).to_bytes(24, "little") + weakest.to_bytes(8, "little")
        assert miner_would_submit(pow_hash, target)
        assert meets(pow_hash, difficulty)


@given(st.integers(min_value=1, max_value=2**256 - 1))
def test_achieved_difficulty_is_met_exactly(hash_value: int) -> None:
    pow_hash = hash_value.to_bytes(32, "little")
    difficulty = achieved_difficulty(pow_hash)
    assert meets(pow_hash, difficulty)
    assert not meets(pow_hash, difficulty + 1)
