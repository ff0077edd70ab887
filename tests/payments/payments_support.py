"""Helpers for the payment tests: crediting like the unlocker, addresses, a funded devnet wallet, and what
each address really received."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping

import redis.asyncio as aioredis

from athena_pool.coins.addresses import AddressKind, decode_address, encode_address
from athena_pool.coins.families.base import BlobFamily
from athena_pool.devnet.chain import BlockTemplate
from athena_pool.devnet.keys import generate_address
from athena_pool.devnet.runner import RunningDevnet
from athena_pool.pow import create_algorithm
from athena_pool.pow.base import PowAlgorithm
from athena_pool.storage import BlockCandidate, RewardType, Store
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.ledger import BlockCredit, Ledger
from athena_pool.storage.payment_store import BatchState, PaymentStore
from athena_pool.targets import meets

ATHENA_FEE = 10_000  # Athena's minimum transaction fee
T0_MS = 1_700_000_000_000


# -- crediting like the unlocker -----------------------------------------------------------------------


class Crediter:
    """Credits balances the way the unlocker does: a block candidate, then `Ledger.credit_block`, so the
    ledger totals and the per-block payout proofs are the real ones."""

    def __init__(self, redis: aioredis.Redis, coin_prefix: str) -> None:
        self._store = Store(redis, coin_prefix)
        self._ledger = Ledger(redis, KeySpace(coin_prefix))
        self._heights = itertools.count(1)

    async def credit(self, credits: Mapping[str, int]) -> None:
        height = next(self._heights)
        hash_hex = secrets.token_hex(32)
        finder = next(iter(credits))
        candidate = BlockCandidate(height, hash_hex, 1000, RewardType.PROP, finder, "rig", T0_MS + height)
        assert await self._store.add_block_candidate(candidate)
        reward = sum(credits.values())
        credit = BlockCredit(
            height=height, hash_hex=hash_hex, scheme="prop", reward_atomic=reward, credits=dict(credits),
            fee_atomic=0, remainder_atomic=0, donation_atomic=0, finder_atomic=0, time_ms=T0_MS + height,
        )  # fmt: skip
        assert await self._ledger.credit_block(credit)


# -- addresses -----------------------------------------------------------------------------------------


def athena_addresses(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [generate_address(rng, "athena") for _ in range(count)]


def integrated(address: str, payment_id: str, network: str = "athena") -> str:
    decoded = decode_address(address, network)
    return encode_address(
        network, decoded.public_spend_key, decoded.public_view_key, kind=AddressKind.INTEGRATED,
        payment_id_hex=payment_id,
    )  # fmt: skip


# -- the devnet ----------------------------------------------------------------------------------------


async def mine_pool_blocks(devnet: RunningDevnet, count: int) -> None:
    """Real blocks (real cn-lite/1 proof of work) paying the pool wallet, like the pool would find them."""
    algorithm = create_algorithm("cn-lite/1")
    chain = devnet.chain
    for _ in range(count):
        template = chain.template(devnet.pool_address, 8)
        blob, pow_hash = await asyncio.to_thread(_solve, chain.family, template, algorithm)
        chain.accept(chain.check_block(blob), pow_hash)


def _solve(family: BlobFamily, template: BlockTemplate, algorithm: PowAlgorithm) -> tuple[bytes, bytes]:
    for counter in range(1_000_000):
        blob = family.assemble_block(template.blob, counter.to_bytes(4, "little"))
        pow_hash = algorithm.hash(family.pow_blob(blob))
        if meets(pow_hash, template.difficulty):
            return blob, pow_hash
    raise AssertionError("no nonce found")


async def fund_pool_wallet(devnet: RunningDevnet, blocks: int = 1) -> int:
    """Pool blocks buried deep enough to unlock; returns the wallet's unlocked balance."""
    await mine_pool_blocks(devnet, blocks)
    await devnet.network.mine(devnet.chain.params.unlock_window)
    return devnet.ledger.balance().available


def devnet_received(devnet: RunningDevnet) -> Counter[str]:
    """Atomic units each address received from the pool wallet, from the wallet's own journal."""
    received: Counter[str] = Counter()
    for sent in devnet.ledger.sent:
        for transfer in sent.transfers:
            received[transfer.address] += transfer.amount
    return received


def expected_received(paid: Mapping[str, int]) -> Counter[str]:
    """What the addresses should have received, from the pool's `paid` hash (accounts -> addresses)."""
    expected: Counter[str] = Counter()
    for account, amount in paid.items():
        expected[account.partition(".")[0]] += amount
    return expected


async def assert_all_closed(store: PaymentStore) -> None:
    open_batches = await store.open_batches()
    assert not open_batches, [(b.batch_id, b.state, b.reason) for b in open_batches]


def batch_states(states: Iterable[BatchState]) -> Counter[str]:
    return Counter(state.value for state in states)
