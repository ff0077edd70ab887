"""`LiveStatsPublisher`: every pool process writes its live figures to Redis every few seconds, so the API
(in the same process or another one) and the metrics endpoint can read them: the stratum server's figures
where the process runs the pool role, and in every process the latency of its calls to the daemon and the
wallet.

What it publishes comes from callables handed in by the composition root (`LiveSources`), so this module
knows nothing of how the stratum server, the recorder or the verifier are built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

import redis.asyncio as aioredis

from athena_pool.api.logring import RingLogHandler
from athena_pool.api.periodic import Periodic
from athena_pool.pow.verifier import HashTimings
from athena_pool.storage.api_store import ApiStore
from athena_pool.storage.recorder import RecorderStats
from athena_pool.stratum.registry import StratumStats
from athena_pool.stratum.server import BroadcastStats

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class LiveSources:
    """Where the live figures come from, each optional. Readers tell a stratum instance by its `stratum`
    figures (an entry with "connections"); a process without the pool role publishes the rest."""

    stratum: Callable[[], StratumStats] | None = None
    # Wall-clock time before this instance could take its first share: the hashrate's measuring span
    # starts there (see `api/snapshot.py`). None: unknown.
    started_s: float | None = None
    recorder: Callable[[], RecorderStats] | None = None
    hash_timings: Callable[[], HashTimings] | None = None
    template_age_s: Callable[[], float | None] | None = None
    daemon_available: Callable[[], bool] | None = None
    job_broadcast: Callable[[], BroadcastStats | None] | None = None  # the last new-job broadcast
    rpc: Callable[[], Mapping[str, Any]] | None = None  # `RpcTimings.figures`
    roles: tuple[str, ...] = ()  # the process's roles, for the operator
    # More gauges by name (seconds, counts).
    extra: Callable[[], Mapping[str, float]] | None = None


def collect_figures(sources: LiveSources, instance: str, now_ms: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"instance": instance, "updated_ms": now_ms}
    if sources.roles:
        figures["roles"] = list(sources.roles)
    if sources.stratum is not None:
        figures.update(_stratum_figures(sources.stratum()))
    if sources.started_s is not None:
        figures["started_ms"] = int(sources.started_s * 1000)
    figures.update(_part_figures(sources))
    if sources.rpc is not None:
        figures["rpc"] = dict(sources.rpc())
    if sources.extra is not None:
        figures["extra"] = {name: float(value) for name, value in sources.extra().items()}
    return figures


def _stratum_figures(stats: StratumStats) -> dict[str, Any]:
    return {
        "connections": stats.connections,
        "connections_by_port": {str(port): n for port, n in stats.connections_by_port.items()},
        "miners": stats.miners,
        "workers": stats.workers,
        "hashrate": stats.hashrate,
        "shares": dict(stats.shares),
        "rejects": dict(stats.rejects),
        "drops": dict(stats.drops),
        "blocks_found": stats.blocks_found,
    }


def _part_figures(sources: LiveSources) -> dict[str, Any]:
    """The figures of the pool role's parts: recorder, hashing, templates, job broadcasts."""
    figures: dict[str, Any] = {}
    if sources.recorder is not None:
        figures["recorder"] = asdict(sources.recorder())
    if sources.hash_timings is not None:
        timings = sources.hash_timings()
        figures["hashing"] = {
            algo: {"count": timings.count.get(algo, 0), "seconds": timings.seconds.get(algo, 0.0)}
            for algo in sorted(set(timings.count) | set(timings.seconds))
        }
    if sources.template_age_s is not None:
        figures["template_age_s"] = sources.template_age_s()
    if sources.daemon_available is not None:
        figures["daemon_available"] = sources.daemon_available()
    if sources.job_broadcast is not None:
        broadcast = sources.job_broadcast()
        if broadcast is not None:
            figures["job_broadcast"] = {"sessions": broadcast.sessions, "seconds": broadcast.seconds}
    return figures


class LiveStatsPublisher:
    """Publishes every `interval_s` until closed; removes its entry when closed."""

    def __init__(
        self,
        redis: aioredis.Redis,
        coin_prefix: str,
        sources: LiveSources,
        *,
        instance_id: str | None = None,
        interval_s: float = 5.0,
        log_ring: RingLogHandler | None = None,
        log_lines_kept: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._store = ApiStore(redis, coin_prefix)
        self._sources = sources
        self.instance_id = instance_id or secrets.token_hex(4)
        self._interval = interval_s
        self._ring = log_ring
        self._log_keep = log_lines_kept
        self._log_seq = 0
        self._clock = clock
        self._loop = Periodic("live-stats-publisher", interval_s, self._publish_logged)
        self._failing = False

    async def publish_once(self) -> None:
        now_ms = int(self._clock() * 1000)
        await self._store.write_live(
            self.instance_id, collect_figures(self._sources, self.instance_id, now_ms)
        )
        if self._ring is not None:
            lines = self._ring.lines_after(self._log_seq)
            if lines:
                self._log_seq = lines[-1]["seq"]
                tagged = [{**line, "instance": self.instance_id} for line in lines]
                await self._store.push_log_lines(tagged, self._log_keep)

    async def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._store.delete_live(self.instance_id)

    async def __aenter__(self) -> LiveStatsPublisher:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _publish_logged(self) -> None:
        try:
            await self.publish_once()
        except Exception as exc:  # Redis away: keep trying, say it once
            if not self._failing:
                log.warning("cannot publish live stats: %s: %s", type(exc).__name__, exc)
            self._failing = True
            return
        if self._failing:
            log.info("live stats published again")
        self._failing = False
