"""Crash test: a real unlocker process, SIGKILLed at random moments of its work, many times, restarted.

While the process is dead, the "pool" goes on: shares, a new block (sometimes orphaned), blocks on top.
The expected credit of every block is computed when the block is recorded (its frozen round or PPLNS
window is fixed from then on). At the end, after clean runs have settled everything:
- every block is settled exactly as the chain decided (unlocked or orphaned), exactly once;
- each balance is exactly the sum of the expected credits of the unlocked blocks (nothing twice, nothing
  lost), and the per-block proofs, the block records and the ledger totals agree (`check_books`):
  rewards = credits + fees (+ donations and finder rewards inside the credits);
- no share difficulty was lost or doubled: all shared difficulty recorded = the rounds of the unlocked
  shared blocks + the live round (orphaned rounds were merged back into it); likewise for solo rounds.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from unlocker_process import crash_rules
from unlocker_support import DevnetDriver, add_candidate, check_books, record, share

from athena_pool.aio import signal_child
from athena_pool.payments.schemes import SchemeName
from athena_pool.storage import RewardType, ShareRecord, Store
from athena_pool.storage.keys import block_member
from athena_pool.storage.ledger import Ledger
from athena_pool.unlocker.payouts import plan_credit
from redis_support import RedisServer

PROCESS = Path(__file__).with_name("unlocker_process.py")
KILLS = 24  # SIGKILLed runs; then clean runs until every block is settled
MINERS = [f"miner:{i}" for i in range(24)]
SOLO_MINERS = ["solo:a", "solo:b"]


@dataclass
class Expected:
    shared_difficulty: int = 0
    solo_difficulty: dict[str, int] = field(default_factory=dict)
    credits: dict[str, dict[str, int]] = field(default_factory=dict)  # block member -> its credits
    orphaned: set[str] = field(default_factory=set)

    def balances(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for member, credits in self.credits.items():
            if member in self.orphaned:
                continue
            for address, amount in credits.items():
                totals[address] = totals.get(address, 0) + amount
        return totals


@dataclass
class Pool:
    """The test's side: it records shares and blocks, like the share pipeline does."""

    store: Store
    chain: DevnetDriver
    scheme: SchemeName
    rng: random.Random
    expected: Expected = field(default_factory=Expected)
    batches: int = 0

    async def new_block(self, *, orphan: bool) -> None:
        await self._shares()
        height, hash_hex = await self.chain.mine_pool_block()
        solo_finder = self.rng.choice(SOLO_MINERS) if self.rng.random() < 0.25 else None
        kind = RewardType.SOLO if solo_finder else RewardType.PROP
        finder = solo_finder or self.rng.choice(MINERS)
        await add_candidate(self.store, height, hash_hex, finder=finder, reward_type=kind)
        member = block_member(height, hash_hex)
        block = await self.store.get_block(height, hash_hex)
        assert block is not None
        if orphan:
            assert await self.chain.orphan(1) == [hash_hex]
            self.expected.orphaned.add(member)
        else:
            reward = self.chain.reward_at(height)
            credit = await plan_credit(self.store, block, reward, crash_rules(self.scheme), 0)
            self.expected.credits[member] = dict(credit.credits)
        await self.chain.bury(4)  # deep enough for the unlock (or, for a rival, the orphan) depth

    async def _shares(self) -> None:
        shares: list[ShareRecord] = []
        for address in self.rng.sample(MINERS, self.rng.randrange(8, len(MINERS))):
            shares.append(share(address, self.rng.randrange(1, 400)))
        for address in SOLO_MINERS:
            shares.append(share(address, self.rng.randrange(1, 400), solo=True))
        for s in shares:
            if s.solo:
                self.expected.solo_difficulty[s.address] = (
                    self.expected.solo_difficulty.get(s.address, 0) + s.difficulty
                )
            else:
                self.expected.shared_difficulty += s.difficulty
        self.batches += 1
        await record(self.store, f"crash-{self.batches}", shares)


@dataclass(frozen=True)
class KillPlan:
    """Kill the run right after its `settled`-th block is settled, plus a few milliseconds: so the kills fall
    at every step of the work (before the first block, between blocks, inside an RPC or a script call)."""

    settled: int
    extra_delay_s: float


@dataclass
class RunOutcome:
    finished: bool  # printed "done": the pass ended before any kill
    settled: int  # blocks this run settled


async def run_unlocker(
    redis_url: str, prefix: str, daemon_url: str, scheme: SchemeName, ledger: Ledger, kill: KillPlan | None
) -> RunOutcome:
    before = await settled_count(ledger)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(PROCESS), redis_url, prefix, daemon_url, scheme.value,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            assert (await process.stdout.readline()).strip() == b"started"
            if kill is not None:
                await wait_until_settled(ledger, before + kill.settled, process)
                await asyncio.sleep(kill.extra_delay_s)
                signal_child(process, signal.SIGKILL)  # unless it has finished already
            rest = await process.stdout.read()
            returncode = await process.wait()
    finally:
        if process.returncode is None:
            signal_child(process, signal.SIGKILL)
            await process.wait()
    if kill is None:
        assert returncode == 0, rest
    return RunOutcome(finished=b"done" in rest, settled=await settled_count(ledger) - before)


async def settled_count(ledger: Ledger) -> int:
    totals = await ledger.totals()
    return totals.blocks_unlocked + totals.blocks_orphaned


async def wait_until_settled(ledger: Ledger, target: int, process: asyncio.subprocess.Process) -> None:
    """Polls for the kill moment (a state, not a time): `target` blocks settled, or the process gone."""
    while process.returncode is None and await settled_count(ledger) < target:
        await asyncio.sleep(0.001)


@pytest.mark.parametrize("scheme", [SchemeName.PROP, SchemeName.PPLNS])
async def test_sigkilled_unlocker_credits_every_block_exactly_once(
    scheme: SchemeName,
    chain: DevnetDriver,
    store: Store,
    ledger: Ledger,
    redis_server: RedisServer,
    redis_client: aioredis.Redis,
    coin_prefix: str,
) -> None:
    rng = random.Random(f"crash-{scheme.value}")
    pool = Pool(store, chain, scheme, rng)
    for n in range(12):  # a backlog, so the first runs have plenty to do
        await pool.new_block(orphan=n % 5 == 3)

    partial_runs = interrupted_runs = 0
    for n in range(KILLS):
        pending = len(await store.block_candidates())
        kill = KillPlan(
            settled=rng.randrange(max(pending, 1)), extra_delay_s=rng.choice([0, 0, 0.001, 0.003])
        )
        outcome = await run_unlocker(
            redis_server.url, coin_prefix, chain.devnet.daemon_url, scheme, ledger, kill
        )
        interrupted_runs += not outcome.finished
        partial_runs += not outcome.finished and 0 < outcome.settled < pending
        await pool.new_block(orphan=n % 6 == 4)
        await pool.new_block(orphan=False)
    for _ in range(2):  # clean runs: the last blocks are buried, so one pass settles everything
        outcome = await run_unlocker(
            redis_server.url, coin_prefix, chain.devnet.daemon_url, scheme, ledger, None
        )
        assert outcome.finished

    # The kills did land while the unlocker was working, some with part of a pass applied.
    assert interrupted_runs > KILLS // 2 and partial_runs > 0
    assert await store.block_candidates() == []
    books = await check_books(redis_client, store, ledger)
    assert books.orphaned == pool.expected.orphaned
    assert books.unlocked == set(pool.expected.credits)
    assert books.balances == pool.expected.balances()
    await check_no_share_lost(store, books.unlocked, pool.expected)


async def check_no_share_lost(store: Store, unlocked: frozenset[str], expected: Expected) -> None:
    paid_shared, paid_solo = 0, dict.fromkeys(SOLO_MINERS, 0)
    for member in unlocked:
        height, _, hash_hex = member.partition(":")
        block = await store.get_block(int(height), hash_hex)
        assert block is not None
        if block.candidate.reward_type is RewardType.SOLO:
            paid_solo[block.candidate.finder_address] += block.round_shares
        else:
            paid_shared += block.round_shares
    assert paid_shared + await store.round_total(RewardType.PROP) == expected.shared_difficulty
    for address in SOLO_MINERS:
        assert (
            paid_solo[address] + await store.round_total(RewardType.SOLO, address)
            == (expected.solo_difficulty[address])
        )
