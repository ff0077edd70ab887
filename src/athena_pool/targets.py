"""Share targets and achieved difficulty (block-format.md section 10). Pure integer functions.

A PoW hash is read as a little-endian 256-bit integer h. It meets difficulty D iff h * D <= 2**256 - 1,
which is the same as floor((2**256 - 1) / h) >= D.
"""

from __future__ import annotations

import functools

HASH_SIZE = 32
MAX_HASH_VALUE = 2**256 - 1
MAX_UINT32 = 2**32 - 1
MAX_UINT64 = 2**64 - 1
COMPACT_TARGET_SIZE = 4
WIDE_TARGET_SIZE = 8


def _check_difficulty(difficulty: int) -> None:
    if difficulty < 1:
        raise ValueError(f"difficulty must be at least 1, got {difficulty}")


def _hash_value(pow_hash: bytes) -> int:
    if len(pow_hash) != HASH_SIZE:
        raise ValueError(f"a PoW hash is {HASH_SIZE} bytes, got {len(pow_hash)}")
    return int.from_bytes(pow_hash, "little")


def compact_target_hex(difficulty: int) -> str:
    """The classic 4-byte target: the top 32 bits of floor((2**256-1)/d), little-endian hex.

    It equals floor((2**32-1)/d), so it reaches 0 (unusable) at d = 2**32.
    """
    _check_difficulty(difficulty)
    if difficulty > MAX_UINT32:
        raise ValueError(f"difficulty {difficulty} is too high for a 4-byte target; use an 8-byte one")
    top_bits = (MAX_HASH_VALUE // difficulty) >> (256 - 32)
    return top_bits.to_bytes(COMPACT_TARGET_SIZE, "little").hex()


def wide_target_hex(difficulty: int) -> str:
    """The 8-byte target floor((2**64-1)/d) as a little-endian uint64, hex."""
    _check_difficulty(difficulty)
    if difficulty > MAX_UINT64:
        raise ValueError(f"difficulty {difficulty} is too high for an 8-byte target")
    return (MAX_UINT64 // difficulty).to_bytes(WIDE_TARGET_SIZE, "little").hex()


# Above this the 4-byte target is too coarse: xmrig widens it to a target harder than the job's difficulty
# (by 0.4 % at 2**24, 2 % at 10**8, never submitting at all near 2**32), which throws away miners' work.
COMPACT_TARGET_MAX_DIFFICULTY = 2**24


@functools.lru_cache(maxsize=4096)  # a new template asks once per miner; miners share a few difficulties
def job_target_hex(difficulty: int) -> str:
    """The target sent with a job: 4 bytes up to 2**24, the exact 8-byte form above."""
    if difficulty <= COMPACT_TARGET_MAX_DIFFICULTY:
        return compact_target_hex(difficulty)
    return wide_target_hex(difficulty)


def achieved_difficulty(pow_hash: bytes) -> int:
    """floor((2**256-1)/h); an all-zero hash (h = 0) counts as the maximum difficulty 2**256-1."""
    value = _hash_value(pow_hash)
    if value == 0:
        return MAX_HASH_VALUE
    return MAX_HASH_VALUE // value


def meets(pow_hash: bytes, difficulty: int) -> bool:
    """True when the hash satisfies `difficulty` (share or block check; D may exceed 64 bits)."""
    _check_difficulty(difficulty)
    return _hash_value(pow_hash) * difficulty <= MAX_HASH_VALUE


def miner_target(target_hex: str) -> int:
    """xmrig's reading of a job target as a uint64 T.

    A 4-byte t becomes floor((2**64-1) / floor((2**32-1)/t)); an 8-byte target is T itself.
    """
    target_bytes = bytes.fromhex(target_hex)
    target = int.from_bytes(target_bytes, "little")
    if len(target_bytes) == WIDE_TARGET_SIZE:
        return target
    if len(target_bytes) != COMPACT_TARGET_SIZE:
        raise ValueError(f"a job target is 4 or 8 bytes, got {len(target_bytes)}")
    if target == 0:
        raise ValueError("a 4-byte target of 0 cannot be met")
    return MAX_UINT64 // (MAX_UINT32 // target)


def miner_would_submit(pow_hash: bytes, target: int) -> bool:
    """xmrig submits when the uint64 in hash bytes 24..31 (little-endian) is below T."""
    _hash_value(pow_hash)
    return int.from_bytes(pow_hash[24:32], "little") < target
