"""`Store`: the pool's only reader and writer of Redis (see `keys.py` for the schema)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.typing import EncodableT

from athena_pool.storage import replies
from athena_pool.storage.keys import KeySpace, block_member, parse_block_member
from athena_pool.storage.limits import StoreLimits
from athena_pool.storage.plan import plan_share_batch
from athena_pool.storage.records import BlockCandidate, RewardType, ShareRecord
from athena_pool.storage.scripts import Scripts
from athena_pool.storage.stats import (
    ActivityStats,
    BlockRecord,
    NetworkStats,
    PoolStats,
    PplnsShare,
    blocks_field,
    group_worker_fields,
    last_block_field,
)

_PPLNS_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class _HashrateSample:
    worker: str
    reward_type: RewardType
    difficulty: int


class Store:
    """Typed access to one coin's data. Works with clients created with or without decode_responses."""

    def __init__(self, redis: aioredis.Redis, coin_prefix: str, limits: StoreLimits | None = None) -> None:
        self._redis = redis
        self.keys = KeySpace(coin_prefix)
        self.limits = limits or StoreLimits()
        self._scripts = Scripts(redis)

    # Writes

    async def record_shares(self, batch_id: str, shares: Sequence[ShareRecord]) -> bool:
        """Applies a batch in one atomic script. False (and nothing written) if `batch_id` was applied
        within the last `limits.batch_dedupe_ttl_s`, so a batch can be retried safely."""
        call = plan_share_batch(self.keys, self.limits, batch_id, shares)
        return bool(await self._scripts.record_shares(keys=call.keys, args=call.args))

    async def add_block_candidate(self, candidate: BlockCandidate) -> bool:
        """Stores the block record, freezes the round it closes and indexes it, in one script.

        False (and nothing written) if this block (height and hash) was recorded before.
        """
        k, c = self.keys, candidate
        keys = [
            k.block(c.height, c.hash_hex),
            k.blocks_candidates,
            k.round(c.reward_type, c.finder_address),
            k.round_total(c.reward_type, c.finder_address),
            k.block_round(c.height, c.hash_hex),
            k.pool,
            k.pplns,
        ]
        record = [str(part) for item in c.to_json().items() for part in item]
        args = [
            block_member(c.height, c.hash_hex),
            str(c.height),
            str(c.time_ms),
            last_block_field(c.reward_type),
            blocks_field(c.reward_type),
            *record,
        ]
        return bool(await self._scripts.add_block_candidate(keys=keys, args=args))

    async def set_network_stats(self, stats: NetworkStats) -> None:
        # Copied into a wider type: mapping keys are invariant, so dict[str, str] does not type-check.
        mapping: dict[EncodableT, EncodableT] = {name: value for name, value in stats.to_fields().items()}
        await self._redis.hset(self.keys.network, mapping=mapping)

    # Rounds and blocks

    async def round_shares(self, kind: RewardType, address: str | None = None) -> dict[str, int]:
        """The live round: the shared one, or `address`'s solo round. Address -> credited difficulty."""
        return _int_values(await self._hgetall(self.keys.round(kind, _round_owner(kind, address))))

    async def round_total(self, kind: RewardType, address: str | None = None) -> int:
        total = await self._redis.get(self.keys.round_total(kind, _round_owner(kind, address)))
        return 0 if total is None else replies.integer(total)

    async def block_round_shares(self, height: int, hash_hex: str) -> dict[str, int]:
        """The round a block froze; empty once the unlocker has credited and deleted it."""
        return _int_values(await self._hgetall(self.keys.block_round(height, hash_hex)))

    async def block_candidates(self) -> list[BlockRecord]:
        """Candidates by ascending height."""
        members = await self._redis.zrange(self.keys.blocks_candidates, 0, -1)
        pipe = self._redis.pipeline(transaction=False)
        for member in members:
            pipe.hgetall(self.keys.block(*parse_block_member(replies.text(member))))
        records = await pipe.execute()
        return [BlockRecord.from_fields(replies.fields(raw)) for raw in records if raw]

    async def get_block(self, height: int, hash_hex: str) -> BlockRecord | None:
        fields = await self._hgetall(self.keys.block(height, hash_hex))
        return BlockRecord.from_fields(fields) if fields else None

    async def pplns_window(self, total_difficulty: int, end_id: str | None = None) -> list[PplnsShare]:
        """The newest shared shares worth `total_difficulty`, newest first, ending at `end_id` (inclusive;
        a block's `pplns_cursor`) or at the newest entry. The oldest share is cut to what still fits, so
        the difficulties sum to exactly `total_difficulty` unless the stream holds less."""
        window: list[PplnsShare] = []
        remaining, upper = total_difficulty, end_id or "+"
        while remaining > 0:
            page = await self._redis.xrevrange(self.keys.pplns, max=upper, min="-", count=_PPLNS_PAGE)
            if not page:
                break
            remaining = _take_window(page, remaining, window)
            if len(page) < _PPLNS_PAGE:
                break
            upper = f"({window[-1].entry_id}"
        return window

    # Miners and pool

    async def miner_stats(self, address: str) -> ActivityStats | None:
        fields = await self._hgetall(self.keys.miner(address))
        return ActivityStats.from_fields(fields) if fields else None

    async def worker_stats(self, address: str) -> dict[str, ActivityStats]:
        return group_worker_fields(await self._hgetall(self.keys.miner_workers(address)))

    async def miner_ips(self, address: str) -> dict[str, int]:
        """IPs the miner's shares came from -> last share ms, newest first."""
        pairs = await self._redis.zrevrange(self.keys.miner_ips(address), 0, -1, withscores=True)
        return replies.scored_members(pairs)

    async def miners_seen_since(self, since_ms: int) -> dict[str, int]:
        """Miners with a share (of any kind) at or after `since_ms` -> their last share ms."""
        pairs = await self._redis.zrangebyscore(self.keys.miners, since_ms, "+inf", withscores=True)
        return replies.scored_members(pairs)

    async def pool_stats(self) -> PoolStats:
        return PoolStats.from_fields(await self._hgetall(self.keys.pool))

    async def get_network_stats(self) -> NetworkStats | None:
        fields = await self._hgetall(self.keys.network)
        return NetworkStats.from_fields(fields) if fields else None

    async def hashrate(
        self,
        address: str | None = None,
        window_s: int = 600,
        *,
        reward_type: RewardType | None = None,
        now_ms: int | None = None,
    ) -> float:
        """Credited difficulty per second over the last `window_s`, for the pool or one miner.

        A sample carries the time of the newest share of its batch (batches last about half a second).
        """
        key = self.keys.hashrate_pool if address is None else self.keys.hashrate_miner(address)
        samples = await self._hashrate_samples(key, window_s, now_ms)
        total = sum(s.difficulty for s in samples if reward_type in (None, s.reward_type))
        return total / window_s

    async def worker_hashrates(
        self, address: str, window_s: int = 600, *, now_ms: int | None = None
    ) -> dict[str, float]:
        totals: dict[str, int] = {}
        for s in await self._hashrate_samples(self.keys.hashrate_miner(address), window_s, now_ms):
            totals[s.worker] = totals.get(s.worker, 0) + s.difficulty
        return {worker: total / window_s for worker, total in totals.items()}

    # Helpers

    async def _hashrate_samples(self, key: str, window_s: int, now_ms: int | None) -> list[_HashrateSample]:
        if not 0 < window_s <= self.limits.hashrate_window_s:
            raise ValueError(
                f"hashrate window must be 1..{self.limits.hashrate_window_s} s (samples kept), got {window_s}"
            )
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        members = await self._redis.zrangebyscore(key, f"({now - window_s * 1000}", "+inf")
        return [_parse_sample(replies.text(m)) for m in members]

    async def _hgetall(self, key: str) -> dict[str, str]:
        return replies.fields(await self._redis.hgetall(key))


def _round_owner(kind: RewardType, address: str | None) -> str:
    if kind is RewardType.SOLO and not address:
        raise ValueError("a solo round belongs to one miner: pass its address")
    return address or ""


def _take_window(page: Sequence[object], remaining: int, window: list[PplnsShare]) -> int:
    """Appends page entries to `window` until `remaining` difficulty is used up; returns what is left."""
    for entry in page:
        entry_id, raw = replies.pair(entry)
        fields = replies.fields(raw)
        take = min(int(fields["d"]), remaining)
        window.append(PplnsShare(replies.text(entry_id), fields["a"], take, int(fields["t"])))
        remaining -= take
        if remaining == 0:
            break
    return remaining


def _parse_sample(member: str) -> _HashrateSample:
    data = json.loads(member)
    return _HashrateSample(worker=data["w"], reward_type=RewardType(data["r"]), difficulty=int(data["d"]))


def _int_values(fields: Mapping[str, str]) -> dict[str, int]:
    return {name: int(value) for name, value in fields.items()}
