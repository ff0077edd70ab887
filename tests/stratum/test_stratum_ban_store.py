"""The shared bans in a real (private) Redis: what stratum writes, what every process follows, what the API
lists and lifts."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from athena_pool.storage.bans_store import BanRecord, BanScope, BanStore

T0 = 1_700_000_000_000
CLIENT = "203.0.113.7"


def ban(scope: BanScope = BanScope.WALLET, until: int = T0 + 60_000, **fields: str) -> BanRecord:
    values = {"address": "wallet:with:colons.é", "worker": "", **fields}
    if scope is BanScope.IP:
        values = {"address": "", "worker": ""}
    return BanRecord(scope, CLIENT, reason="test", created_ms=T0, until_ms=until, source="one", **values)


async def test_add_extend_list_get_remove(ban_store: BanStore) -> None:
    wallet = ban()
    assert await ban_store.add_ban(wallet, T0)
    assert not await ban_store.add_ban(ban(until=T0 + 30_000), T0)  # never shortened
    longer = ban(until=T0 + 120_000)
    assert await ban_store.add_ban(longer, T0)
    ip_ban = ban(BanScope.IP, until=T0 + 10_000)
    await ban_store.add_ban(ip_ban, T0)
    assert await ban_store.list_bans(T0) == [longer, ip_ban]  # longest-lasting first
    assert await ban_store.count_bans(T0) == 2
    assert await ban_store.get_ban(longer.ban_id, T0) == longer
    assert await ban_store.get_ban(ip_ban.ban_id, T0 + 10_000) is None  # expired
    assert await ban_store.list_bans(T0 + 10_000) == [longer]
    assert await ban_store.remove_ban(longer.ban_id)
    assert not await ban_store.remove_ban(longer.ban_id)
    assert await ban_store.get_ban(longer.ban_id, T0) is None


async def test_followers_see_every_change_in_order(ban_store: BanStore) -> None:
    start = await ban_store.snapshot(T0)
    assert start.records == ()
    first, second = ban(), ban(BanScope.WORKER, worker="rig 1")
    await ban_store.add_ban(first, T0)
    await ban_store.add_ban(second, T0)
    await ban_store.remove_ban(first.ban_id)
    changes = await ban_store.changes(start.cursor)
    assert not changes.reload
    assert [(c.ban_id, c.record) for c in changes.changes] == [
        (first.ban_id, first),
        (second.ban_id, second),
        (first.ban_id, None),
    ]
    assert (await ban_store.changes(changes.cursor)).changes == ()
    snapshot = await ban_store.snapshot(T0)
    assert snapshot.records == (second,) and snapshot.cursor == changes.cursor


async def test_an_expired_ban_is_swept_by_the_next_add(
    ban_store: BanStore, redis_client: aioredis.Redis
) -> None:
    short = ban(BanScope.IP, until=T0 + 1)
    await ban_store.add_ban(short, T0)
    await ban_store.add_ban(ban(), T0 + 5)
    assert await redis_client.hexists(ban_store.keys.ban_records, short.ban_id) == 0


async def test_a_follower_behind_the_trimmed_log_reloads(redis_client: aioredis.Redis) -> None:
    store = BanStore(redis_client, f"test-{uuid.uuid4().hex}", log_entries=10)
    start = await store.snapshot(T0)
    for index in range(300):
        await store.add_ban(ban(BanScope.WORKER, worker=f"rig {index}"), T0)
    assert (await store.changes(start.cursor)).reload
    snapshot = await store.snapshot(T0)
    assert len(snapshot.records) == 300
    assert not (await store.changes(snapshot.cursor)).reload
