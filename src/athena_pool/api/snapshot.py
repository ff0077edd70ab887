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
    """The stratum instances' live figures (those fresher than `live_stale_s`), summed."""

    instances: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

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
        return PoolSnapshot(
            taken_ms=now_ms,
            window_s=s.hashrate_window_s,
            pool=await self._store.pool_stats(),
            network=await self._store.get_network_stats(),
            hashrate_prop=_rate(pool_samples, RewardType.PROP, s.hashrate_window_s),
            hashrate_solo=_rate(pool_samples, RewardType.SOLO, s.hashrate_window_s),
            miners=_miners(active, samples, s.hashrate_window_s),
            round_hashes=await self._store.round_total(RewardType.PROP),
            recent_blocks=tuple(await self._api.blocks_page(None, s.luck_window_blocks)),
            candidates=candidates,
            matured=matured,
            payments_recent=tuple(await self._api.pool_payments_page(None, s.compat_list_size)),
            payments_count=payments_count,
            accounts_paid=accounts_paid,
            live=LiveSummary(_fresh(live, now_ms - int(s.live_stale_s * 1000))),
            status=await self._api.read_status(),
            ledger=await self._ledger.totals(),
            payout_totals=await self._payments.totals(),
            open_batches=_count_states(b.state.value for b in open_batches),
            miners_known=await self._api.count_miners(),
            charts=await self._api.pool_charts(ChartSeries),
            bans_active=await self._bans.count_bans(now_ms),
        )


def _rate(samples: Sequence[Sample], kind: RewardType, window_s: int) -> float:
    return sum(s.difficulty for s in samples if s.reward_type is kind) / window_s


def _miners(
    active: Mapping[str, int], samples: Mapping[str, Sequence[Sample]], window_s: int
) -> dict[str, MinerLive]:
    miners = {}
    for address, last_ms in active.items():
        mine = samples.get(address, ())
        if not mine:
            continue
        miners[address] = MinerLive(
            address=address,
            last_share_ms=last_ms,
            hashrate_prop=_rate(mine, RewardType.PROP, window_s),
            hashrate_solo=_rate(mine, RewardType.SOLO, window_s),
            workers_prop=_worker_rates(mine, RewardType.PROP, window_s),
            workers_solo=_worker_rates(mine, RewardType.SOLO, window_s),
        )
    return miners


def _worker_rates(samples: Sequence[Sample], kind: RewardType, window_s: int) -> dict[str, float]:
    totals: dict[str, int] = {}
    for sample in samples:
        if sample.reward_type is kind:
            totals[sample.worker] = totals.get(sample.worker, 0) + sample.difficulty
    return {worker: total / window_s for worker, total in totals.items()}


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
