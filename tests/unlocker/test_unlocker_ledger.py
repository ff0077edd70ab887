"""The credit and orphan scripts on a real Redis: guarded, whole, exact, and with a payout proof."""

from __future__ import annotations

from fractions import Fraction

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st
from redis.exceptions import ResponseError
from unlocker_support import add_candidate, check_books, record, share

from athena_pool.payments.schemes import Donation, RewardPolicy, prop
from athena_pool.storage import KeySpace, RewardType, Store
from athena_pool.storage.ledger import BlockCredit, Ledger, LedgerTotals
from athena_pool.unlocker.payouts import to_block_credit

HASH_A, HASH_B, HASH_C = "aa" * 32, "bb" * 32, "cc" * 32
REWARD = 10**17 + 7  # beyond 2^53: a double could not carry it
POLICY = RewardPolicy(pool_fee=Fraction(1, 100), donation=Donation("dev", Fraction(1, 1000)))


async def frozen_prop_block(store: Store, height: int, hash_hex: str, shares: dict[str, int]) -> None:
    await record(store, f"b{height}", [share(address, d) for address, d in shares.items()])
    await add_candidate(store, height, hash_hex, finder="alice")


def credit_for(height: int, hash_hex: str, shares: dict[str, int], reward: int = REWARD) -> BlockCredit:
    return to_block_credit(height, hash_hex, prop(shares, reward, POLICY, "alice"), now_ms=123)


async def test_credit_moves_the_block_and_credits_every_address_once(
    store: Store, ledger: Ledger, redis_client: aioredis.Redis
) -> None:
    shares = {"alice": 3_000, "b:o:b": 1_000}
    await frozen_prop_block(store, 10, HASH_A, shares)
    credit = credit_for(10, HASH_A, shares)

    assert await ledger.credit_block(credit)
    assert not await ledger.credit_block(credit)  # the guard: a second run changes nothing

    block = await store.get_block(10, HASH_A)
    assert block is not None and block.status == "unlocked"
    assert block.fields["reward"] == str(REWARD) and block.fields["scheme"] == "prop"
    assert await store.block_candidates() == []
    assert await store.block_round_shares(10, HASH_A) == {}
    assert await ledger.balances() == dict(credit.credits)
    assert await ledger.block_credits(10, HASH_A) == dict(credit.credits)
    fee, dev = REWARD // 100, REWARD // 1000
    miners = REWARD - fee - dev
    assert dict(credit.credits) == {"alice": miners * 3 // 4, "b:o:b": miners // 4, "dev": dev}
    totals = await ledger.totals()
    assert totals.rewards_total == REWARD
    assert totals.credited_total == sum(credit.credits.values())
    assert totals.fees_total == REWARD - totals.credited_total
    assert (totals.donations_total, totals.blocks_unlocked) == (dev, 1)
    await check_books(redis_client, store, ledger)


async def test_orphan_after_credit_and_credit_after_orphan_are_refused(
    store: Store, ledger: Ledger, redis_client: aioredis.Redis
) -> None:
    await frozen_prop_block(store, 10, HASH_A, {"alice": 5})
    await frozen_prop_block(store, 11, HASH_B, {"bob": 7})

    assert await ledger.credit_block(credit_for(10, HASH_A, {"alice": 5}))
    assert not await ledger.orphan_block(10, HASH_A, reward_type=RewardType.PROP, finder="alice", time_ms=1)
    assert await ledger.orphan_block(11, HASH_B, reward_type=RewardType.PROP, finder="alice", time_ms=1)
    assert not await ledger.credit_block(credit_for(11, HASH_B, {"bob": 7}))
    assert not await ledger.orphan_block(11, HASH_B, reward_type=RewardType.PROP, finder="alice", time_ms=1)

    books = await check_books(redis_client, store, ledger)
    assert books.orphaned == {f"11:{HASH_B}"} and books.unlocked == {f"10:{HASH_A}"}
    assert "bob" not in books.balances
    assert await store.round_shares(RewardType.PROP) == {"bob": 7}  # given back, once


async def test_unknown_block_is_neither_credited_nor_orphaned(store: Store, ledger: Ledger) -> None:
    assert not await ledger.credit_block(credit_for(99, HASH_C, {"alice": 1}))
    assert not await ledger.orphan_block(99, HASH_C, reward_type=RewardType.PROP, finder="a", time_ms=1)
    assert await ledger.balances() == {}
    assert await store.get_block(99, HASH_C) is None


async def test_orphaned_prop_round_is_merged_into_the_live_round(store: Store, ledger: Ledger) -> None:
    await frozen_prop_block(store, 10, HASH_A, {"alice": 2**60, "bob": 3})
    await record(store, "later", [share("bob", 10), share("carol", 4)])  # the next round has begun

    assert await ledger.orphan_block(10, HASH_A, reward_type=RewardType.PROP, finder="alice", time_ms=5)

    assert await store.round_shares(RewardType.PROP) == {"alice": 2**60, "bob": 13, "carol": 4}
    assert await store.round_total(RewardType.PROP) == 2**60 + 17  # exact: never through a Lua double
    block = await store.get_block(10, HASH_A)
    assert block is not None and (block.status, block.fields["orphaned"]) == ("orphaned", "1")
    assert block.fields["orphaned_ms"] == "5"


async def test_orphaned_solo_round_goes_back_to_its_finder_only(store: Store, ledger: Ledger) -> None:
    await record(store, "s", [share("carol", 40, solo=True), share("alice", 9), share("dave", 5, solo=True)])
    await add_candidate(store, 10, HASH_A, finder="carol", reward_type=RewardType.SOLO)
    await record(store, "s2", [share("carol", 2, solo=True)])

    assert await ledger.orphan_block(10, HASH_A, reward_type=RewardType.SOLO, finder="carol", time_ms=5)

    assert await store.round_shares(RewardType.SOLO, "carol") == {"carol": 42}
    assert await store.round_total(RewardType.SOLO, "carol") == 42
    assert await store.round_shares(RewardType.PROP) == {"alice": 9}  # the shared round is untouched
    assert await store.round_shares(RewardType.SOLO, "dave") == {"dave": 5}


async def test_miner_credit_history_is_newest_first_and_bounded(store: Store, ledger: Ledger) -> None:
    for height in range(1, 6):
        hash_hex = f"{height:02x}" * 32
        await frozen_prop_block(store, height, hash_hex, {"alice": 1})
        assert await ledger.credit_block(credit_for(height, hash_hex, {"alice": 1}, reward=1000 + height))

    history = await ledger.miner_credits("alice", limit=10)
    assert [entry.height for entry in history] == [5, 4, 3]  # credit_history=3 in the fixture
    assert history[0].hash_hex == "05" * 32 and history[0].scheme == "prop" and history[0].time_ms == 123
    # 1005 less a 1 % fee (10) and a 0.1 % donation (1): alice's shares are the whole round
    assert history[0].amount_atomic == (await ledger.block_credits(5, "05" * 32))["alice"] == 994
    assert len(await ledger.block_credits(1, "01" * 32)) == 2  # the proof is kept for every block


async def test_a_corrupt_key_stops_the_script_before_any_write(
    store: Store, ledger: Ledger, redis_client: aioredis.Redis
) -> None:
    await frozen_prop_block(store, 10, HASH_A, {"alice": 1, "bob": 1})
    await redis_client.set(store.keys.miner_credits("bob"), "not a list")

    with pytest.raises(ResponseError, match="not a list"):
        await ledger.credit_block(credit_for(10, HASH_A, {"alice": 1, "bob": 1}))

    block = await store.get_block(10, HASH_A)
    assert block is not None and block.status == "candidate"
    assert await ledger.balances() == {}
    assert await ledger.totals() == LedgerTotals.from_fields({})


def test_a_credit_that_does_not_add_up_is_refused() -> None:
    with pytest.raises(ValueError, match="add up"):
        BlockCredit(1, HASH_A, "prop", 100, {"a": 90}, 5, 4, 0, 0, 1)
    with pytest.raises(ValueError, match="non-negative"):
        BlockCredit(1, HASH_A, "prop", 100, {"a": 110, "b": -10}, 0, 0, 0, 0, 1)
    with pytest.raises(ValueError, match="details"):
        BlockCredit(1, HASH_A, "prop", 1, {"a": 1}, 0, 0, 0, 0, 1, details={"status": "candidate"})


KEYS = KeySpace("athena")
FREE_TEXT = {"miner_credits": KEYS.miner_credits}
OTHER_FIXED_PARTS = ("round:solo:", "round-total:solo:", "miner:", "miner-workers:", "miner-ips:",
                     "hashrate:miner:", "batch:", "block:", "block-round:")  # fmt: skip


def test_new_keys_do_not_share_a_prefix_with_other_keys() -> None:
    fixed = [KEYS.ledger, KEYS.unlocker, KEYS.balances, KEYS.paid, KEYS.pool, KEYS.pplns, KEYS.miners]
    credits_part = KEYS.miner_credits("")
    block_credits_part = KEYS.block_credits(1, HASH_A).rsplit(":", 2)[0] + ":"
    for part in (credits_part, block_credits_part):
        assert not any(key.startswith(part) for key in fixed)
        assert not any(f"athena:{other}".startswith(part) for other in OTHER_FIXED_PARTS)
        assert not any(part.startswith(f"athena:{other}") for other in OTHER_FIXED_PARTS)


@given(st.text(min_size=1), st.text(min_size=1))
def test_miner_credit_keys_never_collide(first: str, second: str) -> None:
    assert (KEYS.miner_credits(first) == KEYS.miner_credits(second)) == (first == second)
    assert KEYS.miner_credits(first) not in {KEYS.ledger, KEYS.unlocker, KEYS.balances}
