"""Helpers for the unlocker tests: unlock rules, shares and candidates, a devnet driver, the books check."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from athena_pool.coins.families import get_family
from athena_pool.devnet.runner import RunningDevnet
from athena_pool.payments.schemes import RewardPolicy, SchemeName
from athena_pool.pow import create_algorithm
from athena_pool.storage import BlockCandidate, RewardType, ShareKind, ShareRecord, Store, replies
from athena_pool.storage.keys import parse_block_member
from athena_pool.storage.ledger import Ledger
from athena_pool.targets import meets
from athena_pool.unlocker import UnlockRules

T0_MS = 1_700_000_000_000
FAMILY = get_family("forknote2")
POW = create_algorithm("cn-lite/1")
NONCE_OFFSET = 39  # of the nonce in a forknote2 hashing blob
MAX_TRIES = 200_000


def rules(
    scheme: SchemeName = SchemeName.PROP,
    *,
    policy: RewardPolicy | None = None,
    unlock_depth: int = 4,
    orphan_depth: int | None = None,
    pplns_factor: Fraction = Fraction(2),
) -> UnlockRules:
    return UnlockRules(
        interval=0.05,
        scheme=scheme,
        pplns_factor=pplns_factor,
        unlock_depth=unlock_depth,
        orphan_depth=orphan_depth or unlock_depth,
        policy=policy or RewardPolicy(),
    )


def share(address: str, difficulty: int, *, solo: bool = False, time_ms: int = T0_MS) -> ShareRecord:
    return ShareRecord(address, "rig", difficulty, ShareKind.VALID, solo, time_ms, 1)


async def record(store: Store, batch_id: str, shares: Sequence[ShareRecord]) -> None:
    assert await store.record_shares(batch_id, shares)


async def add_candidate(
    store: Store,
    height: int,
    hash_hex: str,
    *,
    finder: str,
    reward_type: RewardType = RewardType.PROP,
    network_difficulty: int = 8,
) -> BlockCandidate:
    candidate = BlockCandidate(height, hash_hex, network_difficulty, reward_type, finder, "rig", T0_MS)
    assert await store.add_block_candidate(candidate)
    return candidate


@dataclass
class DevnetDriver:
    """Moves a running devnet: pool blocks (template, real PoW, submitblock), others' blocks, orphans."""

    session: aiohttp.ClientSession
    devnet: RunningDevnet

    async def mine_pool_block(self) -> tuple[int, str]:
        """A block mined like the pool mines one; returns its (height, hash)."""
        params = {"reserve_size": 8, "wallet_address": self.devnet.pool_address}
        template = await self._rpc("getblocktemplate", params)
        blob = await asyncio.to_thread(
            solve_template, bytes.fromhex(template["blocktemplate_blob"]), int(template["difficulty"])
        )
        assert await self._rpc("submitblock", [blob.hex()]) == {"status": "OK"}
        return int(template["height"]), FAMILY.block_id(blob).hex()

    async def bury(self, count: int) -> None:
        """`count` blocks of other people on top of the tip."""
        await self._operator("mine", count)

    async def orphan(self, count: int) -> list[str]:
        """Replaces the last `count` main-chain blocks by a longer fork; returns the orphaned hashes."""
        reply = await self._operator("orphan", count)
        return [header["hash"] for header in reply["orphaned"]]

    def reward_at(self, height: int) -> int:
        block = self.devnet.chain.block_at(height)
        assert block is not None
        return block.reward

    async def _rpc(self, method: str, params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        async with self.session.post(f"{self.devnet.daemon_url}/json_rpc", json=body) as response:
            reply = await response.json()
        assert "error" not in reply, reply
        return reply["result"]

    async def _operator(self, action: str, count: int) -> dict[str, Any]:
        url = f"{self.devnet.daemon_url}/devnet/{action}"
        async with self.session.post(url, json={"count": count}) as response:
            reply: dict[str, Any] = await response.json()
            assert response.status == 200, reply
            return reply


def solve_template(template_blob: bytes, difficulty: int) -> bytes:
    hashing_blob = FAMILY.hashing_blob(template_blob)
    for counter in range(MAX_TRIES):
        nonce = counter.to_bytes(4, "little")
        attempt = hashing_blob[:NONCE_OFFSET] + nonce + hashing_blob[NONCE_OFFSET + 4 :]
        if meets(POW.hash(attempt), difficulty):
            return FAMILY.assemble_block(template_blob, nonce)
    raise AssertionError("no nonce found")


@dataclass(frozen=True)
class Books:
    """Everything the ledger claims, read back and checked against every per-block record."""

    rewards: int
    credited: int
    kept: int
    balances: Mapping[str, int]
    unlocked: frozenset[str]
    orphaned: frozenset[str]


async def check_books(client: aioredis.Redis, store: Store, ledger: Ledger) -> Books:
    """Asserts the credit-side invariants; returns the figures for more specific checks.

    - every matured block is either unlocked or orphaned, and no longer a candidate, its frozen round gone;
    - an unlocked block's payout proof sums to its `credited` field, and credited + fee + remainder = reward;
    - the ledger totals are exactly the sums over the unlocked blocks;
    - each balance is exactly the sum of that address's per-block credits (nothing credited twice or lost).
    """
    k = store.keys
    matured = [replies.text(m) for m in await client.zrange(k.blocks_matured, 0, -1)]
    candidates = {replies.text(m) for m in await client.zrange(k.blocks_candidates, 0, -1)}
    assert not candidates & set(matured)
    rewards = credited = kept = 0
    per_address: dict[str, int] = {}
    unlocked, orphaned = set(), set()
    for member in matured:
        height, hash_hex = parse_block_member(member)
        block = await store.get_block(height, hash_hex)
        assert block is not None, member
        assert await client.exists(k.block_round(height, hash_hex)) == 0, member
        fields = block.fields
        if block.status == "orphaned":
            assert fields["orphaned"] == "1" and "reward" not in fields
            assert await ledger.block_credits(height, hash_hex) == {}
            orphaned.add(member)
            continue
        assert block.status == "unlocked" and fields["orphaned"] == "0", member
        proof = await ledger.block_credits(height, hash_hex)
        assert sum(proof.values()) == int(fields["credited"]), member
        block_kept = int(fields["fee"]) + int(fields["remainder"])
        assert int(fields["credited"]) + block_kept == int(fields["reward"]), member
        rewards += int(fields["reward"])
        credited += int(fields["credited"])
        kept += block_kept
        for address, amount in proof.items():
            per_address[address] = per_address.get(address, 0) + amount
        unlocked.add(member)
    totals = await ledger.totals()
    assert (totals.rewards_total, totals.credited_total, totals.fees_total) == (rewards, credited, kept)
    assert totals.rewards_total == totals.credited_total + totals.fees_total
    assert (totals.blocks_unlocked, totals.blocks_orphaned) == (len(unlocked), len(orphaned))
    balances = await ledger.balances()
    assert balances == per_address
    return Books(rewards, credited, kept, balances, frozenset(unlocked), frozenset(orphaned))
