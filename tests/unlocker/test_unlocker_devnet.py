"""The unlocker against the devnet daemon (real blocks, real RPC) and a real Redis, with exact numbers."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
import redis.asyncio as aioredis
from unlocker_support import Books, DevnetDriver, add_candidate, check_books, record, rules, share

from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.keys import generate_address
from athena_pool.payments.schemes import RewardPolicy, SchemeName, percent
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient
from athena_pool.rpc.monerod_regtest import free_loopback_port
from athena_pool.storage import RewardType, ShareRecord, Store, StoreLimits
from athena_pool.storage.keys import parse_block_member
from athena_pool.storage.ledger import Ledger
from athena_pool.unlocker import BlockUnlocker, UnlockerSettings, UnlockRules, create_unlocker

FEE = percent(1)
CLOCK_S = 1_800_000_000.0


@pytest.fixture
async def daemon(chain: DevnetDriver) -> AsyncIterator[TurtleDaemonClient]:
    async with JsonRpcClient(chain.devnet.daemon_url, timeout=10) as rpc:
        yield TurtleDaemonClient(rpc)


@dataclass
class Bench:
    """What the unlocker works with: the devnet (moved by hand), the store and ledger under the test's coin
    prefix, their Redis client, and a client of the devnet daemon."""

    chain: DevnetDriver
    store: Store
    ledger: Ledger
    redis: aioredis.Redis
    daemon: TurtleDaemonClient

    def unlocker(self, unlock_rules: UnlockRules) -> BlockUnlocker:
        """An unlocker on the devnet daemon whose clock stands still at CLOCK_S."""
        return BlockUnlocker(
            store=self.store,
            ledger=self.ledger,
            daemon=self.daemon,
            rules=unlock_rules,
            clock=lambda: CLOCK_S,
        )

    async def record(self, batch_id: str, shares: Sequence[ShareRecord]) -> None:
        await record(self.store, batch_id, shares)

    async def find_block(
        self, *, finder: str, reward_type: RewardType = RewardType.PROP, network_difficulty: int = 8
    ) -> tuple[int, str]:
        """The pool finds a block: mined on the devnet as the pool mines one, then recorded as a candidate as
        the stratum side does. Returns its (height, hash)."""
        height, hash_hex = await self.chain.mine_pool_block()
        await add_candidate(
            self.store,
            height,
            hash_hex,
            finder=finder,
            reward_type=reward_type,
            network_difficulty=network_difficulty,
        )
        return height, hash_hex

    async def check_books(self) -> Books:
        return await check_books(self.redis, self.store, self.ledger)


@pytest.fixture
def bench(
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_client: aioredis.Redis,
    daemon: TurtleDaemonClient,
) -> Bench:
    return Bench(chain, store, ledger, redis_client, daemon)


def fee_policy() -> RewardPolicy:
    return RewardPolicy(pool_fee=FEE)


async def test_prop_block_waits_for_its_depth_then_pays_its_round(bench: Bench) -> None:
    await bench.record("b1", [share("alice", 3_000), share("b:o:b", 1_000), share("carol", 500, solo=True)])
    height, hash_hex = await bench.find_block(finder="alice")
    await bench.record("b2", [share("dave", 700)])  # the next round: not paid by this block
    unlocker = bench.unlocker(rules(SchemeName.PROP, policy=fee_policy()))

    await bench.chain.bury(3)
    report = await unlocker.run_once()
    assert (report.unlocked, report.waiting, report.error) == ((), 1, None)
    assert await bench.ledger.balances() == {}

    await bench.chain.bury(1)  # depth 4: Athena's coinbase unlock window
    report = await unlocker.run_once()

    reward = bench.chain.reward_at(height)
    fee = reward // 100
    miners = reward - fee
    assert report.unlocked == (f"{height}:{hash_hex}",)
    assert await bench.ledger.balances() == {"alice": miners * 3 // 4, "b:o:b": miners // 4}
    block = await bench.store.get_block(height, hash_hex)
    assert block is not None and block.status == "unlocked"
    assert block.fields["reward"] == str(reward) and block.fields["unlocked_ms"] == str(int(CLOCK_S * 1000))
    assert int(block.fields["fee"]) + int(block.fields["remainder"]) == reward - miners * 3 // 4 - miners // 4
    assert await bench.store.round_shares(RewardType.PROP) == {"dave": 700}
    assert await bench.store.round_shares(RewardType.SOLO, "carol") == {"carol": 500}  # solo round untouched
    books = await bench.check_books()
    assert books.rewards == reward
    assert unlocker.stats.unlocked == 1 and unlocker.stats.candidates == 0
    assert (await bench.ledger.unlocker_status())["candidates"] == "0"


async def test_pplns_pays_the_window_that_ended_at_the_block(bench: Bench) -> None:
    # Oldest first. Network difficulty 8 x factor 1000 = a window of 8000: carol 3000, bob 2000, and 3000 of
    # alice's 4000 (the edge share, trimmed); dave is outside the window.
    await bench.record("w1", [share("dave", 5_000), share("alice", 4_000)])
    await bench.record("w2", [share("bob", 2_000), share("carol", 3_000)])
    height, hash_hex = await bench.find_block(finder="bob", network_difficulty=8)
    await bench.record("after", [share("eve", 10_000)])  # after the block: not in its window
    await bench.chain.bury(4)
    policy = RewardPolicy(pool_fee=FEE, finder_reward=percent("0.5"))
    unlocker = bench.unlocker(rules(SchemeName.PPLNS, policy=policy, pplns_factor=Fraction(1000)))

    report = await unlocker.run_once()

    reward = bench.chain.reward_at(height)
    finder_reward = reward * 5 // 1000
    miners = reward - reward // 100 - finder_reward
    assert len(report.unlocked) == 1
    assert await bench.ledger.balances() == {
        "carol": miners * 3 // 8,
        "bob": miners * 2 // 8 + finder_reward,
        "alice": miners * 3 // 8,
    }
    assert (await bench.ledger.totals()).finder_total == finder_reward
    block = await bench.store.get_block(height, hash_hex)
    assert block is not None
    assert (block.fields["scheme"], block.fields["pplns_window"], block.fields["pplns_shares"]) == (
        "pplns",
        "8000",
        "8000",
    )
    await bench.check_books()


async def test_a_pplns_window_the_share_streams_cap_cut_short_is_logged(
    bench: Bench, coin_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The stream keeps at most `pplns_max_entries` shares (here 10; Redis trims whole stream nodes, so a
    little more stays): a window of 500 one-difficulty shares comes up short, and the operator is told."""
    capped = Store(bench.redis, coin_prefix, StoreLimits(pplns_max_entries=10))
    for batch in range(5):
        await record(capped, f"c{batch}", [share(f"m{batch}", 1) for _ in range(100)])
    await bench.find_block(finder="m4", network_difficulty=8)
    await bench.chain.bury(4)
    unlocker = BlockUnlocker(store=capped, ledger=bench.ledger, daemon=bench.daemon,
                             rules=rules(SchemeName.PPLNS, pplns_factor=Fraction(125, 2)))  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="athena_pool.unlocker"):
        report = await unlocker.run_once()

    assert len(report.unlocked) == 1 and unlocker.stats.short_windows == 1
    [block] = [await bench.store.get_block(*parse_block_member(m)) for m in report.unlocked]
    assert block is not None and block.fields["pplns_window"] == "500"
    found = int(block.fields["pplns_shares"])
    assert 10 <= found < 500  # credited on what the stream still held
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"came up short, {found} of 500 share difficulty (factor 125/2 x network difficulty 8)" in warning
    assert "pplns_max_entries, 10 shares" in warning
    await bench.check_books()


async def test_a_full_pplns_window_logs_no_warning(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    await bench.record("w", [share("alice", 5_000), share("bob", 4_000)])
    await bench.find_block(finder="bob", network_difficulty=8)
    await bench.chain.bury(4)
    unlocker = bench.unlocker(rules(SchemeName.PPLNS, pplns_factor=Fraction(1000)))
    with caplog.at_level(logging.WARNING, logger="athena_pool.unlocker"):
        assert len((await unlocker.run_once()).unlocked) == 1
    assert caplog.records == [] and unlocker.stats.short_windows == 0


async def test_solo_block_pays_its_finder_and_leaves_the_shared_round(bench: Bench) -> None:
    dev = generate_address(random.Random(7), "athena")
    settings = UnlockerSettings(
        interval=1, scheme="pplns", pool_fee_percent=Decimal(2), solo_fee_percent=Decimal("0.5"),
        donation_address=dev, donation_percent=Decimal("0.25"),
    )  # fmt: skip
    unlocker = create_unlocker(
        redis=bench.redis, store=bench.store, daemon=bench.daemon, coin=get_coin("athena"), settings=settings
    )
    await bench.record("s", [share("carol", 40, solo=True), share("alice", 9), share("bob", 11)])
    height, _ = await bench.find_block(finder="carol", reward_type=RewardType.SOLO)
    await bench.chain.bury(4)

    report = await unlocker.run_once()

    reward = bench.chain.reward_at(height)
    fee, donation = reward * 5 // 1000, reward * 25 // 10_000
    assert len(report.unlocked) == 1
    assert await bench.redis.hgetall(bench.store.keys.balances) == {
        b"carol": str(reward - fee - donation).encode(),
        dev.encode(): str(donation).encode(),
    }
    assert await bench.store.round_shares(RewardType.PROP) == {"alice": 9, "bob": 11}  # independent of solo
    assert await bench.store.round_total(RewardType.PROP) == 20
    assert await bench.store.pplns_window(100) != []  # the shared shares are all still there for PPLNS
    books = await bench.check_books()
    totals = await bench.ledger.totals()
    assert (totals.fees_total, totals.donations_total) == (fee, donation) and books.kept == fee


async def test_orphaned_prop_block_gives_its_round_to_the_next_block(bench: Bench) -> None:
    unlocker = bench.unlocker(rules(SchemeName.PROP, policy=fee_policy()))
    await bench.record("r1", [share("alice", 1_000), share("bob", 1_000)])
    height, hash_hex = await bench.find_block(finder="alice")
    await bench.record("r2", [share("bob", 500)])

    assert await bench.chain.orphan(1) == [hash_hex]  # our block loses a race: a rival now holds its height
    report = await unlocker.run_once()
    assert (report.orphaned, report.waiting) == ((), 1)  # the rival is not buried yet: not final

    await bench.chain.bury(3)
    report = await unlocker.run_once()
    assert report.orphaned == (f"{height}:{hash_hex}",)
    assert await bench.store.round_shares(RewardType.PROP) == {"alice": 1_000, "bob": 1_500}
    assert await bench.store.round_total(RewardType.PROP) == 2_500
    assert await bench.ledger.balances() == {}

    next_height, next_hash = await bench.find_block(finder="bob")
    await bench.chain.bury(4)
    report = await unlocker.run_once()

    reward = bench.chain.reward_at(next_height)
    miners = reward - reward // 100
    assert report.unlocked == (f"{next_height}:{next_hash}",)
    assert await bench.ledger.balances() == {"alice": miners * 1_000 // 2_500, "bob": miners * 1_500 // 2_500}
    books = await bench.check_books()
    assert len(books.orphaned) == len(books.unlocked) == 1


async def test_orphaned_pplns_block_leaves_the_shares_to_the_next_window(bench: Bench) -> None:
    unlocker = bench.unlocker(rules(SchemeName.PPLNS, pplns_factor=Fraction(1000)))
    await bench.record("p1", [share("alice", 3_000)])
    await bench.find_block(finder="alice")
    await bench.chain.orphan(1)
    await bench.chain.bury(4)
    assert len((await unlocker.run_once()).orphaned) == 1

    await bench.record("p2", [share("bob", 1_000)])
    next_height, _ = await bench.find_block(finder="bob")
    await bench.chain.bury(4)
    assert len((await unlocker.run_once()).unlocked) == 1

    reward = bench.chain.reward_at(next_height)
    assert await bench.ledger.balances() == {"alice": reward * 3 // 4, "bob": reward // 4}
    await bench.check_books()


async def test_orphaned_solo_block_gives_the_finder_its_round_back(bench: Bench) -> None:
    await bench.record("s", [share("carol", 40, solo=True)])
    await bench.find_block(finder="carol", reward_type=RewardType.SOLO)
    await bench.chain.orphan(1)
    await bench.chain.bury(4)

    assert len((await bench.unlocker(rules()).run_once()).orphaned) == 1
    assert await bench.store.round_shares(RewardType.SOLO, "carol") == {"carol": 40}


async def test_running_again_credits_nothing_twice(bench: Bench) -> None:
    for n in range(3):
        await bench.record(f"i{n}", [share("alice", 10 + n), share("bob", 20)])
        await bench.find_block(finder="alice")
    await bench.chain.bury(4)
    first, second = bench.unlocker(rules()), bench.unlocker(rules())

    assert len((await first.run_once()).unlocked) == 3
    balances = await bench.ledger.balances()
    await first.run_once()
    await second.run_once()

    assert await bench.ledger.balances() == balances
    books = await bench.check_books()
    assert len(books.unlocked) == 3


async def test_candidates_the_daemon_cannot_judge_yet_wait(bench: Bench) -> None:
    tip_height, _ = await bench.chain.mine_pool_block()
    await add_candidate(bench.store, tip_height + 5, "ee" * 32, finder="alice")  # above the daemon's chain
    await bench.chain.bury(1)

    report = await bench.unlocker(rules()).run_once()

    assert (report.waiting, report.error) == (1, None)
    assert [b.status for b in await bench.store.block_candidates()] == ["candidate"]


async def test_a_block_the_chain_never_had_is_orphaned_once_its_height_is_buried(bench: Bench) -> None:
    height, _ = await bench.chain.mine_pool_block()
    await add_candidate(bench.store, height, "ee" * 32, finder="alice")
    await bench.chain.bury(3)
    unlocker = bench.unlocker(rules())
    assert (await unlocker.run_once()).orphaned == ()

    await bench.chain.bury(1)
    assert (await unlocker.run_once()).orphaned == (f"{height}:{'ee' * 32}",)
    assert (await bench.ledger.totals()).blocks_orphaned == 1


async def test_daemon_trouble_ends_the_pass_without_writing_and_is_logged_once(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    await bench.record("d", [share("alice", 5)])
    await bench.find_block(finder="alice")
    await bench.chain.bury(4)
    async with JsonRpcClient(f"http://127.0.0.1:{free_loopback_port()}", timeout=2) as nobody:
        cut_off = BlockUnlocker(
            store=bench.store, ledger=bench.ledger, daemon=TurtleDaemonClient(nobody), rules=rules()
        )
        with caplog.at_level(logging.WARNING, logger="athena_pool.unlocker"):
            first, second = await cut_off.run_once(), await cut_off.run_once()

    assert first.error is not None and second.error is not None
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert cut_off.stats.failed_passes == 2 and cut_off.stats.last_error
    assert (await bench.ledger.unlocker_status())["last_error"].startswith("RpcUnavailable")
    assert await bench.ledger.balances() == {}
    assert [b.status for b in await bench.store.block_candidates()] == ["candidate"]

    assert len((await bench.unlocker(rules()).run_once()).unlocked) == 1  # the daemon is back
    await bench.check_books()


async def test_run_keeps_going_until_cancelled(bench: Bench) -> None:
    await bench.record("r", [share("alice", 5)])
    await bench.find_block(finder="alice")
    unlocker = bench.unlocker(rules())
    task = asyncio.create_task(unlocker.run())
    await bench.chain.bury(4)
    async with asyncio.timeout(30):
        while unlocker.stats.unlocked == 0:
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert unlocker.stats.passes >= 1


async def test_a_block_redis_refuses_is_skipped_and_the_others_are_credited(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    await bench.record("x1", [share("alice", 5)])
    first = await bench.find_block(finder="alice")
    await bench.record("x2", [share("bob", 5)])
    second = await bench.find_block(finder="bob")
    await bench.chain.bury(4)
    await bench.redis.set(
        bench.store.keys.miner_credits("alice"), "corrupt"
    )  # not a list: the script refuses
    unlocker = bench.unlocker(rules())

    with caplog.at_level(logging.ERROR, logger="athena_pool.unlocker"):
        reports = [await unlocker.run_once(), await unlocker.run_once()]

    assert [r.unlocked for r in reports] == [(f"{second[0]}:{second[1]}",), ()]
    assert [r.error for r in reports] == [None, None] and reports[1].waiting == 1
    assert len(caplog.records) == 1 and unlocker.stats.block_errors == 2  # logged once while it lasts
    assert set(await bench.ledger.balances()) == {"bob"}

    await bench.redis.delete(bench.store.keys.miner_credits("alice"))
    assert (await unlocker.run_once()).unlocked == (f"{first[0]}:{first[1]}",)
    await bench.check_books()
