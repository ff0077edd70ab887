"""The PPLNS window (newest first, edge share trimmed) and hashrate samples (trimmed in the write)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from storage_support import T0_MS, share

from athena_pool.storage import RewardType, ShareKind, Store, StoreLimits, replies

MINUTE_MS = 60_000


async def test_window_is_newest_first_and_cuts_the_edge_share(store: Store) -> None:
    await store.record_shares(
        "b1",
        [
            share("alice", difficulty=100, time_ms=T0_MS),
            share("bob", difficulty=200, time_ms=T0_MS + 1),
            share("carol", difficulty=300, time_ms=T0_MS + 2),
        ],
    )

    window = await store.pplns_window(450)

    assert [(s.address, s.difficulty, s.time_ms) for s in window] == [
        ("carol", 300, T0_MS + 2),
        ("bob", 150, T0_MS + 1),
    ]
    assert sum(s.difficulty for s in window) == 450


async def test_window_exactly_on_a_share_boundary_and_larger_than_the_stream(store: Store) -> None:
    await store.record_shares("b1", [share("alice", difficulty=100), share("bob", difficulty=200)])

    assert [(s.address, s.difficulty) for s in await store.pplns_window(200)] == [("bob", 200)]
    assert [(s.address, s.difficulty) for s in await store.pplns_window(10**6)] == [
        ("bob", 200),
        ("alice", 100),
    ]
    assert await store.pplns_window(0) == []


async def test_window_pages_through_long_streams(store: Store) -> None:
    # More entries than one XREVRANGE page (1000).
    shares = [share(f"m{i % 7}", difficulty=i + 1, time_ms=T0_MS + i) for i in range(2500)]
    await store.record_shares("b1", shares[:1200])
    await store.record_shares("b2", shares[1200:])
    newest_first = list(reversed(shares))
    wanted = sum(s.difficulty for s in newest_first[:2100]) + 7

    window = await store.pplns_window(wanted)

    assert len(window) == 2101
    assert sum(s.difficulty for s in window) == wanted
    assert [s.time_ms for s in window[:2100]] == [s.time_ms for s in newest_first[:2100]]
    assert (window[-1].address, window[-1].difficulty) == (newest_first[2100].address, 7)
    assert len({s.entry_id for s in window}) == 2101


async def test_stream_is_capped_near_its_configured_length(
    redis_client: aioredis.Redis, coin_prefix: str
) -> None:
    store = Store(redis_client, coin_prefix, StoreLimits(pplns_max_entries=100))
    for batch in range(20):
        await store.record_shares(f"b{batch}", [share(difficulty=1) for _ in range(50)])

    length = await redis_client.xlen(store.keys.pplns)
    # MAXLEN ~ trims whole stream nodes (100 entries each by default), so it keeps at least the cap and
    # less than one node more.
    assert 100 <= length < 200


async def test_hashrate_over_a_window(store: Store) -> None:
    await store.record_shares("b1", [share("alice", "rig1", 60_000, time_ms=T0_MS - 5 * MINUTE_MS)])
    await store.record_shares(
        "b2",
        [
            share("alice", "rig1", 30_000, time_ms=T0_MS),
            share("alice", "rig2", 12_000, time_ms=T0_MS),
            share("bob", "x", 6_000, solo=True, time_ms=T0_MS),
            share("bob", "x", 99_999, kind=ShareKind.INVALID, time_ms=T0_MS),
        ],
    )

    assert await store.hashrate("alice", 60, now_ms=T0_MS) == 42_000 / 60
    assert await store.hashrate("alice", 600, now_ms=T0_MS) == 102_000 / 600
    assert await store.worker_hashrates("alice", 60, now_ms=T0_MS) == {"rig1": 500.0, "rig2": 200.0}
    assert await store.hashrate(None, 60, now_ms=T0_MS) == 48_000 / 60
    assert await store.hashrate(None, 60, reward_type=RewardType.SOLO, now_ms=T0_MS) == 100.0
    assert await store.hashrate(None, 60, reward_type=RewardType.PROP, now_ms=T0_MS) == 700.0
    assert await store.hashrate("nobody", 60, now_ms=T0_MS) == 0.0


async def test_samples_older_than_the_retention_are_trimmed_by_the_write(
    store: Store, redis_client: aioredis.Redis
) -> None:
    # limits.hashrate_window_s is 600 in these tests
    await store.record_shares("old", [share("alice", time_ms=T0_MS)])
    await store.record_shares("mid", [share("alice", time_ms=T0_MS + 5 * MINUTE_MS)])
    await store.record_shares("new", [share("alice", time_ms=T0_MS + 11 * MINUTE_MS)])

    for key in (store.keys.hashrate_pool, store.keys.hashrate_miner("alice")):
        samples = replies.scored_members(await redis_client.zrange(key, 0, -1, withscores=True))
        assert list(samples.values()) == [T0_MS + 5 * MINUTE_MS, T0_MS + 11 * MINUTE_MS], key


async def test_only_per_miner_samples_expire(store: Store, redis_client: aioredis.Redis) -> None:
    await store.record_shares("b1", [share("alice")])

    assert 0 < await redis_client.pttl(store.keys.hashrate_miner("alice")) <= 600_000
    assert await redis_client.pttl(store.keys.hashrate_pool) == -1


async def test_a_window_longer_than_the_retention_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="hashrate window"):
        await store.hashrate(None, 601)
