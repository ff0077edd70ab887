"""`ApiStore`: the read-side queries of the HTTP API, and the few keys it writes itself (charts, live stratum
figures, service status, log lines, admin sessions, settings challenges, notification e-mails).

Every listing is an index read (ZRANGEBYSCORE with LIMIT, LRANGE), never KEYS or SCAN; pages go by a
cursor `(score, member)` taken from the last item of the previous page, exclusive. See `keys.py`, section
"api / charts", for what these keys hold and how long they live.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from athena_pool.storage import replies
from athena_pool.storage.keys import KeySpace, parse_block_member
from athena_pool.storage.records import RewardType
from athena_pool.storage.scripts import load_lua
from athena_pool.storage.stats import ActivityStats, BlockRecord

_PIPELINE_CHUNK = 500
_MAX_TIES = 1_000  # entries sharing one score that a page can step over (scores are ms or heights)

Cursor = tuple[int, str]  # (score, member) of the last item of the previous page
ChartPoint = tuple[int, float, int]  # (time_s, value, samples averaged into it)


class ChartSeries(enum.StrEnum):
    HASHRATE = "hashrate"
    HASHRATE_SOLO = "hashrate_solo"
    MINERS = "miners"
    MINERS_SOLO = "miners_solo"
    WORKERS = "workers"
    WORKERS_SOLO = "workers_solo"
    DIFFICULTY = "difficulty"
    # Counted series: blocks found per step (`ApiStore.set_counted_points`), not averaged values.
    BLOCKS = "blocks"
    BLOCKS_SOLO = "blocks_solo"


@dataclass(frozen=True, slots=True)
class Sample:
    """One hashrate sample: the difficulty credited to a worker in one share batch."""

    worker: str
    reward_type: RewardType
    difficulty: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class ChartShape:
    step_s: int
    max_points: int
    ttl_ms: int  # per-address charts expire after this long without a point
    max_workers: int


@dataclass(frozen=True, slots=True)
class AccountMoney:
    """An account's money, atomic units. `threshold` is its own payout threshold, if it set one."""

    balance: int
    pending: int
    paid: int
    fees_charged: int
    threshold: int | None


@dataclass(frozen=True, slots=True)
class ScoredEntry:
    score: int
    member: str


class ApiStore:
    def __init__(self, redis: aioredis.Redis, coin_prefix: str) -> None:
        self._redis = redis
        self.keys = KeySpace(coin_prefix)
        self._chart_append: AsyncScript = redis.register_script(load_lua("api_chart_append.lua"))
        self._chart_workers: AsyncScript = redis.register_script(load_lua("api_chart_workers.lua"))
        self._chart_counts: AsyncScript = redis.register_script(load_lua("api_chart_counts.lua"))

    @property
    def redis(self) -> aioredis.Redis:
        return self._redis

    # Activity

    async def active_miners(self, since_ms: int, limit: int) -> dict[str, int]:
        """Miners with a share of any kind since `since_ms` -> last share ms, most recent first."""
        pairs = await self._redis.zrevrangebyscore(
            self.keys.miners, "+inf", since_ms, start=0, num=limit, withscores=True
        )
        return replies.scored_members(pairs)

    async def activities(self, accounts: Sequence[str]) -> dict[str, ActivityStats | None]:
        """Each account's activity stats (None for an unknown one), read in pipelined chunks."""
        found: dict[str, ActivityStats | None] = {}
        for start in range(0, len(accounts), _PIPELINE_CHUNK):
            chunk = accounts[start : start + _PIPELINE_CHUNK]
            pipe = self._redis.pipeline(transaction=False)
            for account in chunk:
                pipe.hgetall(self.keys.miner(account))
            for account, raw in zip(chunk, await pipe.execute(), strict=True):
                fields = replies.fields(raw)
                found[account] = ActivityStats.from_fields(fields) if fields else None
        return found

    async def round_share(self, account: str) -> int:
        """What the account has in the current shared round (one field, not the whole round)."""
        return _int_or(await self._redis.hget(self.keys.round_prop, account), 0)

    async def count_miners(self) -> int:
        return int(await self._redis.zcard(self.keys.miners))

    async def pool_samples(self, since_ms: int) -> list[Sample]:
        return _samples(
            await self._redis.zrangebyscore(self.keys.hashrate_pool, f"({since_ms}", "+inf", withscores=True)
        )

    async def oldest_pool_sample_ms(self, since_ms: int) -> int | None:
        """The time of the pool's oldest hashrate sample newer than `since_ms`, None without one."""
        pairs = await self._redis.zrangebyscore(
            self.keys.hashrate_pool, f"({since_ms}", "+inf", start=0, num=1, withscores=True
        )
        return int(pairs[0][1]) if pairs else None

    async def miner_samples(self, addresses: Sequence[str], since_ms: int) -> dict[str, list[Sample]]:
        """Each address's samples newer than `since_ms`, read in pipelined chunks."""
        found: dict[str, list[Sample]] = {}
        for start in range(0, len(addresses), _PIPELINE_CHUNK):
            chunk = addresses[start : start + _PIPELINE_CHUNK]
            pipe = self._redis.pipeline(transaction=False)
            for address in chunk:
                pipe.zrangebyscore(self.keys.hashrate_miner(address), f"({since_ms}", "+inf", withscores=True)
            for address, raw in zip(chunk, await pipe.execute(), strict=True):
                found[address] = _samples(raw)
        return found

    # Blocks

    async def blocks_page(
        self, cursor: Cursor | None, limit: int, *, matured: bool = True, candidates: bool = True
    ) -> list[BlockRecord]:
        """Blocks newest first (by height, then hash), candidates and matured blocks merged."""
        indexes = [
            k
            for k, wanted in ((self.keys.blocks_candidates, candidates), (self.keys.blocks_matured, matured))
            if wanted
        ]
        entries: list[ScoredEntry] = []
        for index in indexes:
            entries += await self._zrev_page(index, cursor, limit)
        entries.sort(key=lambda e: (e.score, e.member), reverse=True)
        return await self.block_records([e.member for e in entries[:limit]])

    async def block_records(self, members: Sequence[str]) -> list[BlockRecord]:
        pipe = self._redis.pipeline(transaction=False)
        for member in members:
            pipe.hgetall(self.keys.block(*parse_block_member(member)))
        raws = await pipe.execute() if members else []
        return [BlockRecord.from_fields(replies.fields(raw)) for raw in raws if raw]

    async def block_counts(self) -> tuple[int, int]:
        """(candidates, matured blocks)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(self.keys.blocks_candidates)
        pipe.zcard(self.keys.blocks_matured)
        candidates, matured = await pipe.execute()
        return int(candidates), int(matured)

    async def block_credits_page(self, height: int, hash_hex: str) -> dict[str, int]:
        """The block's payout proof: address -> atomic units credited (written by the unlocker)."""
        raw = replies.fields(await self._redis.hgetall(self.keys.block_credits(height, hash_hex)))
        return {address: int(value) for address, value in raw.items()}

    async def miner_credits(self, address: str, limit: int) -> list[dict[str, Any]]:
        """The address's newest credits (unlocker's history), newest first, as JSON objects."""
        entries = await self._redis.lrange(self.keys.miner_credits(address), 0, max(limit, 1) - 1)
        return [json.loads(replies.text(entry)) for entry in entries]

    # Payments (the payments section's keys)

    async def pool_payments_page(self, cursor: Cursor | None, limit: int) -> list[ScoredEntry]:
        return await self._zrev_page(self.keys.payments_all, cursor, limit)

    async def miner_payments_page(self, account: str, cursor: Cursor | None, limit: int) -> list[ScoredEntry]:
        return await self._zrev_page(self.keys.payments_miner(account), cursor, limit)

    async def count_payments(self) -> tuple[int, int]:
        """(pool payments, accounts ever paid)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(self.keys.payments_all)
        pipe.hlen(self.keys.paid)
        payments, accounts = await pipe.execute()
        return int(payments), int(accounts)

    async def accounts_money(self, accounts: Sequence[str]) -> dict[str, AccountMoney]:
        money: dict[str, AccountMoney] = {}
        for start in range(0, len(accounts), _PIPELINE_CHUNK):
            chunk = list(accounts[start : start + _PIPELINE_CHUNK])
            if not chunk:
                continue
            pipe = self._redis.pipeline(transaction=False)
            for key in (
                self.keys.balances,
                self.keys.payout_pending,
                self.keys.paid,
                self.keys.payout_fees,
                self.keys.payout_threshold,
            ):
                pipe.hmget(key, chunk)
            balances, pending, paid, fees, thresholds = await pipe.execute()
            for i, account in enumerate(chunk):
                money[account] = AccountMoney(
                    balance=_int_or(balances[i], 0),
                    pending=_int_or(pending[i], 0),
                    paid=_int_or(paid[i], 0),
                    fees_charged=_int_or(fees[i], 0),
                    threshold=None if thresholds[i] is None else replies.integer(thresholds[i]),
                )
        return money

    async def hash_fields(self, key: str) -> dict[str, str]:
        return replies.fields(await self._redis.hgetall(key))

    # Miners listing (admin)

    async def miners_page(self, cursor: Cursor | None, limit: int) -> list[ScoredEntry]:
        """Every miner, most recently active first (score: last share ms)."""
        return await self._zrev_page(self.keys.miners, cursor, limit)

    # Charts

    async def add_pool_points(
        self, values: Mapping[ChartSeries, float], now_s: int, shape: ChartShape
    ) -> None:
        keys = [self.keys.chart_pool(series.value) for series in values]
        args = [str(now_s), str(shape.step_s), str(shape.max_points), "0"]
        args += [_number(v) for v in values.values()]
        await self._chart_append(keys=keys, args=args)

    async def set_counted_points(
        self, counts: Mapping[ChartSeries, Sequence[tuple[int, int]]], from_s: int, shape: ChartShape
    ) -> None:
        """Replaces each counted chart's points from `from_s` on with the given (time_s, count) points,
        oldest first; every series gives as many points (see `api_chart_counts.lua`)."""
        sizes = {len(points) for points in counts.values()}
        if len(sizes) > 1:
            raise ValueError("every counted series needs the same number of points")
        keys = [self.keys.chart_pool(series.value) for series in counts]
        args = [str(from_s), str(shape.max_points), str(sizes.pop() if sizes else 0)]
        args += [str(part) for points in counts.values() for point in points for part in point]
        await self._chart_counts(keys=keys, args=args)

    async def add_miner_points(
        self, address: str, hashrate: float, workers: Mapping[str, float], now_s: int, shape: ChartShape
    ) -> None:
        """One point for the address and one per worker (up to the shape's `max_workers` most active)."""
        head = [str(now_s), str(shape.step_s), str(shape.max_points), str(shape.ttl_ms)]
        await self._chart_append(keys=[self.keys.chart_miner(address)], args=[*head, _number(hashrate)])
        busiest = sorted(workers.items(), key=lambda item: item[1], reverse=True)[: shape.max_workers]
        pairs = [part for worker, value in busiest for part in (worker, _number(value))]
        args = [*head, str(shape.max_workers), *pairs]
        await self._chart_workers(keys=[self.keys.chart_workers(address)], args=args)

    async def pool_charts(self, series: Iterable[ChartSeries]) -> dict[ChartSeries, list[ChartPoint]]:
        wanted = list(series)
        pipe = self._redis.pipeline(transaction=False)
        for name in wanted:
            pipe.lrange(self.keys.chart_pool(name.value), 0, -1)
        raws = await pipe.execute() if wanted else []
        return {name: [_point(p) for p in raw] for name, raw in zip(wanted, raws, strict=True)}

    async def miner_chart(self, address: str) -> list[ChartPoint]:
        return [_point(p) for p in await self._redis.lrange(self.keys.chart_miner(address), 0, -1)]

    async def worker_charts(self, address: str) -> dict[str, list[ChartPoint]]:
        raw = replies.fields(await self._redis.hgetall(self.keys.chart_workers(address)))
        return {worker: [_point_of(p) for p in json.loads(text)] for worker, text in raw.items()}

    # Live stratum figures, service status, log lines

    async def write_live(self, instance: str, figures: Mapping[str, Any]) -> None:
        await self._redis.hset(self.keys.live_stratum, instance, _dumps(figures))

    async def delete_live(self, instance: str) -> None:
        await self._redis.hdel(self.keys.live_stratum, instance)

    async def read_live(self, *, forget_before_ms: int) -> dict[str, dict[str, Any]]:
        """Every instance's live figures; entries last written before `forget_before_ms` are deleted."""
        raw = replies.fields(await self._redis.hgetall(self.keys.live_stratum))
        live = {instance: json.loads(text) for instance, text in raw.items()}
        dead = [i for i, figures in live.items() if int(figures.get("updated_ms", 0)) < forget_before_ms]
        if dead:
            await self._redis.hdel(self.keys.live_stratum, *dead)
        return {i: figures for i, figures in live.items() if i not in dead}

    async def write_status(self, service: str, status: Mapping[str, Any]) -> None:
        await self._redis.hset(self.keys.service_status, service, _dumps(status))

    async def read_status(self) -> dict[str, dict[str, Any]]:
        raw = replies.fields(await self._redis.hgetall(self.keys.service_status))
        return {service: json.loads(text) for service, text in raw.items()}

    async def push_log_lines(self, lines: Sequence[Mapping[str, Any]], keep: int) -> None:
        """`lines` oldest first: each goes to the list's head in turn, so the list reads newest first."""
        if not lines:
            return
        pipe = self._redis.pipeline(transaction=True)
        pipe.lpush(self.keys.log_lines, *(_dumps(line) for line in lines))
        pipe.ltrim(self.keys.log_lines, 0, keep - 1)
        await pipe.execute()

    async def log_lines(self, limit: int) -> list[dict[str, Any]]:
        raw = await self._redis.lrange(self.keys.log_lines, 0, max(limit, 1) - 1)
        return [json.loads(replies.text(line)) for line in raw]

    # Admin sessions and settings challenges (single-use, expiring)

    async def put_expiring(self, key: str, data: Mapping[str, Any], ttl_s: int) -> None:
        await self._redis.set(key, _dumps(data), ex=ttl_s)

    async def get_json(self, key: str) -> dict[str, Any] | None:
        raw = await self._redis.get(key)
        return None if raw is None else dict(json.loads(replies.text(raw)))

    async def take_json(self, key: str) -> dict[str, Any] | None:
        """Reads and deletes in one command: a challenge can be used once."""
        raw = await self._redis.getdel(key)
        return None if raw is None else dict(json.loads(replies.text(raw)))

    async def delete(self, key: str) -> None:
        await self._redis.delete(key)

    # Notification e-mail

    async def get_email(self, account: str) -> str | None:
        raw = await self._redis.hget(self.keys.notify_email, account)
        return None if raw is None else replies.text(raw)

    async def set_email(self, account: str, email: str | None) -> None:
        if email:
            await self._redis.hset(self.keys.notify_email, account, email)
        else:
            await self._redis.hdel(self.keys.notify_email, account)

    # Helpers

    async def _zrev_page(self, key: str, cursor: Cursor | None, limit: int) -> list[ScoredEntry]:
        """Up to `limit` entries strictly before `cursor` in (score, member) descending order."""
        if cursor is None:
            pairs = await self._redis.zrevrangebyscore(
                key, "+inf", "-inf", start=0, num=limit, withscores=True
            )
            return _entries(pairs)
        score, member = cursor
        ties = _entries(
            await self._redis.zrevrangebyscore(key, score, score, start=0, num=_MAX_TIES, withscores=True)
        )
        below = _entries(
            await self._redis.zrevrangebyscore(key, f"({score}", "-inf", start=0, num=limit, withscores=True)
        )
        before = sorted((e for e in ties if e.member < member), key=lambda e: e.member, reverse=True)
        return (before + below)[:limit]


def _entries(pairs: Iterable[object]) -> list[ScoredEntry]:
    return [ScoredEntry(score, member) for member, score in replies.scored_members(pairs).items()]


def _samples(raw: Iterable[object]) -> list[Sample]:
    samples = []
    for member, score in replies.scored_members(raw).items():
        data = json.loads(member)
        samples.append(Sample(str(data["w"]), RewardType(data["r"]), int(data["d"]), score))
    return samples


def _point(raw: object) -> ChartPoint:
    return _point_of(json.loads(replies.text(raw)))


def _point_of(values: Sequence[Any]) -> ChartPoint:
    time_s, value, samples = values
    return int(time_s), float(value), int(samples)


def _int_or(raw: object, default: int) -> int:
    return default if raw is None else replies.integer(raw)


def _number(value: float) -> str:
    return repr(float(value))


def _dumps(data: Mapping[str, Any] | Sequence[Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
