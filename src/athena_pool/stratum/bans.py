"""The pieces bans are decided with (pure, clock passed in): sliding-window tallies and the local ban list.

`ShareTally` keeps, per (IP, wallet[, worker]), how many shares came within the window and how much of them
was invalid (weighted: a stale share weighs less than a bad hash). `AbuseTally` keeps abuse points per IP.
`BanList` is this process's view of every live ban, the shared ones included, indexed for the checks made on
every connection and login.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from athena_pool.jobs.contracts import RejectReason, ShareOutcome
from athena_pool.storage.bans_store import BanRecord, BanScope
from athena_pool.stratum.settings import ShareWeights

BUCKETS_PER_WINDOW = 10


@dataclass(slots=True)
class _Bucket:
    start: float
    count: float = 0.0
    weight: float = 0.0


@dataclass(slots=True)
class WindowSums:
    """Two running sums (a count and a weight) over a sliding window, in a few buckets (bounded memory)."""

    window: float
    buckets: deque[_Bucket] = field(default_factory=deque)

    def add(self, now: float, count: float, weight: float) -> None:
        width = self.window / BUCKETS_PER_WINDOW
        start = now - now % width
        if not self.buckets or self.buckets[-1].start != start:
            self.buckets.append(_Bucket(start))
        bucket = self.buckets[-1]
        bucket.count += count
        bucket.weight += weight

    def totals(self, now: float) -> tuple[float, float]:
        self.forget_before(now)
        return sum(b.count for b in self.buckets), sum(b.weight for b in self.buckets)

    def forget_before(self, now: float) -> None:
        while self.buckets and self.buckets[0].start <= now - self.window:
            self.buckets.popleft()

    def idle(self, now: float) -> bool:
        self.forget_before(now)
        return not self.buckets


class Tallies:
    """WindowSums per key, created on first use, swept when idle."""

    def __init__(self, window: float) -> None:
        self._window = window
        self._sums: dict[Hashable, WindowSums] = {}

    def add(self, key: Hashable, now: float, count: float, weight: float) -> tuple[float, float]:
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = WindowSums(self._window)
        sums.add(now, count, weight)
        return sums.totals(now)

    def forget(self, key: Hashable) -> None:
        self._sums.pop(key, None)

    def sweep(self, now: float) -> None:
        for key in [key for key, sums in self._sums.items() if sums.idle(now)]:
            del self._sums[key]

    def __len__(self) -> int:
        return len(self._sums)


def weight_table(weights: ShareWeights) -> Mapping[RejectReason, float]:
    return MappingProxyType(
        {
            RejectReason.BAD_HASH: weights.bad_hash,
            RejectReason.LOW_DIFFICULTY: weights.low_difficulty,
            RejectReason.MALFORMED_NONCE: weights.malformed,
            RejectReason.MALFORMED_RESULT: weights.malformed,
            RejectReason.UNKNOWN_JOB: weights.unknown_job,
            RejectReason.DUPLICATE: weights.duplicate,
            RejectReason.EXPIRED_JOB: weights.expired,
        }
    )


def share_weight(outcome: ShareOutcome, table: Mapping[RejectReason, float]) -> float:
    """How much one judged share counts toward a ban; accepted shares (stale ones included) count 0."""
    if outcome.accepted:
        return 0.0
    return table[outcome.reason or RejectReason.BAD_HASH]


class BanList:
    """Every live ban this process knows, by id and by what it keys on. Times in milliseconds."""

    def __init__(self) -> None:
        self._by_id: dict[str, BanRecord] = {}
        self._by_target: dict[tuple[str, ...], str] = {}

    def apply(self, ban: BanRecord) -> bool:
        """Adds or extends a ban; True when it is new or lasts longer than the one known."""
        known = self._by_id.get(ban.ban_id)
        if known is not None and known.until_ms >= ban.until_ms:
            return False
        self._by_id[ban.ban_id] = ban
        self._by_target[_target(ban)] = ban.ban_id
        return True

    def remove(self, ban_id: str) -> BanRecord | None:
        ban = self._by_id.pop(ban_id, None)
        if ban is not None:
            self._by_target.pop(_target(ban), None)
        return ban

    def replace_all(self, bans: Iterable[BanRecord]) -> list[BanRecord]:
        """The shared list as read back from storage; returns the bans that are new here."""
        previous = self._by_id
        self._by_id, self._by_target = {}, {}
        fresh = []
        for ban in bans:
            self.apply(ban)
            known = previous.get(ban.ban_id)
            if known is None or known.until_ms < ban.until_ms:
                fresh.append(ban)
        return fresh

    def ip_ban(self, ip: str, now_ms: int) -> BanRecord | None:
        return self._live((BanScope.IP.value, ip), now_ms)

    def miner_ban(self, ip: str, address: str, worker: str, now_ms: int) -> BanRecord | None:
        """The ban that keeps this worker of this wallet on this IP out, if any (IP bans included)."""
        return (
            self._live((BanScope.IP.value, ip), now_ms)
            or self._live((BanScope.WALLET.value, ip, address), now_ms)
            or self._live((BanScope.WORKER.value, ip, address, worker), now_ms)
        )

    def sweep(self, now_ms: int) -> None:
        for ban in [ban for ban in self._by_id.values() if not ban.active(now_ms)]:
            self.remove(ban.ban_id)

    def __iter__(self) -> Iterator[BanRecord]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def _live(self, target: tuple[str, ...], now_ms: int) -> BanRecord | None:
        ban_id = self._by_target.get(target)
        if ban_id is None:
            return None
        ban = self._by_id[ban_id]
        return ban if ban.active(now_ms) else None


def _target(ban: BanRecord) -> tuple[str, ...]:
    if ban.scope is BanScope.IP:
        return (ban.scope.value, ban.ip)
    if ban.scope is BanScope.WALLET:
        return (ban.scope.value, ban.ip, ban.address)
    return (ban.scope.value, ban.ip, ban.address, ban.worker)


def covers(ban: BanRecord, ip: str, address: str | None, worker: str | None) -> bool:
    """Whether a ban applies to a connection from `ip` logged in as `address`/`worker` (None: no login)."""
    if ban.ip != ip:
        return False
    if ban.scope is BanScope.IP:
        return True
    if ban.address != address:
        return False
    return ban.scope is BanScope.WALLET or ban.worker == worker
