"""Helpers for the storage tests: share factories, what shares add up to, and waiting for a state."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from athena_pool.storage import RewardType, ShareKind, ShareRecord, Store

T0_MS = 1_700_000_000_000  # a fixed share time; tests that read hashrate pass now_ms explicitly


def share(
    address: str = "miner-a",
    worker: str = "rig1",
    difficulty: int = 1000,
    kind: ShareKind = ShareKind.VALID,
    solo: bool = False,
    time_ms: int = T0_MS,
    height: int = 100,
    ip: str | None = None,
) -> ShareRecord:
    return ShareRecord(address, worker, difficulty, kind, solo, time_ms, height, ip)


def share_stream(count: int, seed: int) -> list[ShareRecord]:
    """A reproducible mix of miners (colons in names included), workers, kinds and solo shares."""
    rng = random.Random(seed)
    miners = [("alice", False), ("bob:x", False), ("carol.0123", False), ("dave", True), ("e:v:e", True)]
    kinds = [ShareKind.VALID] * 5 + list(ShareKind)
    shares = []
    for i in range(count):
        address, solo = rng.choice(miners)
        shares.append(
            share(
                address,
                worker=rng.choice(["rig1", "rig:2", ""]),
                difficulty=rng.randrange(1, 1_000_000),
                kind=rng.choice(kinds),
                solo=solo,
                time_ms=T0_MS + i,
                ip=f"10.0.0.{rng.randrange(4)}",
            )
        )
    return shares


@dataclass
class Expected:
    """What a list of shares must add up to in Redis, computed independently of the store."""

    prop_round: dict[str, int] = field(default_factory=dict)
    solo_rounds: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, Counter[ShareKind]] = field(default_factory=dict)
    pplns_entries: int = 0

    @classmethod
    def of(cls, shares: Iterable[ShareRecord]) -> Expected:
        expected = cls()
        for s in shares:
            expected.counts.setdefault(s.address, Counter())[s.kind] += 1
            if not s.kind.credited:
                continue
            if s.solo:
                solo = expected.solo_rounds.setdefault(s.address, {s.address: 0})
                solo[s.address] += s.difficulty
            else:
                expected.prop_round[s.address] = expected.prop_round.get(s.address, 0) + s.difficulty
                expected.pplns_entries += 1
        return expected

    async def check(self, store: Store) -> None:
        assert await store.round_shares(RewardType.PROP) == self.prop_round
        for address, round_ in self.solo_rounds.items():
            assert await store.round_shares(RewardType.SOLO, address) == round_
        for address, counts in self.counts.items():
            stats = await store.miner_stats(address)
            assert stats is not None
            assert [stats.counts[kind] for kind in ShareKind] == [counts[kind] for kind in ShareKind], address
        assert len(await store.pplns_window(2**62)) == self.pplns_entries


async def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Polls for a state the test needs before its next step (not an assertion about timing)."""
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None
