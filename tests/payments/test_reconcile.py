"""The reconciliation rules on wallet histories as the wallets report them (records, no wallet needed)."""

from __future__ import annotations

from athena_pool.payments.reconcile import NotSent, Sent, TooEarly, Uncertain, history_start, reconcile
from athena_pool.rpc.wallet import Destination, OutgoingTransfer, WalletSync, marker_extra
from athena_pool.storage.payment_store import BatchItem, BatchRecord, BatchState

MARKER = "9c" * 16
BATCH = BatchRecord(
    batch_id="b1",
    state=BatchState.SUBMITTING,
    items=(BatchItem("alice", "addr-a", 5_000, 100), BatchItem("bob", "addr-b", 7_000)),
    fee=100,
    created_ms=1,
    marker=MARKER,
    start_height=50,
)
SYNCED = WalletSync(height=60, synced=True)


def transfer(tx: str, *destinations: Destination, extra: str | None = None, **kw: object) -> OutgoingTransfer:
    fields: dict[str, object] = dict(fee=100, payment_id=None, height=51, extra_hex=extra)
    fields.update(kw)
    return OutgoingTransfer(tx, destinations, **fields)  # type: ignore[arg-type]


PAYING = (Destination("addr-b", 7_000), Destination("addr-a", 4_900))  # order does not matter


def test_the_one_matching_transfer_is_the_batch() -> None:
    ours = transfer("t1", *PAYING, extra=marker_extra(MARKER))
    other = transfer("t2", Destination("addr-a", 4_900))
    assert reconcile(BATCH, [other, ours], {}, SYNCED, 3) == Sent(ours)


def test_a_transfer_without_the_batchs_marker_is_someone_elses() -> None:
    lookalike = transfer("t1", *PAYING, extra=marker_extra("00" * 16))
    assert isinstance(reconcile(BATCH, [lookalike], {}, SYNCED, 3), NotSent)
    no_extra_reported = transfer("t1", *PAYING)  # monero reports no extra: amounts alone decide
    assert reconcile(BATCH, [no_extra_reported], {}, SYNCED, 3) == Sent(no_extra_reported)


def test_a_transfer_owned_by_another_batch_is_not_ours() -> None:
    theirs = transfer("t1", *PAYING)
    assert isinstance(reconcile(BATCH, [theirs], {"t1": "b0"}, SYNCED, 3), NotSent)
    assert reconcile(BATCH, [theirs], {"t1": "b1"}, SYNCED, 3) == Sent(theirs)


def test_absence_needs_a_synced_wallet_past_the_recorded_height() -> None:
    assert isinstance(reconcile(BATCH, [], {}, WalletSync(height=52, synced=True), 3), TooEarly)
    assert isinstance(reconcile(BATCH, [], {}, WalletSync(height=99, synced=False), 3), TooEarly)
    assert isinstance(reconcile(BATCH, [], {}, WalletSync(height=53, synced=True), 3), NotSent)


def test_what_cannot_be_told_apart_goes_to_an_operator() -> None:
    twins = [transfer("t1", *PAYING), transfer("t2", *PAYING)]
    assert "2 wallet transfers match" in _reason(reconcile(BATCH, twins, {}, SYNCED, 3))
    failed = transfer("t1", *PAYING, failed=True)
    assert "failed" in _reason(reconcile(BATCH, [failed], {}, SYNCED, 3))
    blind = transfer("t9", destinations_known=False)
    assert "does not know" in _reason(reconcile(BATCH, [blind], {}, SYNCED, 3))


def test_payment_ids_must_agree() -> None:
    item = BatchItem("x.pid", "addr-x", 900)
    batch = BatchRecord("b2", BatchState.SUBMITTING, (item,), fee=1, created_ms=1, payment_id="ab" * 32,
                        start_height=5)  # fmt: skip
    right = transfer("t1", Destination("addr-x", 900), payment_id="ab" * 32)
    wrong = transfer("t2", Destination("addr-x", 900), payment_id="cd" * 32)
    assert reconcile(batch, [wrong, right], {}, SYNCED, 3) == Sent(right)
    assert history_start(batch) == 4


def _reason(verdict: object) -> str:
    assert isinstance(verdict, Uncertain), verdict
    return verdict.reason
