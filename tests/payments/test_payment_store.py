"""The payment scripts on a real Redis: atomic money moves, exact big amounts, lease fencing, CAS."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from payments_support import Crediter

from athena_pool.payments.ledger import check_ledger
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.payment_store import (
    BatchItem,
    BatchState,
    BatchStateError,
    LeaseLostError,
    NewBatch,
    PaymentStore,
    PayoutTotals,
    TxClaimedError,
)

TOKEN = "lease-token"
LEASE_MS = 60_000
TX1, TX2 = "aa" * 32, "bb" * 32
BIG = 2**60 + 1  # far past 2^53: a double would round it


def batch(batch_id: str, *items: BatchItem, fee: int = 50) -> NewBatch:
    return NewBatch(batch_id, items, fee=fee, created_ms=1_000, marker="0f" * 16)


@pytest.fixture
async def store(payment_store: PaymentStore) -> PaymentStore:
    assert await payment_store.acquire_lease(TOKEN, LEASE_MS)
    return payment_store


async def pay(store: PaymentStore, batch_id: str, tx_hash: str, *, real_fee: int = 40) -> None:
    await store.mark_submitting(TOKEN, batch_id, start_height=10, now_ms=2_000, attempt=1)
    await store.mark_submitted(
        TOKEN, batch_id, tx_hash=tx_hash, real_fee=real_fee, now_ms=3_000, found_by="reply"
    )
    record = await store.get_batch(batch_id)
    assert record is not None
    await store.finalize(TOKEN, record, now_ms=4_000)


async def assert_ledger_ok(store: PaymentStore) -> None:
    check = await check_ledger(store)
    assert check.problems == ()
    assert check.accounted == check.credited_total


async def test_reserve_submit_finalize_moves_every_unit(store: PaymentStore, crediter: Crediter) -> None:
    await crediter.credit({"alice": 5_000, "bob": 7_000})
    items = (BatchItem("alice", "addr-a", 5_000, 20), BatchItem("bob", "addr-b", 6_000, 30))
    assert await store.reserve(TOKEN, batch("b1", *items)) is None
    assert await store.balances() == {"bob": 1_000}  # alice's field is gone at 0
    assert await store.pending() == {"alice": 5_000, "bob": 6_000}
    await assert_ledger_ok(store)

    await pay(store, "b1", TX1)
    assert await store.pending() == {}
    assert await store.paid() == {"alice": 4_980, "bob": 5_970}
    assert await store.fees_charged() == {"alice": 20, "bob": 30}
    assert await store.totals() == PayoutTotals(paid=10_950, fees_charged=50, network_fees=40, transactions=1)
    assert await store.tx_owners([TX1, TX2]) == {TX1: "b1"}
    [entry] = await store.miner_payments("bob")
    assert entry.time_ms == 4_000
    assert entry.data == {"batch": "b1", "tx": TX1, "amount": 5_970, "charge": 30}
    [pool_entry] = await store.pool_payments()
    assert pool_entry.data == {"batch": "b1", "tx": TX1, "amount": 10_950, "fee": 40, "payees": 2}
    record = await store.get_batch("b1")
    assert record is not None and record.state is BatchState.FINALIZED
    assert set(record.state_times) == {"reserved", "submitting", "submitted", "finalized"}
    assert await store.open_batches() == []
    await assert_ledger_ok(store)


async def test_reserve_is_all_or_nothing(store: PaymentStore, crediter: Crediter) -> None:
    await crediter.credit({"alice": 5_000, "bob": 100})
    items = (BatchItem("alice", "addr-a", 5_000), BatchItem("bob", "addr-b", 101))
    assert await store.reserve(TOKEN, batch("b1", *items)) == "bob"
    assert await store.balances() == {"alice": 5_000, "bob": 100}
    assert await store.get_batch("b1") is None
    assert await store.open_batches() == []


async def test_amounts_past_two_to_the_53_stay_exact(store: PaymentStore, crediter: Crediter) -> None:
    await crediter.credit({"whale": BIG + 2})
    assert await store.reserve(TOKEN, batch("b1", BatchItem("whale", "addr-w", BIG, 1))) is None
    assert await store.balances() == {"whale": 2}
    assert await store.pending() == {"whale": BIG}
    await pay(store, "b1", TX1)
    assert await store.paid() == {"whale": BIG - 1}
    assert (await store.totals()).paid == BIG - 1
    await assert_ledger_ok(store)


async def test_release_gives_the_reservation_back(store: PaymentStore, crediter: Crediter) -> None:
    await crediter.credit({"alice": 5_000})
    await store.reserve(TOKEN, batch("b1", BatchItem("alice", "addr-a", 4_000)))
    await store.mark_submitting(TOKEN, "b1", start_height=10, now_ms=2_000, attempt=1)
    await store.mark_retryable(TOKEN, "b1", reason="wallet refused", now_ms=2_500)
    await store.release(TOKEN, "b1", reason="wallet refused", now_ms=3_000, allowed=(BatchState.RETRYABLE,))
    assert await store.balances() == {"alice": 5_000}
    assert await store.pending() == {}
    record = await store.get_batch("b1")
    assert record is not None and record.state is BatchState.RELEASED and record.reason == "wallet refused"
    await assert_ledger_ok(store)


async def test_states_change_only_from_the_expected_ones(store: PaymentStore, crediter: Crediter) -> None:
    await crediter.credit({"alice": 5_000})
    await store.reserve(TOKEN, batch("b1", BatchItem("alice", "addr-a", 4_000)))
    with pytest.raises(BatchStateError, match="reserved"):
        await store.mark_manual_review(TOKEN, "b1", reason="?", now_ms=1)
    with pytest.raises(BatchStateError):
        await store.mark_submitted(TOKEN, "b1", tx_hash=TX1, real_fee=1, now_ms=1, found_by="reply")
    with pytest.raises(BatchStateError, match="missing"):
        await store.mark_submitting(TOKEN, "nope", start_height=1, now_ms=1, attempt=1)
    await pay(store, "b1", TX1)
    with pytest.raises(BatchStateError):
        await store.release(TOKEN, "b1", reason="no", now_ms=1, allowed=(BatchState.SUBMITTING,))
    assert await store.paid() == {"alice": 4_000}


async def test_a_transaction_belongs_to_one_batch_only(store: PaymentStore, crediter: Crediter) -> None:
    await crediter.credit({"alice": 5_000, "bob": 5_000})
    await store.reserve(TOKEN, batch("b1", BatchItem("alice", "addr-a", 4_000)))
    await store.reserve(TOKEN, batch("b2", BatchItem("bob", "addr-b", 4_000)))
    await pay(store, "b1", TX1)
    await store.mark_submitting(TOKEN, "b2", start_height=10, now_ms=2_000, attempt=1)
    with pytest.raises(TxClaimedError, match="b1"):
        await store.mark_submitted(
            TOKEN, "b2", tx_hash=TX1, real_fee=1, now_ms=3_000, found_by="reconciliation"
        )
    record = await store.get_batch("b2")
    assert record is not None and record.state is BatchState.SUBMITTING


async def test_every_step_is_fenced_by_the_lease(
    payment_store: PaymentStore, crediter: Crediter, redis_client: aioredis.Redis, coin_prefix: str
) -> None:
    store = payment_store
    await crediter.credit({"alice": 5_000})
    assert await store.acquire_lease("first", LEASE_MS)
    assert not await store.acquire_lease("second", LEASE_MS)
    with pytest.raises(LeaseLostError):
        await store.reserve("second", batch("b1", BatchItem("alice", "addr-a", 4_000)))
    assert await store.reserve("first", batch("b1", BatchItem("alice", "addr-a", 4_000))) is None
    await redis_client.delete(KeySpace(coin_prefix).payment_lease)  # the lease expired
    for step in (
        store.mark_submitting("first", "b1", start_height=1, now_ms=1, attempt=1),
        store.renew_lease("first", LEASE_MS),
    ):
        with pytest.raises(LeaseLostError):
            await step
    await store.release_lease("first")  # harmless when not held
    record = await store.get_batch("b1")
    assert record is not None and record.state is BatchState.RESERVED


async def test_thresholds_are_stored_per_account(store: PaymentStore) -> None:
    await store.set_threshold("alice", 12_345)
    assert await store.thresholds(["alice", "bob"]) == {"alice": 12_345}
    await store.set_threshold("alice", None)
    assert await store.thresholds(["alice"]) == {}
    with pytest.raises(ValueError, match="positive"):
        await store.set_threshold("alice", 0)


async def test_the_ledger_check_finds_a_unit_out_of_place(
    store: PaymentStore, crediter: Crediter, redis_client: aioredis.Redis, coin_prefix: str
) -> None:
    await crediter.credit({"alice": 5_000})
    await redis_client.hincrby(KeySpace(coin_prefix).balances, "alice", 1)
    check = await check_ledger(store)
    assert check.accounted == check.credited_total + 1
    assert any("credited 5000 != balances 5001" in problem for problem in check.problems)
    assert any("account alice" in problem for problem in check.problems)
