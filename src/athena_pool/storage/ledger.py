"""`Ledger`: the credit side of storage. Unlocked blocks go to balances, orphaned ones give their shares back.

Both changes are one Lua script each (`lua/unlock_credit.lua`, `lua/unlock_orphan.lua`), guarded by the
block's status, so a block is credited or orphaned at most once however often the unlocker retries. Every
credit is kept per block (`block-credits:*`, the payout proof) and per miner (`miner-credits:*`), and the
`ledger` hash keeps running totals in the same script: rewards_total == credited_total + fees_total.
See `keys.py` for the keys and fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.typing import EncodableT

from athena_pool.storage import replies
from athena_pool.storage.keys import KeySpace, block_member
from athena_pool.storage.records import RewardType
from athena_pool.storage.scripts import load_lua

# Ledger fields (atomic units unless a count). The first three hold the invariant; the rest break them down.
REWARDS_TOTAL = "rewards_total"
CREDITED_TOTAL = "credited_total"
FEES_TOTAL = "fees_total"
DONATIONS_TOTAL = "donations_total"
FINDER_TOTAL = "finder_total"
ROUNDING_TOTAL = "rounding_total"
BLOCKS_UNLOCKED = "blocks_unlocked"
BLOCKS_ORPHANED = "blocks_orphaned"

DEFAULT_CREDIT_HISTORY = 1_000
_SCRIPT_FIELDS = frozenset({"status", "orphaned"})  # set by the scripts themselves: the guard's state


@dataclass(frozen=True, slots=True)
class BlockCredit:
    """What one unlocked block adds to balances and to the ledger. Checked to add up to the reward."""

    height: int
    hash_hex: str
    scheme: str  # "prop", "pplns" or "solo": how `credits` were computed
    reward_atomic: int  # from the daemon's header
    credits: Mapping[str, int]  # address -> atomic units added to its balance (finder and donation included)
    fee_atomic: int  # the pool fee
    remainder_atomic: int  # rounding remainder, kept by the pool with its fee
    donation_atomic: int  # of which, in `credits`, the dev donation
    finder_atomic: int  # of which, in `credits`, the finder reward
    time_ms: int
    details: Mapping[str, str] = field(default_factory=dict)  # more block-record fields (the PPLNS window)

    def __post_init__(self) -> None:
        amounts = [self.reward_atomic, self.fee_atomic, self.remainder_atomic, *self.credits.values()]
        amounts += [self.donation_atomic, self.finder_atomic]
        if any(not isinstance(a, int) or isinstance(a, bool) or a < 0 for a in amounts):
            raise ValueError(f"block {self.height}: amounts must be non-negative ints")
        total = self.credited_atomic + self.fee_atomic + self.remainder_atomic
        if total != self.reward_atomic:
            raise ValueError(
                f"block {self.height}: credits and fee add up to {total}, not {self.reward_atomic}"
            )
        if self.donation_atomic + self.finder_atomic > self.credited_atomic:
            raise ValueError(f"block {self.height}: donation and finder reward exceed the credits")
        if _SCRIPT_FIELDS & self.details.keys():
            raise ValueError(f"block {self.height}: details may not set {sorted(_SCRIPT_FIELDS)}")

    @property
    def credited_atomic(self) -> int:
        return sum(self.credits.values())


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    rewards_total: int
    credited_total: int
    fees_total: int
    donations_total: int
    finder_total: int
    rounding_total: int
    blocks_unlocked: int
    blocks_orphaned: int

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> LedgerTotals:
        def value(name: str) -> int:
            return int(fields.get(name, 0))

        return cls(
            rewards_total=value(REWARDS_TOTAL),
            credited_total=value(CREDITED_TOTAL),
            fees_total=value(FEES_TOTAL),
            donations_total=value(DONATIONS_TOTAL),
            finder_total=value(FINDER_TOTAL),
            rounding_total=value(ROUNDING_TOTAL),
            blocks_unlocked=value(BLOCKS_UNLOCKED),
            blocks_orphaned=value(BLOCKS_ORPHANED),
        )


@dataclass(frozen=True, slots=True)
class MinerCredit:
    """One entry of a miner's credit history."""

    height: int
    hash_hex: str
    amount_atomic: int
    scheme: str
    time_ms: int

    @classmethod
    def from_json(cls, text: str) -> MinerCredit:
        data = json.loads(text)
        return cls(int(data["height"]), str(data["hash"]), int(data["amount"]), str(data["scheme"]),
                   int(data["time_ms"]))  # fmt: skip


class Ledger:
    """Balances and their history for one coin (`keys`), on the same Redis as `Store`."""

    def __init__(
        self, redis: aioredis.Redis, keys: KeySpace, *, credit_history: int = DEFAULT_CREDIT_HISTORY
    ) -> None:
        if credit_history < 1:
            raise ValueError("credit_history must be at least 1")
        self._redis = redis
        self.keys = keys
        self.credit_history = credit_history
        self._credit: AsyncScript = redis.register_script(load_lua("unlock_credit.lua"))
        self._orphan: AsyncScript = redis.register_script(load_lua("unlock_orphan.lua"))

    # Writes

    async def credit_block(self, credit: BlockCredit) -> bool:
        """Moves the candidate to matured and credits every address, in one script.

        False (and nothing written) if the block is not a candidate: credited or orphaned before.
        """
        k, c = self.keys, credit
        credits = [(address, amount) for address, amount in c.credits.items() if amount > 0]
        keys = [
            k.block(c.height, c.hash_hex),
            k.blocks_candidates,
            k.blocks_matured,
            k.block_round(c.height, c.hash_hex),
            k.balances,
            k.block_credits(c.height, c.hash_hex),
            k.ledger,
            *(k.miner_credits(address) for address, _ in credits),
        ]
        record = _pairs(_credit_record(c))
        ledger = _pairs(_ledger_increments(c))
        entries = [
            part for address, amount in credits for part in (address, str(amount), _history(c, amount))
        ]
        args = [
            block_member(c.height, c.hash_hex),
            str(c.height),
            str(self.credit_history),
            str(len(record) // 2),
            str(len(ledger) // 2),
            str(len(credits)),
            *record,
            *ledger,
            *entries,
        ]
        return bool(await self._credit(keys=keys, args=args))

    async def orphan_block(
        self, height: int, hash_hex: str, *, reward_type: RewardType, finder: str, time_ms: int
    ) -> bool:
        """Marks the candidate orphaned and merges its frozen round back into the live round it came from:
        the shared round for a shared block, `finder`'s solo round for a solo block.

        False (and nothing written) if the block is not a candidate.
        """
        k = self.keys
        keys = [
            k.block(height, hash_hex),
            k.blocks_candidates,
            k.blocks_matured,
            k.block_round(height, hash_hex),
            k.round(reward_type, finder),
            k.round_total(reward_type, finder),
            k.ledger,
        ]
        args = [block_member(height, hash_hex), str(height), "orphaned_ms", str(time_ms)]
        return bool(await self._orphan(keys=keys, args=args))

    async def write_unlocker_status(self, status: Mapping[str, str]) -> None:
        # Copied into a wider type: mapping keys are invariant, so Mapping[str, str] does not type-check.
        mapping: dict[EncodableT, EncodableT] = {name: value for name, value in status.items()}
        await self._redis.hset(self.keys.unlocker, mapping=mapping)

    # Reads

    async def block_credits(self, height: int, hash_hex: str) -> dict[str, int]:
        """The payout proof of a block: address -> atomic units it credited."""
        return _int_values(await self._hgetall(self.keys.block_credits(height, hash_hex)))

    async def miner_credits(self, address: str, limit: int = 100) -> list[MinerCredit]:
        """The miner's newest credits, newest first."""
        entries = await self._redis.lrange(self.keys.miner_credits(address), 0, max(limit, 1) - 1)
        return [MinerCredit.from_json(replies.text(entry)) for entry in entries]

    async def balance(self, address: str) -> int:
        value = await self._redis.hget(self.keys.balances, address)
        return 0 if value is None else replies.integer(value)

    async def balances(self) -> dict[str, int]:
        """Every balance (HSCAN, so a big hash does not block Redis)."""
        found: dict[str, int] = {}
        async for address, value in self._redis.hscan_iter(self.keys.balances, count=1000):
            found[replies.text(address)] = replies.integer(value)
        return found

    async def totals(self) -> LedgerTotals:
        return LedgerTotals.from_fields(await self._hgetall(self.keys.ledger))

    async def unlocker_status(self) -> dict[str, str]:
        return await self._hgetall(self.keys.unlocker)

    async def _hgetall(self, key: str) -> dict[str, str]:
        return replies.fields(await self._redis.hgetall(key))


def _credit_record(c: BlockCredit) -> dict[str, str]:
    record = {
        "reward": str(c.reward_atomic),
        "scheme": c.scheme,
        "fee": str(c.fee_atomic),
        "remainder": str(c.remainder_atomic),
        "donation": str(c.donation_atomic),
        "finder_reward": str(c.finder_atomic),
        "credited": str(c.credited_atomic),
        "unlocked_ms": str(c.time_ms),
    }
    return {**c.details, **record}


def _ledger_increments(c: BlockCredit) -> dict[str, str]:
    return {
        REWARDS_TOTAL: str(c.reward_atomic),
        CREDITED_TOTAL: str(c.credited_atomic),
        FEES_TOTAL: str(c.fee_atomic + c.remainder_atomic),
        DONATIONS_TOTAL: str(c.donation_atomic),
        FINDER_TOTAL: str(c.finder_atomic),
        ROUNDING_TOTAL: str(c.remainder_atomic),
        BLOCKS_UNLOCKED: "1",
    }


def _history(c: BlockCredit, amount: int) -> str:
    entry = {
        "height": c.height,
        "hash": c.hash_hex,
        "amount": amount,
        "scheme": c.scheme,
        "time_ms": c.time_ms,
    }
    return json.dumps(entry, separators=(",", ":"))


def _pairs(fields: Mapping[str, str]) -> list[str]:
    return [part for item in fields.items() for part in item]


def _int_values(fields: Mapping[str, str]) -> dict[str, int]:
    return {name: int(value) for name, value in fields.items()}
