"""`PaymentStore`: the payment side of Redis (see the "payments" section of `keys.py`).

Every change of a batch's state is one Lua script (`lua/pay_*.lua`) that checks the payment lease and the
batch's current state first (compare and set), so a step either happens whole or not at all, and a stale or
second processor cannot move a batch. Money moves only in `reserve` (balance -> pending), `finalize`
(pending -> paid + fees charged) and `release` (pending -> balance).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from athena_pool.storage import replies
from athena_pool.storage.keys import KeySpace, parse_block_member
from athena_pool.storage.ledger import CREDITED_TOTAL
from athena_pool.storage.scripts import load_lua


class BatchState(StrEnum):
    RESERVED = "reserved"  # balances moved aside; the wallet was not called
    SUBMITTING = "submitting"  # written before the wallet call: it may or may not have sent
    SUBMITTED = "submitted"  # the transaction is known (hash, real fee)
    FINALIZED = "finalized"  # paid totals and histories written (closed)
    RETRYABLE = "retryable"  # the wallet provably did not send; to be released
    MANUAL_REVIEW = "manual_review"  # cannot prove either way: funds stay reserved until an operator decides
    RELEASED = "released"  # the reserved amounts went back to the balances (closed)


CLOSED_STATES = frozenset({BatchState.FINALIZED, BatchState.RELEASED})


class PaymentStoreError(RuntimeError):
    pass


class LeaseLostError(PaymentStoreError):
    """This pass no longer holds the payment lease: another processor may be running; stop writing."""


class BatchStateError(PaymentStoreError):
    def __init__(self, batch_id: str, state: str, wanted: Iterable[BatchState]) -> None:
        names = ", ".join(sorted(wanted))
        super().__init__(f"batch {batch_id} is {state or 'missing'}, expected one of {names}")
        self.batch_id = batch_id
        self.state = state


class TxClaimedError(PaymentStoreError):
    def __init__(self, tx_hash: str, owner: str) -> None:
        super().__init__(f"transaction {tx_hash} already belongs to batch {owner}")
        self.tx_hash = tx_hash
        self.owner = owner


@dataclass(frozen=True)
class BatchItem:
    """One payee of a batch: `gross` leaves its balance, `charge` is the fee it pays, `net` is sent."""

    account: str  # the balances field: an address, or ADDRESS.PAYMENTID
    address: str  # where the coins go
    gross: int
    charge: int = 0

    def __post_init__(self) -> None:
        if self.gross <= 0 or not 0 <= self.charge < self.gross:
            raise ValueError(
                f"item {self.account}: need gross > charge >= 0, got {self.gross}, {self.charge}"
            )

    @property
    def net(self) -> int:
        return self.gross - self.charge

    def to_json(self) -> dict[str, str]:
        # Strings: Lua reads these, and its numbers are doubles (inexact above 2^53 atomic units).
        return {
            "account": self.account,
            "address": self.address,
            "gross": str(self.gross),
            "charge": str(self.charge),
            "net": str(self.net),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchItem:
        item = cls(str(data["account"]), str(data["address"]), int(data["gross"]), int(data["charge"]))
        if int(data["net"]) != item.net:
            raise ValueError(f"item {item.account}: net {data['net']} != gross - charge")
        return item


@dataclass(frozen=True)
class NewBatch:
    batch_id: str
    items: tuple[BatchItem, ...]
    fee: int  # the fee asked of the wallet (0 where the wallet picks it)
    created_ms: int
    payment_id: str | None = None
    marker: str | None = None  # put in the transaction's extra where the wallet supports it

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a batch needs at least one item")
        accounts = [item.account for item in self.items]
        if len(set(accounts)) != len(accounts):
            raise ValueError("an account appears twice in one batch")


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    state: BatchState
    items: tuple[BatchItem, ...]
    fee: int
    created_ms: int
    payment_id: str | None = None
    marker: str | None = None
    attempt: int = 0
    start_height: int | None = None  # the wallet's height just before the wallet call
    start_ms: int | None = None
    tx_hash: str | None = None
    real_fee: int | None = None
    reason: str = ""
    found_by: str = ""  # "reply", "reconciliation" or "operator"
    state_times: Mapping[str, int] = field(default_factory=dict)

    @property
    def total_gross(self) -> int:
        return sum(item.gross for item in self.items)

    @property
    def total_net(self) -> int:
        return sum(item.net for item in self.items)

    @property
    def total_charge(self) -> int:
        return sum(item.charge for item in self.items)

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES

    @classmethod
    def from_fields(cls, batch_id: str, fields: Mapping[str, str]) -> BatchRecord:
        return cls(
            batch_id=batch_id,
            state=BatchState(fields["state"]),
            items=tuple(BatchItem.from_json(item) for item in json.loads(fields["items"])),
            fee=int(fields["fee"]),
            created_ms=int(fields["created_ms"]),
            payment_id=fields.get("payment_id") or None,
            marker=fields.get("marker") or None,
            attempt=int(fields.get("attempt", "0")),
            start_height=_optional_int(fields.get("start_height")),
            start_ms=_optional_int(fields.get("start_ms")),
            tx_hash=fields.get("tx_hash") or None,
            real_fee=_optional_int(fields.get("real_fee")),
            reason=fields.get("reason", ""),
            found_by=fields.get("found_by", ""),
            state_times={
                name.removesuffix("_ms"): int(value)
                for name, value in fields.items()
                if name.removesuffix("_ms") in BatchState.__members__.values()
            },
        )


@dataclass(frozen=True)
class PayoutTotals:
    paid: int = 0  # sent to miners
    fees_charged: int = 0  # deducted from miners' payouts for fees
    network_fees: int = 0  # real fees of the pool's transactions
    transactions: int = 0

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> PayoutTotals:
        return cls(**{name: int(fields.get(name, "0")) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class PaymentEntry:
    """One line of a payment history (the pool's or a miner's)."""

    time_ms: int
    data: Mapping[str, Any]


class _PaymentScripts:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.lease: AsyncScript = redis.register_script(load_lua("pay_lease.lua"))
        self.reserve: AsyncScript = redis.register_script(load_lua("pay_reserve.lua"))
        self.transition: AsyncScript = redis.register_script(load_lua("pay_transition.lua"))
        self.submitted: AsyncScript = redis.register_script(load_lua("pay_submitted.lua"))
        self.finalize: AsyncScript = redis.register_script(load_lua("pay_finalize.lua"))
        self.release: AsyncScript = redis.register_script(load_lua("pay_release.lua"))


_OK, _LEASE, _EXISTS, _MISSING, _WRONG_STATE, _CLAIMED, _KEYS = 1, -1, -2, -3, -4, -5, -6
_SCAN_PAGE = 1_000


class PaymentStore:
    """Typed access to one coin's payment data, with or without decode_responses on the client."""

    def __init__(self, redis: aioredis.Redis, coin_prefix: str) -> None:
        self._redis = redis
        self.keys = KeySpace(coin_prefix)
        self._scripts = _PaymentScripts(redis)

    # -- the lease ---------------------------------------------------------------------------------------

    async def acquire_lease(self, token: str, ttl_ms: int) -> bool:
        return bool(await self._redis.set(self.keys.payment_lease, token, nx=True, px=ttl_ms))

    async def renew_lease(self, token: str, ttl_ms: int) -> None:
        keys, args = [self.keys.payment_lease], [token, "renew", str(ttl_ms)]
        if not await self._scripts.lease(keys=keys, args=args):
            raise LeaseLostError("the payment lease expired or was taken by another processor")

    async def release_lease(self, token: str) -> None:
        await self._scripts.lease(keys=[self.keys.payment_lease], args=[token, "release", "0"])

    # -- batch transitions -------------------------------------------------------------------------------

    async def reserve(self, token: str, batch: NewBatch) -> str | None:
        """Moves the batch's gross amounts from balances to pending and records it as reserved.

        Returns None on success, or the account whose balance no longer covers its item (nothing written).
        """
        k = self.keys
        keys = [k.payment_lease, k.payment_batch(batch.batch_id), k.payment_batches_open, k.balances,
                k.payout_pending]  # fmt: skip
        pairs = [part for item in batch.items for part in (item.account, str(item.gross))]
        record = {
            "items": json.dumps([item.to_json() for item in batch.items], separators=(",", ":")),
            "fee": str(batch.fee),
            "created_ms": str(batch.created_ms),
            "payment_id": batch.payment_id or "",
            "marker": batch.marker or "",
            "attempt": "0",
        }
        args = [token, batch.batch_id, str(batch.created_ms), str(len(batch.items)), *pairs,
                *_flatten(record)]  # fmt: skip
        code, detail = _outcome(await self._scripts.reserve(keys=keys, args=args))
        if code == _OK:
            return None
        if code == 0:
            return detail
        _raise_for(code, detail, batch.batch_id, ())
        raise AssertionError("unreachable")

    async def mark_submitting(
        self, token: str, batch_id: str, *, start_height: int, now_ms: int, attempt: int
    ) -> None:
        """Written BEFORE the wallet call: from here on, the batch may have been sent."""
        fields = {"start_height": str(start_height), "start_ms": str(now_ms), "attempt": str(attempt)}
        await self._transition(token, batch_id, BatchState.SUBMITTING, now_ms, (BatchState.RESERVED,), fields)

    async def mark_retryable(self, token: str, batch_id: str, *, reason: str, now_ms: int) -> None:
        allowed = (BatchState.RESERVED, BatchState.SUBMITTING)
        await self._transition(token, batch_id, BatchState.RETRYABLE, now_ms, allowed, {"reason": reason})

    async def mark_manual_review(self, token: str, batch_id: str, *, reason: str, now_ms: int) -> None:
        allowed = (BatchState.SUBMITTING,)
        await self._transition(token, batch_id, BatchState.MANUAL_REVIEW, now_ms, allowed, {"reason": reason})

    async def mark_submitted(
        self,
        token: str,
        batch_id: str,
        *,
        tx_hash: str,
        real_fee: int,
        now_ms: int,
        found_by: str,
        allowed: Sequence[BatchState] = (BatchState.SUBMITTING,),
    ) -> None:
        """Claims `tx_hash` for the batch; raises TxClaimedError if another batch already owns it."""
        k = self.keys
        keys = [k.payment_lease, k.payment_batch(batch_id), k.payment_txs]
        args = [token, batch_id, str(now_ms), tx_hash, str(real_fee), ",".join(allowed), found_by]
        code, detail = _outcome(await self._scripts.submitted(keys=keys, args=args))
        if code == _CLAIMED:
            raise TxClaimedError(tx_hash, detail)
        _raise_for(code, detail, batch_id, allowed)

    async def finalize(self, token: str, record: BatchRecord, *, now_ms: int) -> None:
        """Closes a submitted batch as paid. `record` supplies the histories' text; the money moved comes
        from the stored record."""
        if record.tx_hash is None or record.real_fee is None:
            raise ValueError(f"batch {record.batch_id} has no transaction yet")
        k = self.keys
        keys = [k.payment_lease, k.payment_batch(record.batch_id), k.payment_batches_open,
                k.payment_batches_closed, k.payout_pending, k.paid, k.payout_fees, k.payout_totals,
                k.payments_all, *(k.payments_miner(item.account) for item in record.items)]  # fmt: skip
        args = [token, record.batch_id, str(now_ms), _pool_entry(record),
                *(_miner_entry(record, item) for item in record.items)]  # fmt: skip
        code, detail = _outcome(await self._scripts.finalize(keys=keys, args=args))
        if code == _KEYS:
            raise PaymentStoreError(f"batch {record.batch_id}: the record's items changed under us")
        _raise_for(code, detail, record.batch_id, (BatchState.SUBMITTED,))

    async def release(
        self, token: str, batch_id: str, *, reason: str, now_ms: int, allowed: Sequence[BatchState]
    ) -> None:
        """Gives the reserved amounts back to the balances and closes the batch as released."""
        k = self.keys
        keys = [k.payment_lease, k.payment_batch(batch_id), k.payment_batches_open, k.payment_batches_closed,
                k.balances, k.payout_pending]  # fmt: skip
        args = [token, batch_id, str(now_ms), ",".join(allowed), reason]
        code, detail = _outcome(await self._scripts.release(keys=keys, args=args))
        _raise_for(code, detail, batch_id, allowed)

    async def _transition(
        self,
        token: str,
        batch_id: str,
        state: BatchState,
        now_ms: int,
        allowed: Sequence[BatchState],
        fields: Mapping[str, str],
    ) -> None:
        keys = [self.keys.payment_lease, self.keys.payment_batch(batch_id)]
        args = [token, state.value, str(now_ms), ",".join(allowed), *_flatten(fields)]
        code, detail = _outcome(await self._scripts.transition(keys=keys, args=args))
        _raise_for(code, detail, batch_id, allowed)

    # -- batches -----------------------------------------------------------------------------------------

    async def get_batch(self, batch_id: str) -> BatchRecord | None:
        fields = replies.fields(await self._redis.hgetall(self.keys.payment_batch(batch_id)))
        return BatchRecord.from_fields(batch_id, fields) if fields else None

    async def open_batches(self) -> list[BatchRecord]:
        """Every batch not finalized or released, oldest first."""
        return await self._batches(await self._redis.zrange(self.keys.payment_batches_open, 0, -1))

    async def closed_batches(self, limit: int = 100) -> list[BatchRecord]:
        """The newest closed batches, newest first."""
        ids = await self._redis.zrevrange(self.keys.payment_batches_closed, 0, max(0, limit - 1))
        return await self._batches(ids)

    async def all_batch_ids(self) -> list[str]:
        open_ids = await self._redis.zrange(self.keys.payment_batches_open, 0, -1)
        closed_ids = await self._redis.zrange(self.keys.payment_batches_closed, 0, -1)
        return [replies.text(member) for member in [*open_ids, *closed_ids]]

    async def batches(self, batch_ids: Sequence[str]) -> list[BatchRecord]:
        return await self._batches(batch_ids)

    async def _batches(self, members: Sequence[object]) -> list[BatchRecord]:
        ids = [replies.text(member) for member in members]
        pipe = self._redis.pipeline(transaction=False)
        for batch_id in ids:
            pipe.hgetall(self.keys.payment_batch(batch_id))
        raws = await pipe.execute()
        return [
            BatchRecord.from_fields(i, replies.fields(raw)) for i, raw in zip(ids, raws, strict=True) if raw
        ]

    async def tx_owners(self, tx_hashes: Sequence[str]) -> dict[str, str]:
        """tx hash -> batch id, for the hashes already claimed by a batch."""
        if not tx_hashes:
            return {}
        owners = await self._redis.hmget(self.keys.payment_txs, list(tx_hashes))
        return {h: replies.text(o) for h, o in zip(tx_hashes, owners, strict=True) if o is not None}

    async def all_tx_claims(self) -> dict[str, str]:
        return await self._scan_text(self.keys.payment_txs)

    # -- money -------------------------------------------------------------------------------------------

    async def balances(self) -> dict[str, int]:
        return await self._scan_ints(self.keys.balances)

    async def pending(self) -> dict[str, int]:
        return await self._scan_ints(self.keys.payout_pending)

    async def paid(self) -> dict[str, int]:
        return await self._scan_ints(self.keys.paid)

    async def fees_charged(self) -> dict[str, int]:
        return await self._scan_ints(self.keys.payout_fees)

    async def totals(self) -> PayoutTotals:
        return PayoutTotals.from_fields(replies.fields(await self._redis.hgetall(self.keys.payout_totals)))

    async def thresholds(self, accounts: Sequence[str]) -> dict[str, int]:
        """The miners' own payout thresholds, for those accounts that set one (unclamped)."""
        if not accounts:
            return {}
        values = await self._redis.hmget(self.keys.payout_threshold, list(accounts))
        return {a: replies.integer(v) for a, v in zip(accounts, values, strict=True) if v is not None}

    async def set_threshold(self, account: str, threshold: int | None) -> None:
        """A miner's own payout threshold (atomic units); None removes it. The processor clamps it."""
        if threshold is None:
            await self._redis.hdel(self.keys.payout_threshold, account)
            return
        if threshold <= 0:
            raise ValueError(f"a payout threshold must be positive, got {threshold}")
        await self._redis.hset(self.keys.payout_threshold, account, str(threshold))

    async def credited_total(self) -> int:
        """Everything the unlocker ever added to balances (the `ledger` hash's credited_total)."""
        value = await self._redis.hget(self.keys.ledger, CREDITED_TOTAL)
        return 0 if value is None else replies.integer(value)

    async def credited_by_account(self) -> dict[str, int]:
        """Credits per account, summed over every matured block's payout proof (`block-credits:*`)."""
        totals: dict[str, int] = {}
        members = [replies.text(m) for m in await self._redis.zrange(self.keys.blocks_matured, 0, -1)]
        pipe = self._redis.pipeline(transaction=False)
        for member in members:
            pipe.hgetall(self.keys.block_credits(*parse_block_member(member)))
        for raw in await pipe.execute():
            for account, amount in replies.fields(raw).items():
                totals[account] = totals.get(account, 0) + int(amount)
        return totals

    # -- histories ---------------------------------------------------------------------------------------

    async def pool_payments(self, limit: int = 100) -> list[PaymentEntry]:
        return await self._history(self.keys.payments_all, limit)

    async def miner_payments(self, account: str, limit: int = 100) -> list[PaymentEntry]:
        return await self._history(self.keys.payments_miner(account), limit)

    async def _history(self, key: str, limit: int) -> list[PaymentEntry]:
        pairs = await self._redis.zrevrange(key, 0, max(0, limit - 1), withscores=True)
        return [PaymentEntry(time_ms, json.loads(m)) for m, time_ms in replies.scored_members(pairs).items()]

    # -- helpers -----------------------------------------------------------------------------------------

    async def _scan_ints(self, key: str) -> dict[str, int]:
        return {name: int(value) for name, value in (await self._scan_text(key)).items()}

    async def _scan_text(self, key: str) -> dict[str, str]:
        result: dict[str, str] = {}
        async for name, value in self._redis.hscan_iter(key, count=_SCAN_PAGE):
            result[replies.text(name)] = replies.text(value)
        return result


def _pool_entry(record: BatchRecord) -> str:
    entry = {"batch": record.batch_id, "tx": record.tx_hash, "amount": record.total_net,
             "fee": record.real_fee, "payees": len(record.items)}  # fmt: skip
    return json.dumps(entry, separators=(",", ":"))


def _miner_entry(record: BatchRecord, item: BatchItem) -> str:
    entry = {"batch": record.batch_id, "tx": record.tx_hash, "amount": item.net, "charge": item.charge}
    return json.dumps(entry, separators=(",", ":"))


def _flatten(fields: Mapping[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def _outcome(raw: object) -> tuple[int, str]:
    code, detail = replies.pair(raw)
    return replies.integer(code), replies.text(detail)


def _raise_for(code: int, detail: str, batch_id: str, allowed: Iterable[BatchState]) -> None:
    if code == _OK:
        return
    if code == _LEASE:
        raise LeaseLostError("the payment lease expired or was taken by another processor")
    if code == _EXISTS:
        raise PaymentStoreError(f"batch {batch_id} already exists")
    if code in (_MISSING, _WRONG_STATE):
        raise BatchStateError(batch_id, detail, allowed)
    raise PaymentStoreError(f"batch {batch_id}: unexpected script answer {code} {detail!r}")


def _optional_int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None
