"""The pool as the API shows it, read from Redis in one pass: `SnapshotBuilder.build() -> PoolSnapshot`.

The stats cache rebuilds it every `update_interval_s` and every request reads the same snapshot, so the
cost of the API does not grow with its visitors. What it reads is bounded: the miners active within the
hashrate window (at most `max_active_miners`), the newest `luck_window_blocks` blocks, the newest
`compat_list_size` payments, and a few hashes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from athena_pool.api.settings import ApiSettings
from athena_pool.storage import NetworkStats, PoolStats, RewardType, Store
from athena_pool.storage.api_store import ApiStore, ChartPoint, ChartSeries, Sample, ScoredEntry
from athena_pool.storage.bans_store import BanStore
from athena_pool.storage.ledger import Ledger, LedgerTotals
from athena_pool.storage.payment_store import PaymentStore, PayoutTotals
from athena_pool.storage.stats import BlockRecord

DAY_MS = 86_400_000
# The shortest span a hashrate is divided by, only so that a share in the very first moment after a start
# is not divided by (nearly) zero. Any share of this run was mined on a job of this run, so the work over
# the time up is a fair estimate from the start, if a noisy one for the first seconds.
MIN_SPAN_S = 1.0


@dataclass(frozen=True)
class MinerLive:
    """An address with credited shares in the hashrate window."""

    address: str
    last_share_ms: int
    hashrate_prop: float
    hashrate_solo: float
    workers_prop: Mapping[str, float]
    workers_solo: Mapping[str, float]

    @property
    def hashrate(self) -> float:
        return self.hashrate_prop + self.hashrate_solo

    def worker_hashrates(self) -> dict[str, float]:
        merged = dict(self.workers_prop)
        for worker, rate in self.workers_solo.items():
            merged[worker] = merged.get(worker, 0.0) + rate
        return merged


@dataclass(frozen=True)
class LiveSummary:
    """The live figures of the pool's processes (those fresher than `live_stale_s`): `instances` are the
    stratum instances (their entries carry connections), `processes` every publisher (RPC timings)."""

    instances: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    processes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, fresh: Mapping[str, Mapping[str, Any]]) -> LiveSummary:
        stratum = {i: figures for i, figures in fresh.items() if "connections" in figures}
        return cls(instances=stratum, processes=dict(fresh))

    @property
    def started_ms(self) -> int | None:
        """When the longest-running stratum instance began taking shares; None when none says."""
        starts = [int(f["started_ms"]) for f in self.instances.values() if f.get("started_ms") is not None]
        return min(starts) if starts else None

    @property
    def connections(self) -> int:
        return sum(int(f.get("connections", 0)) for f in self.instances.values())

    @property
    def connections_by_port(self) -> dict[int, int]:
        ports: dict[int, int] = {}
        for figures in self.instances.values():
            for port, count in dict(figures.get("connections_by_port", {})).items():
                ports[int(port)] = ports.get(int(port), 0) + int(count)
        return ports

    def total(self, name: str) -> float:
        return sum(float(f.get(name, 0)) for f in self.instances.values())


@dataclass(frozen=True)
class BlockTotals:
    """Over the blocks of the window: how many, their network difficulty and round shares summed."""

    blocks: int = 0
    difficulty: int = 0
    shares: int = 0


@dataclass(frozen=True)
class PoolSnapshot:
    taken_ms: int
    window_s: int
    pool: PoolStats
    network: NetworkStats | None
    hashrate_prop: float
    hashrate_solo: float
    miners: Mapping[str, MinerLive]
    round_hashes: int
    recent_blocks: tuple[BlockRecord, ...]  # newest first
    candidates: int
    matured: int
    payments_recent: tuple[ScoredEntry, ...]  # newest first
    payments_count: int
    accounts_paid: int
    live: LiveSummary
    status: Mapping[str, Mapping[str, Any]]
    ledger: LedgerTotals
    payout_totals: PayoutTotals
    open_batches: Mapping[str, int]  # batch state -> number of open batches
    miners_known: int
    charts: Mapping[ChartSeries, Sequence[ChartPoint]]
    bans_active: int

    def miners_of(self, kind: RewardType) -> int:
        rates = (
            m.hashrate_prop if kind is RewardType.PROP else m.hashrate_solo for m in self.miners.values()
        )
        return sum(1 for rate in rates if rate > 0)

    def workers_of(self, kind: RewardType) -> int:
        return sum(
            len(m.workers_prop if kind is RewardType.PROP else m.workers_solo) for m in self.miners.values()
        )

    def block_totals(self, kind: RewardType) -> BlockTotals:
        chosen = [b for b in self.recent_blocks if b.candidate.reward_type is kind]
        return BlockTotals(
            blocks=len(chosen),
            difficulty=sum(b.candidate.network_difficulty for b in chosen),
            shares=sum(b.round_shares for b in chosen),
        )

    def service_ok(self, name: str) -> bool | None:
        status = self.status.get(name)
        return None if status is None else bool(status.get("ok"))


class SnapshotBuilder:
    def __init__(
        self,
        store: Store,
        api_store: ApiStore,
        ledger: Ledger,
        payments: PaymentStore,
        bans: BanStore,
        settings: ApiSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bans = bans
        self._store = store
        self._api = api_store
        self._ledger = ledger
        self._payments = payments
        self._settings = settings
        self._clock = clock

    async def build(self) -> PoolSnapshot:
        s = self._settings
        now_ms = int(self._clock() * 1000)
        since_ms = now_ms - s.hashrate_window_s * 1000
        active = await self._api.active_miners(since_ms, s.max_active_miners)
        samples = await self._api.miner_samples(list(active), since_ms)
        pool_samples = await self._api.pool_samples(since_ms)
        candidates, matured = await self._api.block_counts()
        payments_count, accounts_paid = await self._api.count_payments()
        open_batches = await self._payments.open_batches()
        live = await self._api.read_live(forget_before_ms=now_ms - DAY_MS)
        summary = LiveSummary.of(_fresh(live, now_ms - int(s.live_stale_s * 1000)))
        oldest = min((sample.time_ms for sample in pool_samples), default=None)
        span_s = measured_span_s(s.hashrate_window_s, now_ms, summary.started_ms, oldest)
        return PoolSnapshot(
            taken_ms=now_ms,
            window_s=s.hashrate_window_s,
            pool=await self._store.pool_stats(),
            network=await self._store.get_network_stats(),
            hashrate_prop=_rate(pool_samples, RewardType.PROP, span_s),
            hashrate_solo=_rate(pool_samples, RewardType.SOLO, span_s),
            miners=_miners(active, samples, span_s),
            round_hashes=await self._store.round_total(RewardType.PROP),
            recent_blocks=tuple(await self._api.blocks_page(None, s.luck_window_blocks)),
            candidates=candidates,
            matured=matured,
            payments_recent=tuple(await self._api.pool_payments_page(None, s.compat_list_size)),
            payments_count=payments_count,
            accounts_paid=accounts_paid,
            live=summary,
            status=await self._api.read_status(),
            ledger=await self._ledger.totals(),
            payout_totals=await self._payments.totals(),
            open_batches=_count_states(b.state.value for b in open_batches),
            miners_known=await self._api.count_miners(),
            charts=await self._api.pool_charts(ChartSeries),
            bans_active=await self._bans.count_bans(now_ms),
        )


def measured_span_s(
    window_s: int, now_ms: int, started_ms: int | None, oldest_sample_ms: int | None
) -> float:
    """The seconds to divide the work of a `window_s` window by: the whole window, or less while the pool
    has not been measuring that long.

    `started_ms`: when the longest-running stratum instance began taking shares (None: unknown, so the
    whole window, as the pool always did). A pool started within the window has only measured since: its
    work divided by the whole window would read low until a window has passed. A sample older than that
    start is left from before a restart: the data then reach back beyond the start, and the whole window
    counts (the restart's gap as the zero hashes it was), so the figure never reads high on old shares."""
    if started_ms is None or (oldest_sample_ms is not None and oldest_sample_ms < started_ms):
        return float(window_s)
    up_s = (now_ms - started_ms) / 1000
    return min(float(window_s), max(MIN_SPAN_S, up_s))


def _rate(samples: Sequence[Sample], kind: RewardType, span_s: float) -> float:
    return sum(s.difficulty for s in samples if s.reward_type is kind) / span_s


def _miners(
    active: Mapping[str, int], samples: Mapping[str, Sequence[Sample]], span_s: float
) -> dict[str, MinerLive]:
    miners = {}
    for address, last_ms in active.items():
        mine = samples.get(address, ())
        if not mine:
            continue
        miners[address] = MinerLive(
            address=address,
            last_share_ms=last_ms,
            hashrate_prop=_rate(mine, RewardType.PROP, span_s),
            hashrate_solo=_rate(mine, RewardType.SOLO, span_s),
            workers_prop=worker_rates(mine, RewardType.PROP, span_s),
            workers_solo=worker_rates(mine, RewardType.SOLO, span_s),
        )
    return miners


def worker_rates(samples: Sequence[Sample], kind: RewardType | None, span_s: float) -> dict[str, float]:
    """Each worker's hashes per second over `span_s`, of one reward type (None: both)."""
    totals: dict[str, int] = {}
    for sample in samples:
        if kind is None or sample.reward_type is kind:
            totals[sample.worker] = totals.get(sample.worker, 0) + sample.difficulty
    return {worker: total / span_s for worker, total in totals.items()}


def _fresh(live: Mapping[str, dict[str, Any]], since_ms: int) -> dict[str, dict[str, Any]]:
    return {i: figures for i, figures in live.items() if int(figures.get("updated_ms", 0)) >= since_ms}


def _count_states(states: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return counts


def payment_data(entry: ScoredEntry) -> dict[str, Any]:
    """A payment history member (JSON written by the payments' finalize script)."""
    data = json.loads(entry.member)
    return data if isinstance(data, dict) else {}
