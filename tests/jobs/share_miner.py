"""The miner's side of a share, as xmrig does it: nonce into the job blob at offset 39, hash, compare."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from athena_pool.jobs import Job
from athena_pool.pow import PowAlgorithm
from athena_pool.targets import achieved_difficulty

XMRIG_NONCE_OFFSET = 39  # xmrig writes the nonce here without looking at the blob


@dataclass(frozen=True)
class MinedShare:
    nonce_hex: str
    result_hex: str
    achieved: int


def mine(
    job: Job, algorithm: PowAlgorithm, wanted: Callable[[int], bool], *, tries: int = 2000
) -> MinedShare:
    """Hash nonces from a random start until the achieved difficulty is what the test wants."""
    stratum = job.to_stratum("test-session")
    blob = bytearray(bytes.fromhex(stratum["blob"]))
    seed = bytes.fromhex(stratum["seed_hash"]) if "seed_hash" in stratum else None
    start = secrets.randbelow(1 << 32)
    for step in range(tries):
        nonce = ((start + step) % (1 << 32)).to_bytes(4, "little")
        blob[XMRIG_NONCE_OFFSET : XMRIG_NONCE_OFFSET + 4] = nonce
        pow_hash = algorithm.hash(bytes(blob), height=stratum["height"], seed=seed)
        achieved = achieved_difficulty(pow_hash)
        if wanted(achieved):
            return MinedShare(nonce.hex(), pow_hash.hex(), achieved)
    raise AssertionError(f"no share with the wanted difficulty in {tries} tries")


async def mine_async(
    job: Job, algorithm: PowAlgorithm, wanted: Callable[[int], bool], *, tries: int = 2000
) -> MinedShare:
    return await asyncio.to_thread(mine, job, algorithm, wanted, tries=tries)
