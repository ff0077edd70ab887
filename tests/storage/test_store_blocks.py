"""add_block_candidate: one script freezes the round a block closes, records and indexes the block."""

from __future__ import annotations

import redis.asyncio as aioredis
from storage_support import T0_MS, share

from athena_pool.storage import BlockCandidate, NetworkStats, RewardType, Store

HASH_A = "aa" * 32
HASH_B = "bb" * 32


def candidate(
    height: int = 101,
    hash_hex: str = HASH_A,
    reward_type: RewardType = RewardType.PROP,
    finder: str = "alice",
) -> BlockCandidate:
    return BlockCandidate(
        height=height,
        hash_hex=hash_hex,
        network_difficulty=5_000_000,
        reward_type=reward_type,
        finder_address=finder,
        finder_worker="rig:1",
        time_ms=T0_MS + 1000,
    )


async def test_prop_candidate_freezes_the_shared_round_only(store: Store) -> None:
    await store.record_shares(
        "b1", [share("alice", difficulty=600), share("bob", difficulty=400), share("carol", solo=True)]
    )

    assert await store.add_block_candidate(candidate()) is True

    assert await store.block_round_shares(101, HASH_A) == {"alice": 600, "bob": 400}
    assert await store.round_shares(RewardType.PROP) == {}
    assert await store.round_total(RewardType.PROP) == 0
    assert await store.round_shares(RewardType.SOLO, "carol") == {"carol": 1000}
    block = await store.get_block(101, HASH_A)
    assert block is not None
    assert (block.candidate, block.round_shares, block.status) == (candidate(), 1000, "candidate")


async def test_solo_candidate_freezes_the_finders_solo_round_only(store: Store) -> None:
    await store.record_shares(
        "b1",
        [
            share("carol", difficulty=700, solo=True),
            share("dave", difficulty=900, solo=True),
            share("alice", difficulty=500),
        ],
    )

    await store.add_block_candidate(candidate(reward_type=RewardType.SOLO, finder="carol"))

    assert await store.block_round_shares(101, HASH_A) == {"carol": 700}
    assert await store.round_shares(RewardType.SOLO, "carol") == {}
    assert await store.round_total(RewardType.SOLO, "carol") == 0
    assert await store.round_shares(RewardType.SOLO, "dave") == {"dave": 900}
    assert await store.round_shares(RewardType.PROP) == {"alice": 500}
    block = await store.get_block(101, HASH_A)
    assert block is not None
    assert block.round_shares == 700


async def test_shares_after_the_candidate_start_a_new_round(store: Store) -> None:
    await store.record_shares("b1", [share("alice", difficulty=600)])
    await store.add_block_candidate(candidate())
    await store.record_shares("b2", [share("alice", difficulty=50), share("bob", difficulty=25)])

    assert await store.block_round_shares(101, HASH_A) == {"alice": 600}
    assert await store.round_shares(RewardType.PROP) == {"alice": 50, "bob": 25}
    assert await store.round_total(RewardType.PROP) == 75


async def test_the_same_candidate_twice_changes_nothing(store: Store, redis_client: aioredis.Redis) -> None:
    await store.record_shares("b1", [share("alice", difficulty=600)])
    await store.add_block_candidate(candidate())
    await store.record_shares("b2", [share("bob", difficulty=30)])

    assert await store.add_block_candidate(candidate()) is False

    # The second call must not freeze the new round over the first one.
    assert await store.block_round_shares(101, HASH_A) == {"alice": 600}
    assert await store.round_shares(RewardType.PROP) == {"bob": 30}
    assert await redis_client.zcard(store.keys.blocks_candidates) == 1
    assert (await store.pool_stats()).blocks_found[RewardType.PROP] == 1


async def test_two_candidates_at_one_height_are_kept_apart(store: Store) -> None:
    shares = [share("alice", difficulty=600), share("carol", difficulty=80, solo=True)]
    await store.record_shares("b1", shares)
    await store.add_block_candidate(candidate(101, HASH_A))
    await store.add_block_candidate(candidate(101, HASH_B, RewardType.SOLO, "carol"))
    await store.add_block_candidate(candidate(99, "cc" * 32))

    ids = [(b.candidate.height, b.candidate.hash_hex) for b in await store.block_candidates()]
    assert ids[0] == (99, "cc" * 32)
    assert set(ids[1:]) == {(101, HASH_A), (101, HASH_B)}
    assert await store.block_round_shares(101, HASH_A) == {"alice": 600}
    assert await store.block_round_shares(101, HASH_B) == {"carol": 80}
    # Nothing was credited between 101/HASH_A and 99: an empty round is recorded as such.
    empty = await store.get_block(99, "cc" * 32)
    assert empty is not None
    assert empty.round_shares == 0
    assert await store.block_round_shares(99, "cc" * 32) == {}


async def test_candidate_records_the_pplns_cursor_and_pool_stats(store: Store) -> None:
    await store.record_shares("b1", [share("alice", difficulty=10), share("bob", difficulty=20)])
    newest = (await store.pplns_window(1))[0]
    await store.add_block_candidate(candidate())
    await store.record_shares("b2", [share("carol", difficulty=40)])

    block = await store.get_block(101, HASH_A)
    assert block is not None
    assert block.pplns_cursor == newest.entry_id
    window = await store.pplns_window(10**6, end_id=block.pplns_cursor)
    assert [(s.address, s.difficulty) for s in window] == [("bob", 20), ("alice", 10)]
    pool = await store.pool_stats()
    assert pool.blocks_found == {RewardType.PROP: 1, RewardType.SOLO: 0}
    assert pool.last_block_ms[RewardType.PROP] == T0_MS + 1000


async def test_block_record_survives_as_idempotency_marker_with_a_readable_finder(store: Store) -> None:
    odd = candidate(finder="addr:with:colons.0123")
    await store.add_block_candidate(odd)

    block = await store.get_block(101, HASH_A)
    assert block is not None
    assert block.candidate.finder_address == "addr:with:colons.0123"
    assert block.candidate.finder_worker == "rig:1"
    assert block.fields["status"] == "candidate"
    assert await store.get_block(101, HASH_B) is None


async def test_network_stats_round_trip(store: Store) -> None:
    assert await store.get_network_stats() is None
    stats = NetworkStats(
        height=5, difficulty=2**60, last_block_hash=HASH_A, last_block_time_s=1_700_000_000, updated_ms=T0_MS
    )

    await store.set_network_stats(stats)

    assert await store.get_network_stats() == stats
