"""The reference pool's JSON shapes (cryptonote-nodejs-pool `lib/api.js`), built from a `PoolSnapshot`.

Where the reference returns Redis replies as they are (flat `[member, score, ...]` lists of strings,
colon-joined members, hash fields as strings), so does this module: a front-end written for it parses
these unchanged. Addresses of other miners are truncated as there (`abcdefg...uvwxyz0`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from athena_pool import __version__
from athena_pool.api.context import ApiContext
from athena_pool.api.snapshot import PoolSnapshot
from athena_pool.api.views import MinerDetails, block_status, truncate_address
from athena_pool.storage import RewardType
from athena_pool.storage.api_store import ChartPoint, ChartSeries, ScoredEntry
from athena_pool.storage.stats import BlockRecord

# xmrig algorithm name -> the reference's (cnAlgorithm, cnVariant)
_ALGORITHMS: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "cn/0": ("cryptonight", 0),
        "cn/1": ("cryptonight", 1),
        "cn/2": ("cryptonight", 8),
        "cn/r": ("cryptonight", 13),
        "cn-lite/0": ("cryptonight_light", 0),
        "cn-lite/1": ("cryptonight_light", 1),
        "cn-pico": ("cryptonight_pico", 0),
        "cn-pico/0": ("cryptonight_pico", 0),
        "rx/0": ("randomx", 0),
        "argon2/chukwa": ("argon2", 0),
        "argon2/wrkz": ("argon2", 1),
        "argon2/chukwav2": ("argon2", 2),
    }
)
_BLOB_TYPES: Mapping[str, int] = MappingProxyType({"monero": 0, "forknote2": 2})
_CHART_NAMES: Mapping[ChartSeries, str] = MappingProxyType(
    {
        ChartSeries.HASHRATE: "hashrate",
        ChartSeries.HASHRATE_SOLO: "hashrateSolo",
        ChartSeries.MINERS: "miners",
        ChartSeries.MINERS_SOLO: "minersSolo",
        ChartSeries.WORKERS: "workers",
        ChartSeries.WORKERS_SOLO: "workersSolo",
        ChartSeries.DIFFICULTY: "difficulty",
    }
)


def flat(pairs: Iterable[tuple[str, int]]) -> list[str]:
    """`ZRANGE ... WITHSCORES` as node_redis returns it: [member, score, member, score, ...]."""
    return [part for member, score in pairs for part in (member, str(score))]


def block_member(record: BlockRecord) -> str:
    """`type:login:hash:time:diff:shares` plus `:score` (candidates) or `:orphaned[:reward]` (matured)."""
    c = record.candidate
    head = (
        f"{c.reward_type.value}:{truncate_address(c.finder_address)}:{c.hash_hex}:{c.time_ms // 1000}"
        f":{c.network_difficulty}:{record.round_shares}"
    )
    status = block_status(record)
    if status == "unlocked":
        return f"{head}:0:{record.fields.get('reward', '0')}"
    if status == "orphaned":
        return f"{head}:1"
    return f"{head}:{record.round_shares}"


def pool_payment_member(entry: ScoredEntry, data: dict[str, Any]) -> tuple[str, int]:
    member = f"{data.get('tx', '')}:{data.get('amount', 0)}:{data.get('fee', 0)}:0:{data.get('payees', 0)}"
    return member, entry.score // 1000


def miner_payment_member(entry: ScoredEntry, data: dict[str, Any]) -> tuple[str, int]:
    return f"{data.get('tx', '')}:{data.get('amount', 0)}:{data.get('charge', 0)}:0", entry.score // 1000


def blocks_flat(records: Iterable[BlockRecord]) -> list[str]:
    return flat((block_member(r), r.candidate.height) for r in records)


def chart_points(points: Sequence[ChartPoint], *, rounded: bool) -> list[list[float]]:
    return [[t, round(v) if rounded else round(v, 6), n] for t, v, n in points]


def stats_payload(
    ctx: ApiContext, snapshot: PoolSnapshot, payments: Sequence[tuple[str, int]]
) -> dict[str, Any]:
    """`/stats` without its per-address `miner` part."""
    return {
        "health": {ctx.coin.name: _health(snapshot)},
        "pool": _pool(ctx, snapshot, payments),
        "lastblock": _last_block(snapshot),
        "network": _network(snapshot),
        "config": config_payload(ctx),
        "charts": _charts(ctx, snapshot),
    }


def miner_brief(snapshot: PoolSnapshot, account: str | None, round_hashes: int) -> dict[str, Any]:
    """`/stats?address=` adds this as `miner`: {} for an unknown or inactive address."""
    live = snapshot.miners.get(account or "")
    if live is None and not round_hashes:
        return {}
    return {
        "hashrate": round(live.hashrate) if live else 0,
        "roundScore": round_hashes,
        "roundHashes": round_hashes,
    }


def _health(snapshot: PoolSnapshot) -> dict[str, str | None]:
    def word(name: str) -> str | None:
        ok = snapshot.service_ok(name)
        return None if ok is None else ("ok" if ok else "fail")

    return {"daemon": word("daemon"), "wallet": word("wallet"), "price": None}


def _pool(ctx: ApiContext, snapshot: PoolSnapshot, payments: Sequence[tuple[str, int]]) -> dict[str, Any]:
    prop, solo = snapshot.block_totals(RewardType.PROP), snapshot.block_totals(RewardType.SOLO)
    last_prop = snapshot.pool.last_block_ms[RewardType.PROP]
    last_solo = snapshot.pool.last_block_ms[RewardType.SOLO]
    candidates = sorted(
        (b for b in snapshot.recent_blocks if block_status(b) == "candidate"),
        key=lambda b: b.candidate.height,
    )[-ctx.settings.compat_list_size :]
    matured = [b for b in snapshot.recent_blocks if block_status(b) != "candidate"]
    return {
        "stats": {
            "lastBlockFound": str(max(last_prop, last_solo)),
            "lastBlockFoundprop": str(last_prop),
            "lastBlockFoundsolo": str(last_solo),
        },
        "blocks": blocks_flat([*candidates, *matured[: ctx.settings.compat_list_size]]),
        "totalBlocks": snapshot.pool.blocks_found[RewardType.PROP],
        "totalBlocksSolo": snapshot.pool.blocks_found[RewardType.SOLO],
        "totalDiff": prop.difficulty,
        "totalDiffSolo": solo.difficulty,
        "totalShares": prop.shares,
        "totalSharesSolo": solo.shares,
        "payments": flat(payments),
        "totalPayments": snapshot.payments_count,
        "totalMinersPaid": snapshot.accounts_paid,
        "miners": snapshot.miners_of(RewardType.PROP),
        "minersSolo": snapshot.miners_of(RewardType.SOLO),
        "workers": snapshot.workers_of(RewardType.PROP),
        "workersSolo": snapshot.workers_of(RewardType.SOLO),
        "hashrate": round(snapshot.hashrate_prop),
        "hashrateSolo": round(snapshot.hashrate_solo),
        "roundScore": snapshot.round_hashes,
        "roundHashes": snapshot.round_hashes,
        "lastBlockFound": str(last_prop) if last_prop else None,
        "lastBlockFoundSolo": str(last_solo) if last_solo else None,
    }


def _last_block(snapshot: PoolSnapshot) -> dict[str, Any]:
    status = snapshot.status.get("daemon") or {}
    info = dict(status.get("info") or {})
    if info.get("height") is not None:
        return {key: info.get(key) for key in ("difficulty", "height", "timestamp", "reward", "hash")}
    network = snapshot.network
    if network is None:
        return {"difficulty": 0, "height": 0, "timestamp": 0, "reward": 0, "hash": ""}
    return {
        "difficulty": network.difficulty,
        "height": max(network.height - 1, 0),
        "timestamp": network.last_block_time_s,
        "reward": 0,
        "hash": network.last_block_hash,
    }


def _network(snapshot: PoolSnapshot) -> dict[str, int]:
    network = snapshot.network
    return (
        {"difficulty": network.difficulty, "height": network.height}
        if network
        else {"difficulty": 0, "height": 0}
    )


def config_payload(ctx: ApiContext) -> dict[str, Any]:
    coin, facts, payout = ctx.coin, ctx.settings.pool, ctx.settings.payout
    algorithm, variant = _ALGORITHMS.get(coin.pow_algorithm, (coin.pow_algorithm, 0))
    return {
        "poolHost": facts.pool_host,
        "ports": [
            {"port": p.port, "difficulty": p.difficulty, "desc": p.description, "ssl": p.tls}
            for p in ctx.ports
            if not p.hidden
        ],
        "cnAlgorithm": algorithm,
        "cnVariant": variant,
        "cnBlobType": _BLOB_TYPES.get(coin.blob_family, 0),
        "algo": coin.pow_algorithm,
        "hashrateWindow": ctx.settings.hashrate_window_s,
        "fee": facts.fee_percent,
        "soloFee": facts.solo_fee_percent,
        "networkFee": 0,
        "finderReward": facts.finder_reward_percent,
        "donation": {"dev": facts.donation_percent} if facts.donation_percent else {},
        "coin": coin.name,
        "coinUnits": coin.atomic_units_per_coin,
        "coinDecimalPlaces": coin.decimal_places,
        "coinDifficultyTarget": coin.target_block_seconds,
        "symbol": coin.symbol,
        "depth": ctx.unlock_depth(),
        "version": f"athena-pool/{__version__}",
        "paymentScheme": facts.payment_scheme,
        "paymentsInterval": facts.payments_interval_s,
        "minPaymentThreshold": payout.min_atomic,
        "maxPaymentThreshold": payout.max_atomic,
        "defaultPaymentThreshold": payout.default_atomic,
        "transferFee": facts.transfer_fee_atomic,
        "denominationUnit": facts.denomination_atomic,
        "slushMiningEnabled": False,
        "weight": 0,
        "priceSource": "",
        "priceCurrency": "USD",
        "paymentIdSeparator": ".",
        "fixedDiffEnabled": True,
        "fixedDiffSeparator": "+",
        "soloMiningPrefix": "solo:",
        "sendEmails": False,
        "blocksChartEnabled": True,
        "blocksChartDays": ctx.settings.charts.blocks_days,
        "telegramBotName": None,
        "telegramBotStats": "/stats",
        "telegramBotReport": "/report",
        "telegramBotNotify": "/notify",
        "telegramBotBlocks": "/blocks",
        "ownershipProof": "signature",
    }


def _charts(ctx: ApiContext, snapshot: PoolSnapshot) -> dict[str, Any]:
    charts: dict[str, Any] = {
        name: chart_points(snapshot.charts.get(series, ()), rounded=series is not ChartSeries.DIFFICULTY)
        for series, name in _CHART_NAMES.items()
    }
    # The reference's blocks chart is {day: count} over `blocks_days` (a week by default), longer than the
    # per-step blocks series keeps: it is counted from the block index instead.
    days = ctx.settings.charts.blocks_days
    charts["blocks"] = blocks_per_day(snapshot.recent_blocks, RewardType.PROP, snapshot.taken_ms, days)
    charts["blocksSolo"] = blocks_per_day(snapshot.recent_blocks, RewardType.SOLO, snapshot.taken_ms, days)
    return charts


def blocks_per_day(
    records: Iterable[BlockRecord], kind: RewardType, now_ms: int, days: int
) -> dict[str, int]:
    """Blocks found per UTC day over the last `days` days (today included), oldest day first."""
    today = datetime.fromtimestamp(now_ms / 1000, UTC).date()
    counts = {(today - timedelta(days=back)).isoformat(): 0 for back in range(days, -1, -1)}
    for record in records:
        if record.candidate.reward_type is not kind or block_status(record) == "orphaned":
            continue
        day = datetime.fromtimestamp(record.candidate.time_ms / 1000, UTC).date().isoformat()
        if day in counts:
            counts[day] += 1
    return counts


def address_payload(
    ctx: ApiContext, details: MinerDetails, payments: Sequence[tuple[str, int]]
) -> dict[str, Any]:
    """`/stats_address`: the address's stats, payments, charts and workers."""
    activity, money = details.activity, details.money
    stats: dict[str, Any] = {
        "hashes": str(activity.hashes if activity else 0),
        "lastShare": str((activity.last_share_ms if activity else 0) // 1000),
        "balance": str(money.balance),
        "pending": str(money.pending),
        "paid": str(money.paid),
        "hashrate": round(details.hashrate),
        "roundScore": details.round_prop,
        "roundHashes": details.round_prop,
        "soloRoundHashes": details.round_solo,
        "hashrate_1h": details.hashrate_1h,
        "hashrate_6h": details.hashrate_6h,
        "hashrate_24h": details.hashrate_24h,
    }
    if money.threshold is not None:
        stats["minPayoutLevel"] = str(money.threshold)
    return {
        "stats": stats,
        "payments": flat(payments),
        "charts": {
            "hashrate": chart_points(details.chart, rounded=True),
            "payments": [[time_s, member.split(":")[1]] for member, time_s in reversed(payments)],
        },
        "workers": [
            {
                "name": w.name,
                "hashrate": round(w.hashrate),
                "lastShare": w.activity.last_share_ms // 1000,
                "hashes": w.activity.hashes,
                "hashrate_1h": w.hashrate_1h,
                "hashrate_6h": w.hashrate_6h if w.hashrate_6h is not None else w.hashrate_1h,
                "hashrate_24h": w.hashrate_24h if w.hashrate_24h is not None else w.hashrate_1h,
            }
            for w in details.workers[: ctx.settings.max_listed_workers]
        ],
    }
