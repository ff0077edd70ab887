"""Views shared by the compatible and the versioned API: one miner's details, blocks, payments, charts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from athena_pool.api.context import ApiContext
from athena_pool.api.snapshot import MinerLive, PoolSnapshot, measured_span_s, worker_rates
from athena_pool.storage import ActivityStats, RewardType, ShareKind
from athena_pool.storage.api_store import AccountMoney, ChartPoint, ChartSeries, ScoredEntry
from athena_pool.storage.stats import BlockRecord

HOUR_S = 3_600
SPANS_S: Mapping[str, int] = MappingProxyType({"1h": HOUR_S, "6h": 6 * HOUR_S, "24h": 24 * HOUR_S})


def truncate_address(address: str) -> str:
    """`abcdefg...uvwxyz0`, as the reference pool shows other people's addresses."""
    return address if len(address) <= 17 else f"{address[:7]}...{address[-7:]}"


def mask_email(email: str | None) -> str | None:
    if not email:
        return None
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def chart_average(
    points: Sequence[ChartPoint], now_s: int, span_s: int, step_s: int, charted_since_s: int | None = None
) -> float:
    """Average hashrate over the last `span_s`: each point stands for one step, missing points for zero
    (the miner did not mine then). `charted_since_s`, the start of the pool's first chart step: a pool
    charting for less than `span_s` divides by the time it has charted, not by the whole span (else a
    pool up for an hour would show a 24 h average of a 24th of the truth)."""
    covered = [(t, v) for t, v, _ in points if now_s - span_s < t <= now_s]
    measured_s = span_s
    if charted_since_s is not None:
        measured_s = min(span_s, max(step_s, now_s // step_s * step_s - charted_since_s + step_s))
    return sum(v * step_s for _, v in covered) / measured_s


def charted_since_s(snapshot: PoolSnapshot) -> int | None:
    """The start of the pool's oldest hashrate chart step (pool charts are collected whatever the load)."""
    points = snapshot.charts.get(ChartSeries.HASHRATE) or ()
    return int(points[0][0]) if points else None


@dataclass(frozen=True)
class WorkerDetails:
    name: str
    activity: ActivityStats
    hashrate: float
    hashrate_1h: float
    hashrate_6h: float | None
    hashrate_24h: float | None


@dataclass(frozen=True)
class MinerDetails:
    account: str
    activity: ActivityStats | None
    live: MinerLive | None
    money: AccountMoney
    round_prop: int
    round_solo: int
    hashrate_1h: float
    hashrate_6h: float
    hashrate_24h: float
    chart: tuple[ChartPoint, ...]
    workers: tuple[WorkerDetails, ...]  # most recently active first
    email: str | None

    @property
    def hashrate(self) -> float:
        return 0.0 if self.live is None else self.live.hashrate


def _worker_window(ctx: ApiContext) -> int:
    return min(HOUR_S, ctx.limits.hashrate_window_s)


async def load_miner(ctx: ApiContext, snapshot: PoolSnapshot, account: str) -> MinerDetails | None:
    """None when the pool knows nothing of the account (no share ever, no money)."""
    activity = await ctx.store.miner_stats(account)
    money = (await ctx.api_store.accounts_money([account]))[account]
    if activity is None and not (money.balance or money.pending or money.paid):
        return None
    now_s = ctx.now_ms() // 1000
    step = ctx.settings.charts.step_s
    chart = await ctx.api_store.miner_chart(account)
    live = snapshot.miners.get(account)
    hourly = await _hourly_rates(ctx, snapshot, account) if activity else {}
    since_s = charted_since_s(snapshot)
    workers = await _workers(ctx, account, live, hourly, now_s, since_s)
    round_prop = await ctx.api_store.round_share(account) if activity else 0
    return MinerDetails(
        account=account,
        activity=activity,
        live=live,
        money=money,
        round_prop=round_prop,
        round_solo=await ctx.store.round_total(RewardType.SOLO, account) if activity else 0,
        hashrate_1h=sum(hourly.values()),
        hashrate_6h=chart_average(chart, now_s, SPANS_S["6h"], step, since_s),
        hashrate_24h=chart_average(chart, now_s, SPANS_S["24h"], step, since_s),
        chart=tuple(chart),
        workers=workers,
        email=await ctx.api_store.get_email(account),
    )


async def _hourly_rates(ctx: ApiContext, snapshot: PoolSnapshot, account: str) -> dict[str, float]:
    """Each worker's hashes per second over the last hour (or as much as the samples are kept), divided
    by the part of it the pool has been measuring, as the pool's own figure is (`measured_span_s`)."""
    window_s = _worker_window(ctx)
    now_ms = ctx.now_ms()
    since_ms = now_ms - window_s * 1000
    samples = (await ctx.api_store.miner_samples([account], since_ms))[account]
    oldest = await ctx.api_store.oldest_pool_sample_ms(since_ms)
    span_s = measured_span_s(window_s, now_ms, snapshot.live.started_ms, oldest)
    return worker_rates(samples, None, span_s)


async def _workers(
    ctx: ApiContext,
    account: str,
    live: MinerLive | None,
    hourly: Mapping[str, float],
    now_s: int,
    since_s: int | None,
) -> tuple[WorkerDetails, ...]:
    stats = await ctx.store.worker_stats(account)
    if not stats:
        return ()
    charts = await ctx.api_store.worker_charts(account)
    current = live.worker_hashrates() if live else {}
    step = ctx.settings.charts.step_s
    workers = []
    for name, activity in stats.items():
        chart = charts.get(name)
        workers.append(
            WorkerDetails(
                name=name,
                activity=activity,
                hashrate=current.get(name, 0.0),
                hashrate_1h=hourly.get(name, 0.0),
                hashrate_6h=_average(chart, now_s, SPANS_S["6h"], step, since_s),
                hashrate_24h=_average(chart, now_s, SPANS_S["24h"], step, since_s),
            )
        )
    workers.sort(key=lambda w: (w.activity.last_seen_ms, w.name), reverse=True)
    return tuple(workers)


def _average(
    chart: Sequence[ChartPoint] | None, now_s: int, span_s: int, step_s: int, since_s: int | None
) -> float | None:
    return None if chart is None else chart_average(chart, now_s, span_s, step_s, since_s)


def block_status(record: BlockRecord) -> str:
    return record.status if record.status in ("candidate", "unlocked", "orphaned") else "candidate"


def block_json(record: BlockRecord, snapshot: PoolSnapshot, depth: int) -> dict[str, Any]:
    c, f = record.candidate, record.fields
    network_height = snapshot.network.height if snapshot.network else c.height
    return {
        "height": c.height,
        "hash": c.hash_hex,
        "status": block_status(record),
        "reward_type": c.reward_type.value,
        "finder": c.finder_address,
        "finder_worker": c.finder_worker,
        "time_ms": c.time_ms,
        "network_difficulty": c.network_difficulty,
        "round_shares": record.round_shares,
        "effort": record.round_shares / c.network_difficulty if c.network_difficulty else None,
        "confirmations_left": max(0, depth - (network_height - c.height - 1)),
        "reward": _optional_int(f.get("reward")),
        "scheme": f.get("scheme"),
        "pool_fee": _optional_int(f.get("fee")),
        "credited": _optional_int(f.get("credited")),
        "unlocked_ms": _optional_int(f.get("unlocked_ms")),
        "orphaned_ms": _optional_int(f.get("orphaned_ms")),
    }


def pool_payment_json(entry: ScoredEntry) -> dict[str, Any]:
    data = _payment_data(entry)
    return {
        "time_ms": entry.score,
        "tx_hash": str(data.get("tx", "")),
        "amount": int(data.get("amount", 0)),
        "fee": int(data.get("fee", 0)),
        "payees": int(data.get("payees", 0)),
        "batch": str(data.get("batch", "")),
    }


def miner_payment_json(entry: ScoredEntry) -> dict[str, Any]:
    data = _payment_data(entry)
    return {
        "time_ms": entry.score,
        "tx_hash": str(data.get("tx", "")),
        "amount": int(data.get("amount", 0)),
        "fee": int(data.get("charge", 0)),
        "batch": str(data.get("batch", "")),
    }


def chart_json(points: Sequence[ChartPoint]) -> list[list[float]]:
    return [[t, round(v, 6), n] for t, v, n in points]


def activity_json(activity: ActivityStats | None) -> dict[str, Any]:
    counts = activity.counts if activity else None
    return {
        "hashes": activity.hashes if activity else 0,
        "last_share_ms": activity.last_share_ms if activity else 0,
        "last_seen_ms": activity.last_seen_ms if activity else 0,
        "shares": {kind.value: counts[kind] if counts else 0 for kind in ShareKind},
    }


def _payment_data(entry: ScoredEntry) -> Mapping[str, Any]:
    try:
        data = json.loads(entry.member)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _optional_int(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
