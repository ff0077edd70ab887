"""Addresses for devnet wallets and "other people": random public keys that are valid curve points.

Nobody holds the secret keys: devnet coins are tracked by address, not by output-key scanning, so only
the addresses' validity matters (the daemon and wallet check it like Athena does).
"""

from __future__ import annotations

import random

from athena_pool.coins.addresses import encode_address
from athena_pool.coins.ed25519 import KEY_SIZE, is_valid_point

MAX_TRIES = 1000  # about half of all 32-byte strings are valid points; this never runs out in practice


def random_public_key(rng: random.Random) -> bytes:
    for _ in range(MAX_TRIES):
        key = rng.randbytes(KEY_SIZE)
        if is_valid_point(key):
            return key
    raise RuntimeError("no valid curve point found; the random source is broken")


def generate_address(rng: random.Random, network: str = "athena") -> str:
    return encode_address(network, random_public_key(rng), random_public_key(rng))
