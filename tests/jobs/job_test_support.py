"""Constants and look-ups shared by the job tests."""

from __future__ import annotations

from typing import Any

from athena_pool.coins.profiles import get_coin
from athena_pool.pow import canonical_name

ATHENA = get_coin("athena")
ATHENA_ALGO = canonical_name(ATHENA.pow_algorithm)
POOL_ADDRESS = "athena-pool-address"  # the simulated daemon pays whatever address it is given
NETWORK_DIFFICULTY = 8


def vector(block_vectors: list[dict[str, Any]], coin: str, height: int) -> dict[str, Any]:
    return next(v for v in block_vectors if v["coin"] == coin and v["height"] == height)
