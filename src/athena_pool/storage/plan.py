"""Turns a batch of shares into the arguments of `lua/record_shares.lua`.

All the meaning (which key gets what) is decided here, in typed Python; the script only applies the plan
atomically and at most once. Shares are aggregated first, so a batch of 200 shares from a few miners
becomes a few dozen commands. Every amount is sent as a decimal string: Lua numbers are doubles, and a
large integer passed through one would lose digits or be printed in exponent form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from athena_pool.storage.keys import KeySpace, worker_field
from athena_pool.storage.limits import StoreLimits
from athena_pool.storage.records import RewardType, ShareRecord
from athena_pool.storage.stats import HASHES, LAST_SEEN_MS, LAST_SHARE_MS, hashes_field

_K = TypeVar("_K")


@dataclass(frozen=True, slots=True)
class ScriptCall:
    keys: list[str]
    args: list[str]


def plan_share_batch(
    keys: KeySpace, limits: StoreLimits, batch_id: str, shares: Sequence[ShareRecord]
) -> ScriptCall:
    plan = _BatchPlan(keys, limits, batch_id)
    for share in shares:
        plan.add(share)
    return plan.to_call()


def hashrate_member(batch_id: str, worker: str, reward_type: RewardType, difficulty: int) -> str:
    """A hashrate sample; the batch id makes it unique, so samples never overwrite each other."""
    sample = {"b": batch_id, "d": str(difficulty), "r": reward_type.value, "w": worker}
    return json.dumps(sample, sort_keys=True, separators=(",", ":"))


class _KeyTable:
    """Numbers keys for the script's KEYS array (1-based, as Lua indexes it). KEYS[1] is the batch key."""

    def __init__(self, batch_key: str) -> None:
        self.keys: list[str] = []
        self._index: dict[str, int] = {}
        self(batch_key)

    def __call__(self, key: str) -> int:
        if key not in self._index:
            self.keys.append(key)
            self._index[key] = len(self.keys)
        return self._index[key]


class _BatchPlan:
    def __init__(self, keys: KeySpace, limits: StoreLimits, batch_id: str) -> None:
        self._k = keys
        self._limits = limits
        self._batch_id = batch_id
        self._table = _KeyTable(keys.batch(batch_id))
        self._hincrby: dict[tuple[int, str], int] = {}
        self._incrby: dict[int, int] = {}
        self._hmax: dict[tuple[int, str], int] = {}
        self._zadd_gt: dict[tuple[int, str], int] = {}
        self._xadd: list[list[str]] = []
        # (key, worker, reward type) -> [difficulty sum, newest time]
        self._samples: dict[tuple[int, str, RewardType], list[int]] = {}
        self._ip_keys: set[int] = set()
        self._miner_hashrate_keys: set[int] = set()

    def add(self, share: ShareRecord) -> None:
        self._count(share)
        if share.kind.credited:
            self._credit(share)

    def _count(self, share: ShareRecord) -> None:
        miner, workers, pool = self._miner_keys(share.address)
        kind, worker, t = share.kind.value, share.worker, share.time_ms
        for key, field in ((miner, kind), (workers, worker_field(kind, worker)), (pool, kind)):
            self._add(self._hincrby, (key, field), 1)
        self._max(self._hmax, (miner, LAST_SEEN_MS), t)
        self._max(self._hmax, (workers, worker_field(LAST_SEEN_MS, worker)), t)
        self._max(self._zadd_gt, (self._table(self._k.miners), share.address), t)
        if share.ip:
            ips = self._table(self._k.miner_ips(share.address))
            self._ip_keys.add(ips)
            self._max(self._zadd_gt, (ips, share.ip), t)

    def _credit(self, share: ShareRecord) -> None:
        miner, workers, pool = self._miner_keys(share.address)
        d, worker, t, rt = share.difficulty, share.worker, share.time_ms, share.reward_type
        self._add(self._hincrby, (self._table(self._k.round(rt, share.address)), share.address), d)
        self._add(self._incrby, self._table(self._k.round_total(rt, share.address)), d)
        if rt is RewardType.PROP:
            self._xadd.append([share.address, str(d), str(t)])
        hashes = ((miner, HASHES), (workers, worker_field(HASHES, worker)), (pool, hashes_field(rt)))
        for key, field in hashes:
            self._add(self._hincrby, (key, field), d)
        for key, field in ((miner, LAST_SHARE_MS), (workers, worker_field(LAST_SHARE_MS, worker))):
            self._max(self._hmax, (key, field), t)
        self._max(self._hmax, (pool, LAST_SHARE_MS), t)
        miner_hashrate = self._table(self._k.hashrate_miner(share.address))
        self._miner_hashrate_keys.add(miner_hashrate)
        self._sample(miner_hashrate, worker, rt, d, t)
        self._sample(self._table(self._k.hashrate_pool), "", rt, d, t)

    def _miner_keys(self, address: str) -> tuple[int, int, int]:
        return (
            self._table(self._k.miner(address)),
            self._table(self._k.miner_workers(address)),
            self._table(self._k.pool),
        )

    def _sample(self, key: int, worker: str, rt: RewardType, difficulty: int, time_ms: int) -> None:
        sample = self._samples.setdefault((key, worker, rt), [0, 0])
        sample[0] += difficulty
        sample[1] = max(sample[1], time_ms)

    @staticmethod
    def _add(totals: dict[_K, int], key: _K, amount: int) -> None:
        totals[key] = totals.get(key, 0) + amount

    @staticmethod
    def _max(latest: dict[_K, int], key: _K, value: int) -> None:
        latest[key] = max(latest.get(key, value), value)

    def to_call(self) -> ScriptCall:
        window_ms = self._limits.hashrate_window_s * 1000
        zadd: list[list[object]] = []
        newest: dict[int, int] = {}
        for (key, worker, rt), (difficulty, t) in self._samples.items():
            zadd.append([key, str(t), hashrate_member(self._batch_id, worker, rt, difficulty)])
            newest[key] = max(newest.get(key, t), t)
        pplns, pplns_cap = self._table(self._k.pplns), str(self._limits.pplns_max_entries)
        plan = {
            "hincrby": [[k, f, str(n)] for (k, f), n in self._hincrby.items()],
            "incrby": [[k, str(n)] for k, n in self._incrby.items()],
            "hmax": [[k, f, str(t)] for (k, f), t in self._hmax.items()],
            "zadd_gt": [[k, str(t), m] for (k, m), t in self._zadd_gt.items()],
            "zadd": zadd,
            "xadd": [[pplns, pplns_cap, *entry] for entry in self._xadd],
            # Samples older than the window are dropped by score; per-miner sample sets also expire, so a
            # miner who stops does not leave samples behind forever.
            "ztrim_score": [[k, str(t - window_ms)] for k, t in newest.items()],
            # Keeps the newest ip_history members: ranks 0 .. -(ip_history + 1) are the oldest.
            "ztrim_rank": [[k, str(-self._limits.ip_history - 1)] for k in self._ip_keys],
            "pexpire": [[k, str(window_ms)] for k in self._miner_hashrate_keys],
        }
        ttl_ms = str(self._limits.batch_dedupe_ttl_s * 1000)
        return ScriptCall(keys=self._table.keys, args=[ttl_ms, json.dumps(plan, separators=(",", ":"))])
