"""`ChartsCollector`: every `interval_s`, one value per pool chart and one per active address (and its
workers) from the current snapshot; and the blocks found per step (prop and solo), counted from the
snapshot's recent blocks. The charts' keys are capped lists and hashes with expiries (see
`api_chart_*.lua`), so nothing grows without bound; one collector per pool is enough."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from athena_pool.api.periodic import Periodic
from athena_pool.api.settings import ChartSettings
from athena_pool.api.snapshot import PoolSnapshot
from athena_pool.api.stats_cache import StatsCache
from athena_pool.storage import RewardType
from athena_pool.storage.api_store import ApiStore, ChartSeries, ChartShape
from athena_pool.storage.stats import BlockRecord

log = logging.getLogger(__name__)

# The longest a found block takes to reach the block index (submission, daemon answer, record).
RECORD_LAG_S = 60


class ChartsCollector:
    def __init__(
        self,
        store: ApiStore,
        stats: StatsCache,
        settings: ChartSettings,
        clock: Callable[[], float] = time.time,
        *,
        block_window: int | None = None,
    ) -> None:
        """`block_window`: the most blocks a snapshot's `recent_blocks` holds (None: all of them)."""
        self._store = store
        self._block_window = block_window
        self._blocks_counted_s: int | None = None  # start of the newest step counted so far
        self._stats = stats
        self._settings = settings
        self._clock = clock
        self._shape = ChartShape(
            step_s=settings.step_s,
            max_points=settings.max_points,
            ttl_ms=settings.retention_s * 1000,
            max_workers=settings.max_workers_per_miner,
        )
        self._loop = Periodic("charts-collector", settings.interval_s, self._collect_current)

    async def collect(self, snapshot: PoolSnapshot) -> None:
        now_s = int(self._clock())
        values = {
            ChartSeries.HASHRATE: snapshot.hashrate_prop,
            ChartSeries.HASHRATE_SOLO: snapshot.hashrate_solo,
            ChartSeries.MINERS: float(snapshot.miners_of(RewardType.PROP)),
            ChartSeries.MINERS_SOLO: float(snapshot.miners_of(RewardType.SOLO)),
            ChartSeries.WORKERS: float(snapshot.workers_of(RewardType.PROP)),
            ChartSeries.WORKERS_SOLO: float(snapshot.workers_of(RewardType.SOLO)),
            ChartSeries.DIFFICULTY: float(snapshot.network.difficulty if snapshot.network else 0),
        }
        await self._store.add_pool_points(values, now_s, self._shape)
        await self._collect_blocks(snapshot.recent_blocks, now_s, snapshot.taken_ms // 1000)
        for address, miner in snapshot.miners.items():
            await self._store.add_miner_points(
                address, miner.hashrate, miner.worker_hashrates(), now_s, self._shape
            )

    async def _collect_blocks(self, blocks: Sequence[BlockRecord], now_s: int, taken_s: int) -> None:
        """Recounts the steps from the one that could still gain a block to the current one; each block
        counts once however often this runs. A block shows in a snapshot only after it was found: the
        snapshot is taken a moment after Redis is read (`taken_s`), the block is recorded after its share
        was hashed. So the next recount starts at the step of `taken_s - RECORD_LAG_S`, not at the current
        step: a block found just before a step boundary and seen just after it still counts. The first
        time, from the oldest block's step on (within the retention): the chart is right after a restart
        too, except before the oldest block of a full `block_window` (those steps are left as they are)."""
        step = self._settings.step_s
        current_s = now_s // step * step
        first_s = self._blocks_counted_s
        if first_s is None:
            oldest_s = min((b.candidate.time_ms // 1000 for b in blocks), default=now_s)
            first_s = oldest_s // step * step
            if self._block_window is not None and len(blocks) >= self._block_window:
                first_s += step  # blocks of the oldest step may be missing from the window
        first_s = min(max(first_s, current_s - (self._shape.max_points - 1) * step), current_s)
        steps = (current_s - first_s) // step + 1
        counts = {
            ChartSeries.BLOCKS: blocks_per_step(blocks, RewardType.PROP, first_s, step, steps),
            ChartSeries.BLOCKS_SOLO: blocks_per_step(blocks, RewardType.SOLO, first_s, step, steps),
        }
        await self._store.set_counted_points(counts, first_s, self._shape)
        settled_s = min(taken_s, now_s) - RECORD_LAG_S
        # Never back before this recount's start: the first one may have left out a partial step.
        self._blocks_counted_s = min(current_s, max(first_s, settled_s // step * step))

    async def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.close()

    async def _collect_current(self) -> None:
        """Collects from the current snapshot unless it is stale (Redis away: no made-up zeros)."""
        age, snapshot = self._stats.age_s(), self._stats.snapshot
        if snapshot is None or age is None or age > 2 * self._settings.interval_s + 10:
            return
        try:
            await self.collect(snapshot)
        except Exception as exc:  # the next interval tries again
            log.warning("chart collection failed: %s: %s", type(exc).__name__, exc)


def blocks_per_step(
    blocks: Iterable[BlockRecord], kind: RewardType, first_s: int, step_s: int, steps: int
) -> list[tuple[int, int]]:
    """(step start s, blocks of `kind` found in it) for `steps` steps from `first_s`. Every block found
    counts, orphans too (the pool found them; they are orphaned only later)."""
    counts = [0] * steps
    for block in blocks:
        if block.candidate.reward_type is not kind:
            continue
        index = (block.candidate.time_ms // 1000 - first_s) // step_s
        if 0 <= index < steps:
            counts[index] += 1
    return [(first_s + i * step_s, count) for i, count in enumerate(counts)]
