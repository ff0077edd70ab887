"""Property: whatever the shares, batches, replays and blocks, no credited difficulty is lost or doubled."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_support import T0_MS

from athena_pool.storage import BlockCandidate, RewardType, ShareKind, ShareRecord, Store
from redis_support import RedisServer

ADDRESSES = ("a", "a:b", "b", "c.0123", "d:")


@dataclass(frozen=True)
class Replay:
    batch: int  # index of an earlier batch sent again with its id


@dataclass(frozen=True)
class Block:
    reward_type: RewardType
    finder: str


shares_st = st.builds(
    ShareRecord,
    address=st.sampled_from(ADDRESSES),
    worker=st.text(max_size=5),
    difficulty=st.integers(min_value=0, max_value=2**40),
    kind=st.sampled_from(list(ShareKind)),
    solo=st.booleans(),
    time_ms=st.integers(min_value=T0_MS, max_value=T0_MS + 10**6),
    height=st.just(100),
    ip=st.none(),
)
step_st = st.one_of(
    st.lists(shares_st, max_size=12),
    st.builds(Replay, st.integers(min_value=0, max_value=11)),
    st.builds(Block, st.sampled_from(list(RewardType)), st.sampled_from(ADDRESSES)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step_st, max_size=12))
def test_rounds_hold_exactly_the_credited_difficulty(
    redis_server: RedisServer, steps: list[list[ShareRecord] | Replay | Block]
) -> None:
    asyncio.run(_check(redis_server, steps))


async def _check(redis_server: RedisServer, steps: list[list[ShareRecord] | Replay | Block]) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    client = redis_server.client()
    store = Store(client, prefix)
    try:
        credited = await _apply(store, steps)
        assert await _frozen_total(store) + await _live_total(store) == sum(s.difficulty for s in credited)
        shared = sum(s.difficulty for s in credited if not s.solo)
        assert sum(s.difficulty for s in await store.pplns_window(2**62)) == shared
        for address in ADDRESSES:
            stats = await store.miner_stats(address)
            mine = [s for s in credited if s.address == address]
            assert (stats.hashes if stats else 0) == sum(s.difficulty for s in mine)
    finally:
        async for key in client.scan_iter(match=f"{prefix}:*"):
            await client.delete(key)
        await client.aclose()


async def _apply(store: Store, steps: list[list[ShareRecord] | Replay | Block]) -> list[ShareRecord]:
    """Runs the steps; returns the shares that must have been credited, once each."""
    batches: list[list[ShareRecord]] = []
    for height, step in enumerate(steps):
        if isinstance(step, Replay):
            if step.batch < len(batches):
                assert not await store.record_shares(f"batch-{step.batch}", batches[step.batch])
        elif isinstance(step, Block):
            await store.add_block_candidate(
                BlockCandidate(height, f"{height:064x}", 1, step.reward_type, step.finder, "w", T0_MS)
            )
        else:
            assert await store.record_shares(f"batch-{len(batches)}", step)
            batches.append(step)
    return [s for batch in batches for s in batch if s.kind.credited]


async def _frozen_total(store: Store) -> int:
    blocks = await store.block_candidates()
    frozen = [await store.block_round_shares(b.candidate.height, b.candidate.hash_hex) for b in blocks]
    assert [sum(r.values()) for r in frozen] == [b.round_shares for b in blocks]
    return sum(b.round_shares for b in blocks)


async def _live_total(store: Store) -> int:
    prop = await store.round_shares(RewardType.PROP)
    assert sum(prop.values()) == await store.round_total(RewardType.PROP)
    total = sum(prop.values())
    for address in ADDRESSES:
        solo = await store.round_shares(RewardType.SOLO, address)
        assert set(solo) <= {address}
        assert sum(solo.values()) == await store.round_total(RewardType.SOLO, address)
        total += sum(solo.values())
    return total
