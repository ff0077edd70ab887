"""record_shares against a real Redis: rounds, stats, idempotency, free-text logins."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from storage_support import T0_MS, share

from athena_pool.storage import RewardType, ShareKind, Store
from redis_support import RedisServer


async def test_valid_and_stale_shares_credit_the_prop_round(store: Store) -> None:
    applied = await store.record_shares(
        "b1",
        [
            share("alice", difficulty=1000),
            share("alice", difficulty=500, kind=ShareKind.STALE),
            share("bob", difficulty=700),
        ],
    )

    assert applied is True
    assert await store.round_shares(RewardType.PROP) == {"alice": 1500, "bob": 700}
    assert await store.round_total(RewardType.PROP) == 2200


async def test_rejected_shares_are_counted_but_never_credited(store: Store) -> None:
    rejected = [ShareKind.INVALID, ShareKind.LOW_DIFF, ShareKind.DUPLICATE, ShareKind.EXPIRED]
    await store.record_shares("b1", [share("alice", difficulty=900, kind=kind) for kind in rejected])

    assert await store.round_shares(RewardType.PROP) == {}
    assert await store.round_total(RewardType.PROP) == 0
    assert await store.pplns_window(10**9) == []
    stats = await store.miner_stats("alice")
    assert stats is not None
    assert [stats.counts[kind] for kind in rejected] == [1, 1, 1, 1]
    assert (stats.counts.accepted, stats.counts.rejected, stats.hashes, stats.last_share_ms) == (0, 4, 0, 0)
    assert stats.last_seen_ms == T0_MS


async def test_solo_shares_go_to_the_miners_own_round_only(store: Store) -> None:
    await store.record_shares(
        "b1",
        [
            share("solo-1", difficulty=300, solo=True),
            share("solo-2", difficulty=400, solo=True),
            share("solo-1", difficulty=50, solo=True),
            share("shared", difficulty=1000),
        ],
    )

    assert await store.round_shares(RewardType.SOLO, "solo-1") == {"solo-1": 350}
    assert await store.round_shares(RewardType.SOLO, "solo-2") == {"solo-2": 400}
    assert await store.round_total(RewardType.SOLO, "solo-1") == 350
    assert await store.round_shares(RewardType.PROP) == {"shared": 1000}
    # Solo shares are not part of the shared PPLNS window either.
    assert [s.address for s in await store.pplns_window(10**9)] == ["shared"]
    pool = await store.pool_stats()
    assert pool.hashes == {RewardType.PROP: 1000, RewardType.SOLO: 750}


async def test_same_batch_id_counts_once(store: Store) -> None:
    batch = [share("alice", difficulty=1000), share("alice", kind=ShareKind.INVALID)]

    assert await store.record_shares("same", batch) is True
    assert await store.record_shares("same", batch) is False
    assert await store.record_shares("other", batch) is True

    assert await store.round_shares(RewardType.PROP) == {"alice": 2000}
    stats = await store.miner_stats("alice")
    assert stats is not None
    assert (stats.counts[ShareKind.VALID], stats.counts[ShareKind.INVALID]) == (2, 2)
    assert len(await store.pplns_window(10**9)) == 2


async def test_batch_id_is_remembered_for_the_configured_ttl(
    store: Store, redis_client: aioredis.Redis
) -> None:
    await store.record_shares("b1", [share()])

    ttl_ms = await redis_client.pttl(store.keys.batch("b1"))
    assert 0 < ttl_ms <= store.limits.batch_dedupe_ttl_s * 1000


async def test_miner_worker_and_pool_stats(store: Store) -> None:
    await store.record_shares(
        "b1",
        [
            share("alice", "rig1", 1000, time_ms=T0_MS + 1),
            share("alice", "rig2", 2000, kind=ShareKind.STALE, time_ms=T0_MS + 2),
            share("alice", "rig2", 2000, kind=ShareKind.LOW_DIFF, time_ms=T0_MS + 3),
            share("bob", "rig1", 10, time_ms=T0_MS),
        ],
    )

    alice = await store.miner_stats("alice")
    assert alice is not None
    assert (alice.counts.accepted, alice.counts.rejected, alice.hashes) == (2, 1, 3000)
    assert (alice.last_share_ms, alice.last_seen_ms) == (T0_MS + 2, T0_MS + 3)
    workers = await store.worker_stats("alice")
    assert set(workers) == {"rig1", "rig2"}
    assert (workers["rig1"].hashes, workers["rig1"].counts[ShareKind.VALID]) == (1000, 1)
    assert (workers["rig2"].counts[ShareKind.STALE], workers["rig2"].counts[ShareKind.LOW_DIFF]) == (1, 1)
    assert workers["rig2"].last_share_ms == T0_MS + 2
    pool = await store.pool_stats()
    assert (pool.counts.accepted, pool.counts.rejected, pool.last_share_ms) == (3, 1, T0_MS + 2)
    assert await store.miners_seen_since(T0_MS + 1) == {"alice": T0_MS + 3}
    assert await store.miner_stats("nobody") is None


async def test_logins_and_workers_with_colons_and_any_characters_stay_apart(store: Store) -> None:
    # "a" with worker "b:c" and "a:b" with worker "c" would collide under colon-joined records.
    await store.record_shares(
        "b1",
        [
            share("a", "b:c", 100),
            share("a:b", "c", 200),
            share("a:b:c", "", 400, solo=True),
            share("x~y {}\n\u00e9", "w:~", 800),
        ],
    )

    assert await store.round_shares(RewardType.PROP) == {"a": 100, "a:b": 200, "x~y {}\n\u00e9": 800}
    assert await store.round_shares(RewardType.SOLO, "a:b:c") == {"a:b:c": 400}
    assert set(await store.worker_stats("a")) == {"b:c"}
    assert set(await store.worker_stats("a:b")) == {"c"}
    assert (await store.worker_stats("a:b:c"))[""].hashes == 400
    assert [s.address for s in await store.pplns_window(10**9)] == ["x~y {}\n\u00e9", "a:b", "a"]


async def test_last_share_times_never_move_back_when_an_older_batch_arrives_late(store: Store) -> None:
    await store.record_shares("new", [share("alice", time_ms=T0_MS + 5000)])
    await store.record_shares("old", [share("alice", time_ms=T0_MS)])

    stats = await store.miner_stats("alice")
    assert stats is not None
    assert (stats.last_share_ms, stats.last_seen_ms, stats.hashes) == (T0_MS + 5000, T0_MS + 5000, 2000)
    assert await store.miners_seen_since(0) == {"alice": T0_MS + 5000}


async def test_stats_and_rounds_have_no_ttl(store: Store, redis_client: aioredis.Redis) -> None:
    await store.record_shares("b1", [share("alice", ip="10.0.0.1"), share("solo", solo=True)])

    keys = store.keys
    for key in (
        keys.miner("alice"),
        keys.miner_workers("alice"),
        keys.miners,
        keys.pool,
        keys.round_prop,
        keys.round_total_prop,
        keys.round_solo("solo"),
        keys.pplns,
        keys.miner_ips("alice"),
    ):
        assert await redis_client.pttl(key) == -1, key


async def test_ip_history_keeps_the_newest_ips(store: Store) -> None:
    # limits.ip_history is 4 in these tests
    ips = [share("alice", ip=f"10.0.0.{i}", time_ms=T0_MS + i) for i in range(6)]
    await store.record_shares("b1", ips)
    await store.record_shares("b2", [share("alice", ip="10.0.0.1", time_ms=T0_MS + 10)])

    assert await store.miner_ips("alice") == {
        "10.0.0.1": T0_MS + 10,
        "10.0.0.5": T0_MS + 5,
        "10.0.0.4": T0_MS + 4,
        "10.0.0.3": T0_MS + 3,
    }


async def test_difficulties_beyond_double_precision_stay_exact(store: Store) -> None:
    big = 2**62 + 1  # Lua numbers are doubles: this would come back as 2**62 if it went through one
    await store.record_shares("b1", [share("alice", difficulty=big, solo=True)])

    assert await store.round_shares(RewardType.SOLO, "alice") == {"alice": big}
    assert await store.round_total(RewardType.SOLO, "alice") == big


async def test_works_with_a_client_that_decodes_responses(
    redis_server: RedisServer, coin_prefix: str, store: Store
) -> None:
    client = redis_server.client(decode_responses=True)
    try:
        decoding = Store(client, coin_prefix, store.limits)
        await decoding.record_shares("b1", [share("alice", ip="10.0.0.1")])

        assert await decoding.round_shares(RewardType.PROP) == {"alice": 1000}
        assert await decoding.miner_ips("alice") == {"10.0.0.1": T0_MS}
        assert (await decoding.worker_stats("alice"))["rig1"].hashes == 1000
        assert [s.address for s in await decoding.pplns_window(10)] == ["alice"]
    finally:
        await client.aclose()


async def test_a_solo_round_needs_its_owner(store: Store) -> None:
    with pytest.raises(ValueError, match="solo round"):
        await store.round_shares(RewardType.SOLO)


async def test_scripts_are_loaded_again_after_redis_forgets_them(
    store: Store, redis_client: aioredis.Redis
) -> None:
    await store.record_shares("b1", [share("alice")])
    await redis_client.script_flush()  # what a Redis restart does to the script cache

    assert await store.record_shares("b2", [share("alice")]) is True
    assert await store.round_shares(RewardType.PROP) == {"alice": 2000}
