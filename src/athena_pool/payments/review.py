"""An operator's decision on a batch held for manual review (for the admin API).

A batch lands in `manual_review` when its wallet call may or may not have sent it and the wallet's history
cannot tell (several matching transfers, a transfer with unknown destinations, a failed one). Its funds
stay reserved until someone who looked at the wallet (and the chain) decides:

- `resolve_as_sent`: the transaction `tx_hash` carries the batch. The wallet must know it, as an outgoing
  transfer with exactly the batch's destinations and amounts, or (a wallet rebuilt from its keys, which
  no longer knows the destinations) with the batch's marker, owned by no other batch. The batch is then
  finalized like any other.
- `resolve_as_not_sent`: it was never sent. Refused while an unowned transfer in the wallet's history
  may carry the batch (it matches, carries its marker, or goes to unknown destinations and is not
  provably another's). The reserved amounts go back to the balances and are paid again later.

Both take the payment lease for the moment of the decision, so they never race the processor.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from athena_pool.payments.reconcile import belongs_to, history_start, may_carry
from athena_pool.rpc.wallet import WalletClient
from athena_pool.storage.payment_store import BatchRecord, BatchState, PaymentStore

_LEASE_MS = 60_000


class ReviewError(ValueError):
    """The decision cannot be applied; the text says why."""


async def resolve_as_sent(
    store: PaymentStore,
    wallet: WalletClient,
    batch_id: str,
    tx_hash: str,
    *,
    clock: Callable[[], float] = time.time,
) -> BatchRecord:
    async with _lease(store) as token:
        batch = await _held_batch(store, batch_id)
        transfer = await wallet.get_transfer(tx_hash)
        if transfer is None or not belongs_to(batch, transfer):
            raise ReviewError(f"the wallet has no outgoing transfer {tx_hash} matching batch {batch_id}")
        if transfer.failed:
            raise ReviewError(f"transfer {tx_hash} failed: it paid nobody")
        now_ms = int(clock() * 1000)
        await store.mark_submitted(
            token, batch_id, tx_hash=transfer.tx_hash, real_fee=transfer.fee, now_ms=now_ms,
            found_by="operator", allowed=(BatchState.MANUAL_REVIEW,),
        )  # fmt: skip
        record = await _held_batch(store, batch_id, BatchState.SUBMITTED)
        await store.finalize(token, record, now_ms=now_ms)
        return await _held_batch(store, batch_id, BatchState.FINALIZED)


async def resolve_as_not_sent(
    store: PaymentStore,
    wallet: WalletClient,
    batch_id: str,
    *,
    clock: Callable[[], float] = time.time,
) -> BatchRecord:
    async with _lease(store) as token:
        batch = await _held_batch(store, batch_id)
        transfers = await wallet.get_outgoing_transfers(history_start(batch))
        owners = await store.tx_owners([t.tx_hash for t in transfers])
        suspects = [
            t.tx_hash for t in transfers if t.tx_hash not in owners and not t.failed and may_carry(batch, t)
        ]
        if suspects:
            raise ReviewError(f"wallet transfers {', '.join(suspects)} may carry batch {batch_id}")
        await store.release(
            token, batch_id, reason="operator: not sent", now_ms=int(clock() * 1000),
            allowed=(BatchState.MANUAL_REVIEW,),
        )  # fmt: skip
        return await _held_batch(store, batch_id, BatchState.RELEASED)


@asynccontextmanager
async def _lease(store: PaymentStore) -> AsyncIterator[str]:
    token = secrets.token_hex(16)
    if not await store.acquire_lease(token, _LEASE_MS):
        raise ReviewError("the payment processor is working; try again in a moment")
    try:
        yield token
    finally:
        await store.release_lease(token)


async def _held_batch(
    store: PaymentStore, batch_id: str, state: BatchState = BatchState.MANUAL_REVIEW
) -> BatchRecord:
    batch = await store.get_batch(batch_id)
    if batch is None:
        raise ReviewError(f"no payment batch {batch_id}")
    if batch.state is not state:
        raise ReviewError(f"batch {batch_id} is {batch.state}, not {state}")
    return batch
