"""`ChartsCollector`: every `interval_s`, one value per pool chart and one per active address (and its
workers) from the current snapshot. The charts' keys are capped lists and hashes with expiries (see
`api_chart_*.lua`), so nothing grows without bound; one collector per pool is enough."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from athena_pool.api.periodic import Periodic
from athena_pool.api.settings import ChartSettings
from athena_pool.api.snapshot import PoolSnapshot
from athena_pool.api.stats_cache import StatsCache
from athena_pool.storage import RewardType
from athena_pool.storage.api_store import ApiStore, ChartSeries, ChartShape

log = logging.getLogger(__name__)


class ChartsCollector:
    def __init__(
        self,
        store: ApiStore,
        stats: StatsCache,
        settings: ChartSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
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
        for address, miner in snapshot.miners.items():
            await self._store.add_miner_points(
                address, miner.hashrate, miner.worker_hashrates(), now_s, self._shape
            )

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
