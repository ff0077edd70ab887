"""The unlocker against the devnet daemon (real blocks, real RPC) and a real Redis, with exact numbers."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from fractions import Fraction

import pytest
import redis.asyncio as aioredis
from unlocker_support import DevnetDriver, add_candidate, check_books, free_port, record, rules, share

from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.keys import generate_address
from athena_pool.payments.schemes import RewardPolicy, SchemeName, percent
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient
from athena_pool.storage import RewardType, Store
from athena_pool.storage.ledger import Ledger
from athena_pool.unlocker import BlockUnlocker, UnlockerSettings, UnlockRules, create_unlocker

FEE = percent(1)
CLOCK_S = 1_800_000_000.0


@pytest.fixture
async def daemon(chain: DevnetDriver) -> AsyncIterator[TurtleDaemonClient]:
    async with JsonRpcClient(chain.devnet.daemon_url, timeout=10) as rpc:
        yield TurtleDaemonClient(rpc)


@pytest.fixture
def make_unlocker(
    store: Store, ledger: Ledger, daemon: TurtleDaemonClient
) -> Callable[[UnlockRules], BlockUnlocker]:
    def make(unlock_rules: UnlockRules) -> BlockUnlocker:
        return BlockUnlocker(
            store=store, ledger=ledger, daemon=daemon, rules=unlock_rules, clock=lambda: CLOCK_S
        )

    return make


def fee_policy() -> RewardPolicy:
    return RewardPolicy(pool_fee=FEE)


async def test_prop_block_waits_for_its_depth_then_pays_its_round(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
) -> None:
    await record(store, "b1", [share("alice", 3_000), share("b:o:b", 1_000), share("carol", 500, solo=True)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="alice")
    await record(store, "b2", [share("dave", 700)])  # the next round: not paid by this block
    unlocker = make_unlocker(rules(SchemeName.PROP, policy=fee_policy()))

    await chain.bury(3)
    report = await unlocker.run_once()
    assert (report.unlocked, report.waiting, report.error) == ((), 1, None)
    assert await ledger.balances() == {}

    await chain.bury(1)  # depth 4: Athena's coinbase unlock window
    report = await unlocker.run_once()

    reward = chain.reward_at(height)
    fee = reward // 100
    miners = reward - fee
    assert report.unlocked == (f"{height}:{hash_hex}",)
    assert await ledger.balances() == {"alice": miners * 3 // 4, "b:o:b": miners // 4}
    block = await store.get_block(height, hash_hex)
    assert block is not None and block.status == "unlocked"
    assert block.fields["reward"] == str(reward) and block.fields["unlocked_ms"] == str(int(CLOCK_S * 1000))
    assert int(block.fields["fee"]) + int(block.fields["remainder"]) == reward - miners * 3 // 4 - miners // 4
    assert await store.round_shares(RewardType.PROP) == {"dave": 700}
    assert await store.round_shares(RewardType.SOLO, "carol") == {"carol": 500}  # solo round untouched
    books = await check_books(redis_client, store, ledger)
    assert books.rewards == reward
    assert unlocker.stats.unlocked == 1 and unlocker.stats.candidates == 0
    assert (await ledger.unlocker_status())["candidates"] == "0"


async def test_pplns_pays_the_window_that_ended_at_the_block(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
) -> None:
    # Oldest first. Network difficulty 8 x factor 1000 = a window of 8000: carol 3000, bob 2000, and 3000 of
    # alice's 4000 (the edge share, trimmed); dave is outside the window.
    await record(store, "w1", [share("dave", 5_000), share("alice", 4_000)])
    await record(store, "w2", [share("bob", 2_000), share("carol", 3_000)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="bob", network_difficulty=8)
    await record(store, "after", [share("eve", 10_000)])  # after the block: not in its window
    await chain.bury(4)
    policy = RewardPolicy(pool_fee=FEE, finder_reward=percent("0.5"))
    unlocker = make_unlocker(rules(SchemeName.PPLNS, policy=policy, pplns_factor=Fraction(1000)))

    report = await unlocker.run_once()

    reward = chain.reward_at(height)
    finder_reward = reward * 5 // 1000
    miners = reward - reward // 100 - finder_reward
    assert len(report.unlocked) == 1
    assert await ledger.balances() == {
        "carol": miners * 3 // 8,
        "bob": miners * 2 // 8 + finder_reward,
        "alice": miners * 3 // 8,
    }
    assert (await ledger.totals()).finder_total == finder_reward
    block = await store.get_block(height, hash_hex)
    assert block is not None
    assert (block.fields["scheme"], block.fields["pplns_window"], block.fields["pplns_shares"]) == (
        "pplns",
        "8000",
        "8000",
    )
    await check_books(redis_client, store, ledger)


async def test_solo_block_pays_its_finder_and_leaves_the_shared_round(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    daemon: TurtleDaemonClient,
) -> None:
    dev = generate_address(random.Random(7), "athena")
    settings = UnlockerSettings(
        interval=1, scheme="pplns", pool_fee_percent=Decimal(2), solo_fee_percent=Decimal("0.5"),
        donation_address=dev, donation_percent=Decimal("0.25"),
    )  # fmt: skip
    unlocker = create_unlocker(
        redis=redis_client, store=store, daemon=daemon, coin=get_coin("athena"), settings=settings
    )
    await record(store, "s", [share("carol", 40, solo=True), share("alice", 9), share("bob", 11)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="carol", reward_type=RewardType.SOLO)
    await chain.bury(4)

    report = await unlocker.run_once()

    reward = chain.reward_at(height)
    fee, donation = reward * 5 // 1000, reward * 25 // 10_000
    assert len(report.unlocked) == 1
    assert await redis_client.hgetall(store.keys.balances) == {
        b"carol": str(reward - fee - donation).encode(),
        dev.encode(): str(donation).encode(),
    }
    assert await store.round_shares(RewardType.PROP) == {"alice": 9, "bob": 11}  # independent of solo
    assert await store.round_total(RewardType.PROP) == 20
    assert await store.pplns_window(100) != []  # the shared shares are all still there for PPLNS
    books = await check_books(redis_client, store, ledger)
    totals = await ledger.totals()
    assert (totals.fees_total, totals.donations_total) == (fee, donation) and books.kept == fee


async def test_orphaned_prop_block_gives_its_round_to_the_next_block(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
) -> None:
    unlocker = make_unlocker(rules(SchemeName.PROP, policy=fee_policy()))
    await record(store, "r1", [share("alice", 1_000), share("bob", 1_000)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="alice")
    await record(store, "r2", [share("bob", 500)])

    assert await chain.orphan(1) == [hash_hex]  # our block loses a race: a rival now holds its height
    report = await unlocker.run_once()
    assert (report.orphaned, report.waiting) == ((), 1)  # the rival is not buried yet: not final

    await chain.bury(3)
    report = await unlocker.run_once()
    assert report.orphaned == (f"{height}:{hash_hex}",)
    assert await store.round_shares(RewardType.PROP) == {"alice": 1_000, "bob": 1_500}
    assert await store.round_total(RewardType.PROP) == 2_500
    assert await ledger.balances() == {}

    next_height, next_hash = await chain.mine_pool_block()
    await add_candidate(store, next_height, next_hash, finder="bob")
    await chain.bury(4)
    report = await unlocker.run_once()

    reward = chain.reward_at(next_height)
    miners = reward - reward // 100
    assert report.unlocked == (f"{next_height}:{next_hash}",)
    assert await ledger.balances() == {"alice": miners * 1_000 // 2_500, "bob": miners * 1_500 // 2_500}
    books = await check_books(redis_client, store, ledger)
    assert len(books.orphaned) == len(books.unlocked) == 1


async def test_orphaned_pplns_block_leaves_the_shares_to_the_next_window(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
) -> None:
    unlocker = make_unlocker(rules(SchemeName.PPLNS, pplns_factor=Fraction(1000)))
    await record(store, "p1", [share("alice", 3_000)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="alice")
    await chain.orphan(1)
    await chain.bury(4)
    assert len((await unlocker.run_once()).orphaned) == 1

    await record(store, "p2", [share("bob", 1_000)])
    next_height, next_hash = await chain.mine_pool_block()
    await add_candidate(store, next_height, next_hash, finder="bob")
    await chain.bury(4)
    assert len((await unlocker.run_once()).unlocked) == 1

    reward = chain.reward_at(next_height)
    assert await ledger.balances() == {"alice": reward * 3 // 4, "bob": reward // 4}
    await check_books(redis_client, store, ledger)


async def test_orphaned_solo_block_gives_the_finder_its_round_back(
    chain: DevnetDriver, store: Store, ledger: Ledger, make_unlocker: Callable[[UnlockRules], BlockUnlocker]
) -> None:
    await record(store, "s", [share("carol", 40, solo=True)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="carol", reward_type=RewardType.SOLO)
    await chain.orphan(1)
    await chain.bury(4)

    assert len((await make_unlocker(rules()).run_once()).orphaned) == 1
    assert await store.round_shares(RewardType.SOLO, "carol") == {"carol": 40}


async def test_running_again_credits_nothing_twice(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
) -> None:
    for n in range(3):
        await record(store, f"i{n}", [share("alice", 10 + n), share("bob", 20)])
        height, hash_hex = await chain.mine_pool_block()
        await add_candidate(store, height, hash_hex, finder="alice")
    await chain.bury(4)
    first, second = make_unlocker(rules()), make_unlocker(rules())

    assert len((await first.run_once()).unlocked) == 3
    balances = await ledger.balances()
    await first.run_once()
    await second.run_once()

    assert await ledger.balances() == balances
    books = await check_books(redis_client, store, ledger)
    assert len(books.unlocked) == 3


async def test_candidates_the_daemon_cannot_judge_yet_wait(
    chain: DevnetDriver, store: Store, ledger: Ledger, make_unlocker: Callable[[UnlockRules], BlockUnlocker]
) -> None:
    tip_height, _ = await chain.mine_pool_block()
    await add_candidate(store, tip_height + 5, "ee" * 32, finder="alice")  # above the daemon's chain
    await chain.bury(1)

    report = await make_unlocker(rules()).run_once()

    assert (report.waiting, report.error) == (1, None)
    assert [b.status for b in await store.block_candidates()] == ["candidate"]


async def test_a_block_the_chain_never_had_is_orphaned_once_its_height_is_buried(
    chain: DevnetDriver, store: Store, ledger: Ledger, make_unlocker: Callable[[UnlockRules], BlockUnlocker]
) -> None:
    height, _ = await chain.mine_pool_block()
    await add_candidate(store, height, "ee" * 32, finder="alice")
    await chain.bury(3)
    unlocker = make_unlocker(rules())
    assert (await unlocker.run_once()).orphaned == ()

    await chain.bury(1)
    assert (await unlocker.run_once()).orphaned == (f"{height}:{'ee' * 32}",)
    assert (await ledger.totals()).blocks_orphaned == 1


async def test_daemon_trouble_ends_the_pass_without_writing_and_is_logged_once(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await record(store, "d", [share("alice", 5)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="alice")
    await chain.bury(4)
    async with JsonRpcClient(f"http://127.0.0.1:{free_port()}", timeout=2) as nobody:
        cut_off = BlockUnlocker(store=store, ledger=ledger, daemon=TurtleDaemonClient(nobody), rules=rules())
        with caplog.at_level(logging.WARNING, logger="athena_pool.unlocker"):
            first, second = await cut_off.run_once(), await cut_off.run_once()

    assert first.error is not None and second.error is not None
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert cut_off.stats.failed_passes == 2 and cut_off.stats.last_error
    assert (await ledger.unlocker_status())["last_error"].startswith("RpcUnavailable")
    assert await ledger.balances() == {}
    assert [b.status for b in await store.block_candidates()] == ["candidate"]

    assert len((await make_unlocker(rules()).run_once()).unlocked) == 1  # the daemon is back
    await check_books(redis_client, store, ledger)


async def test_run_keeps_going_until_cancelled(
    chain: DevnetDriver, store: Store, make_unlocker: Callable[[UnlockRules], BlockUnlocker]
) -> None:
    await record(store, "r", [share("alice", 5)])
    height, hash_hex = await chain.mine_pool_block()
    await add_candidate(store, height, hash_hex, finder="alice")
    unlocker = make_unlocker(rules())
    task = asyncio.create_task(unlocker.run())
    await chain.bury(4)
    async with asyncio.timeout(30):
        while unlocker.stats.unlocked == 0:
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert unlocker.stats.passes >= 1


async def test_a_block_redis_refuses_is_skipped_and_the_others_are_credited(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    make_unlocker: Callable[[UnlockRules], BlockUnlocker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await record(store, "x1", [share("alice", 5)])
    first = await chain.mine_pool_block()
    await add_candidate(store, *first, finder="alice")
    await record(store, "x2", [share("bob", 5)])
    second = await chain.mine_pool_block()
    await add_candidate(store, *second, finder="bob")
    await chain.bury(4)
    await redis_client.set(store.keys.miner_credits("alice"), "corrupt")  # not a list: the script refuses
    unlocker = make_unlocker(rules())

    with caplog.at_level(logging.ERROR, logger="athena_pool.unlocker"):
        reports = [await unlocker.run_once(), await unlocker.run_once()]

    assert [r.unlocked for r in reports] == [(f"{second[0]}:{second[1]}",), ()]
    assert [r.error for r in reports] == [None, None] and reports[1].waiting == 1
    assert len(caplog.records) == 1 and unlocker.stats.block_errors == 2  # logged once while it lasts
    assert set(await ledger.balances()) == {"bob"}

    await redis_client.delete(store.keys.miner_credits("alice"))
    assert (await unlocker.run_once()).unlocked == (f"{first[0]}:{first[1]}",)
    await check_books(redis_client, store, ledger)
