"""Redis storage: the key schema (`keys`), the atomic Lua scripts (`lua/`), the typed `Store` and the
`ShareRecorder` that batches shares into it without losing any while Redis is away."""

from athena_pool.storage.keys import KeySpace
from athena_pool.storage.limits import StoreLimits
from athena_pool.storage.recorder import RecorderSettings, RecorderStats, ShareRecorder, ShareSink
from athena_pool.storage.records import BlockCandidate, RewardType, ShareKind, ShareRecord
from athena_pool.storage.stats import (
    ActivityStats,
    BlockRecord,
    NetworkStats,
    PoolStats,
    PplnsShare,
    ShareCounts,
)
from athena_pool.storage.store import Store

__all__ = [
    "ActivityStats",
    "BlockCandidate",
    "BlockRecord",
    "KeySpace",
    "NetworkStats",
    "PoolStats",
    "PplnsShare",
    "RecorderSettings",
    "RecorderStats",
    "RewardType",
    "ShareCounts",
    "ShareKind",
    "ShareRecord",
    "ShareRecorder",
    "ShareSink",
    "Store",
    "StoreLimits",
]
