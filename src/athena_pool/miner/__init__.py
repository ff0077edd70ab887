"""A small real CPU miner over stratum (the xmrig dialect), hashing with the pool's own functions."""

from athena_pool.miner.client import Miner, MinerOptions
from athena_pool.miner.stats import MinerStats

__all__ = ["Miner", "MinerOptions", "MinerStats"]
