"""The block unlocker: settles block candidates (unlocked or orphaned) and credits miners' balances.

Wiring (the supervisor):

    unlocker = create_unlocker(redis=redis, store=store, daemon=daemon, coin=coin, settings=config.unlocker)
    task = asyncio.create_task(unlocker.run())   # a pass every settings.interval s; cancel to stop
    unlocker.stats                               # UnlockerStats, for metrics
"""

from athena_pool.unlocker.classify import Depths, Verdict, classify
from athena_pool.unlocker.config import UnlockerSettings, UnlockRules
from athena_pool.unlocker.unlocker import BlockUnlocker, PassReport, UnlockerStats, create_unlocker

__all__ = [
    "BlockUnlocker",
    "Depths",
    "PassReport",
    "UnlockRules",
    "UnlockerSettings",
    "UnlockerStats",
    "Verdict",
    "classify",
    "create_unlocker",
]
