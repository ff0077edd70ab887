"""Properties on a real Redis: the PPLNS window edge, and solo and shared rounds never touching each other."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction

import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unlocker_support import add_candidate, check_books, record, rules, share

from athena_pool.payments.schemes import RewardPolicy, SchemeName, percent, pplns, prop, solo
from athena_pool.storage import RewardType, Store
from athena_pool.storage.ledger import Ledger
from athena_pool.unlocker.payouts import plan_credit
from redis_support import RedisServer

ADDRESSES = ("alice", "b:o:b", "carol", "dave")
POLICY = RewardPolicy(pool_fee=percent("0.7"), finder_reward=percent("0.3"))
REWARD = 3_000_000_000_007
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


Body = Callable[[Store, Ledger, aioredis.Redis], Awaitable[None]]


async def in_fresh_prefix(server: RedisServer, body: Body) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    client = server.client()
    try:
        store = Store(client, prefix)
        await body(store, Ledger(client, store.keys), client)
    finally:
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            await client.delete(key)
        await client.aclose()


share_lists = st.lists(st.tuples(st.sampled_from(ADDRESSES), st.integers(1, 1_000)), min_size=0, max_size=30)


@PROPERTY_SETTINGS
@given(before=share_lists, after=share_lists, window_fill=st.fractions(Fraction(1, 100), 2))
def test_pplns_window_ends_at_the_block_and_trims_its_edge_share(
    redis_server: RedisServer,
    before: list[tuple[str, int]],
    after: list[tuple[str, int]],
    window_fill: Fraction,
) -> None:
    """N = factor x network difficulty; the window walks back from the block, the oldest share is cut."""
    total_before = sum(d for _, d in before)
    network_difficulty = 100
    factor = window_fill * max(total_before, 1) / network_difficulty

    async def body(store: Store, ledger: Ledger, client: aioredis.Redis) -> None:
        for i, (address, difficulty) in enumerate(before):
            await record(store, f"b{i}", [share(address, difficulty)])
        candidate = await add_candidate(
            store, 50, "ab" * 32, finder="alice", network_difficulty=network_difficulty
        )
        for i, (address, difficulty) in enumerate(after):
            await record(store, f"a{i}", [share(address, difficulty)])
        block = await store.get_block(candidate.height, candidate.hash_hex)
        assert block is not None

        credit = await plan_credit(
            store, block, REWARD, rules(SchemeName.PPLNS, policy=POLICY, pplns_factor=factor), 1
        )

        window_size = max(1, int(factor * network_difficulty))
        expected = reference_window(before, window_size)
        assert credit.details["pplns_window"] == str(window_size)
        assert credit.details["pplns_shares"] == str(min(window_size, total_before))
        assert dict(credit.credits) == dict(prop(expected, REWARD, POLICY, "alice").credits)

    asyncio.run(in_fresh_prefix(redis_server, body))


def reference_window(oldest_first: list[tuple[str, int]], size: int) -> dict[str, int]:
    weights: dict[str, int] = {}
    remaining = size
    for address, difficulty in reversed(oldest_first):
        if remaining == 0:
            break
        take = min(difficulty, remaining)
        weights[address] = weights.get(address, 0) + take
        remaining -= take
    return weights


@dataclass(frozen=True)
class WindowEntry:
    address: str
    difficulty: int


@dataclass(frozen=True)
class Shares:
    address: str
    difficulty: int
    solo: bool


@dataclass(frozen=True)
class Found:
    finder: str
    solo: bool


steps = st.lists(
    st.one_of(
        st.builds(Shares, st.sampled_from(ADDRESSES), st.integers(1, 2**40), st.booleans()),
        st.builds(Found, st.sampled_from(ADDRESSES), st.booleans()),
    ),
    max_size=25,
)


@PROPERTY_SETTINGS
@given(steps=steps)
def test_solo_and_shared_blocks_each_pay_only_their_own_round(
    redis_server: RedisServer, steps: list[Shares | Found]
) -> None:
    """Whatever the interleaving, a PROP block pays exactly the shared shares since the last PROP block and a
    solo block pays exactly its finder: neither deletes nor pays the other kind's shares."""

    async def body(store: Store, ledger: Ledger, client: aioredis.Redis) -> None:
        shared_round: dict[str, int] = {}
        expected_balances: dict[str, int] = {}
        unlock_rules = rules(SchemeName.PROP, policy=POLICY)
        for height, step in enumerate(steps):
            if isinstance(step, Shares):
                await record(store, f"s{height}", [share(step.address, step.difficulty, solo=step.solo)])
                if not step.solo:
                    shared_round[step.address] = shared_round.get(step.address, 0) + step.difficulty
                continue
            kind = RewardType.SOLO if step.solo else RewardType.PROP
            candidate = await add_candidate(
                store, height, f"{height:064x}", finder=step.finder, reward_type=kind
            )
            block = await store.get_block(candidate.height, candidate.hash_hex)
            assert block is not None
            credit = await plan_credit(store, block, REWARD, unlock_rules, 1)
            assert await ledger.credit_block(credit)
            if step.solo:
                payout = solo(step.finder, REWARD, POLICY)
            else:
                payout = prop(shared_round, REWARD, POLICY, step.finder)
                shared_round = {}
            assert dict(credit.credits) == dict(payout.credits)
            for address, amount in payout.credits.items():
                expected_balances[address] = expected_balances.get(address, 0) + amount
        assert await store.round_shares(RewardType.PROP) == shared_round
        books = await check_books(client, store, ledger)
        assert books.balances == expected_balances

    asyncio.run(in_fresh_prefix(redis_server, body))


def test_the_pplns_scheme_is_only_a_sum_of_its_window() -> None:
    """The pure reference above and the scheme agree on a hand-made window with an edge share."""
    window = reference_window([("dave", 5), ("alice", 4), ("b:o:b", 2), ("carol", 3)], 8)
    assert window == {"carol": 3, "b:o:b": 2, "alice": 3}
    shares = [WindowEntry(address, difficulty) for address, difficulty in window.items()]
    assert pplns(shares, 800, RewardPolicy(), "x").miners_atomic == {"carol": 300, "b:o:b": 200, "alice": 300}
