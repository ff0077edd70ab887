"""The reconciliation rules on wallet histories as the wallets report them (records, no wallet needed)."""

from __future__ import annotations

from dataclasses import replace

from athena_pool.payments.reconcile import (
    AbsenceRule,
    NotSent,
    Sent,
    TooEarly,
    Uncertain,
    Verdict,
    belongs_to,
    history_start,
    may_carry,
    reconcile,
)
from athena_pool.rpc.wallet import Destination, OutgoingTransfer, WalletSync, marker_extra
from athena_pool.storage.payment_store import BatchItem, BatchRecord, BatchState

MARKER = "9c" * 16
PID = "ab" * 32
START_MS = 1_000_000
BATCH = BatchRecord(
    batch_id="b1",
    state=BatchState.SUBMITTING,
    items=(BatchItem("alice", "addr-a", 5_000, 100), BatchItem("bob", "addr-b", 7_000)),
    fee=100,
    created_ms=1,
    marker=MARKER,
    start_height=50,
    start_ms=START_MS,
)
PID_BATCH = BatchRecord(
    batch_id="b2",
    state=BatchState.SUBMITTING,
    items=(BatchItem("x.pid", "addr-x", 900),),
    fee=1,
    created_ms=1,
    payment_id=PID,
    start_height=50,
    start_ms=START_MS,
)
SYNCED = WalletSync(height=60, synced=True)
ABSENCE = AbsenceRule(confirmations=3, wait_ms=130_000)  # e.g. a 120 s transfer timeout + a 10 s margin
LATER_MS = START_MS + 130_001  # past the wait


def check(
    batch: BatchRecord,
    transfers: list[OutgoingTransfer],
    owners: dict[str, str] | None = None,
    *,
    sync: WalletSync = SYNCED,
    now_ms: int = LATER_MS,
) -> Verdict:
    return reconcile(batch, transfers, owners or {}, sync, ABSENCE, now_ms)


def transfer(tx: str, *destinations: Destination, extra: str | None = None, **kw: object) -> OutgoingTransfer:
    fields: dict[str, object] = dict(fee=100, payment_id=None, height=51, extra_hex=extra)
    fields.update(kw)
    return OutgoingTransfer(tx, destinations, **fields)  # type: ignore[arg-type]


def rebuilt(tx: str, extra: str, **kw: object) -> OutgoingTransfer:
    """An outgoing transfer as a wallet restored from its keys lists it: the extra (from the chain), no
    destinations."""
    return transfer(tx, extra=extra, destinations_known=False, **kw)


PAYING = (Destination("addr-b", 7_000), Destination("addr-a", 4_900))  # order does not matter
OURS_EXTRA = marker_extra(MARKER)
OTHER_EXTRA = marker_extra("00" * 16)


def test_the_one_matching_transfer_is_the_batch() -> None:
    ours = transfer("t1", *PAYING, extra=OURS_EXTRA)
    other = transfer("t2", Destination("addr-a", 4_900))
    assert check(BATCH, [other, ours]) == Sent(ours)


def test_a_transfer_without_the_batchs_marker_is_someone_elses() -> None:
    lookalike = transfer("t1", *PAYING, extra=OTHER_EXTRA)
    assert isinstance(check(BATCH, [lookalike]), NotSent)
    no_extra_reported = transfer("t1", *PAYING)  # monero reports no extra: amounts alone decide
    assert check(BATCH, [no_extra_reported]) == Sent(no_extra_reported)


def test_a_transfer_owned_by_another_batch_is_not_ours() -> None:
    theirs = transfer("t1", *PAYING)
    assert isinstance(check(BATCH, [theirs], {"t1": "b0"}), NotSent)
    assert check(BATCH, [theirs], {"t1": "b1"}) == Sent(theirs)


def test_absence_needs_a_synced_wallet_past_the_recorded_height() -> None:
    assert isinstance(check(BATCH, [], sync=WalletSync(height=52, synced=True)), TooEarly)
    assert isinstance(check(BATCH, [], sync=WalletSync(height=99, synced=False)), TooEarly)
    assert isinstance(check(BATCH, [], sync=WalletSync(height=53, synced=True)), NotSent)


def test_absence_also_needs_the_transfer_timeout_and_the_margin_to_have_passed() -> None:
    # Blocks can come faster than the transfer call times out (3 TurtleCoin blocks: 90 s < 120 s): the
    # call may still be running, or the wallet still building the transfer after the pool gave up.
    right_after_the_timeout = START_MS + 120_500
    verdict = check(BATCH, [], sync=WalletSync(height=99, synced=True), now_ms=right_after_the_timeout)
    assert isinstance(verdict, TooEarly) and "130 s after the wallet call, 120.5 s so far" in verdict.reason
    assert isinstance(check(BATCH, [], now_ms=START_MS + 130_000), TooEarly)
    assert isinstance(check(BATCH, [], now_ms=START_MS + 130_001), NotSent)
    # A record without start_ms (written before it was recorded) counts from its creation.
    legacy = replace(BATCH, start_ms=None, created_ms=START_MS - 60_000)
    assert isinstance(check(legacy, [], now_ms=START_MS + 70_001), NotSent)


def test_what_cannot_be_told_apart_goes_to_an_operator() -> None:
    twins = [transfer("t1", *PAYING), transfer("t2", *PAYING)]
    assert "2 wallet transfers match" in _reason(check(BATCH, twins))
    failed = transfer("t1", *PAYING, failed=True)
    assert "failed" in _reason(check(BATCH, [failed]))
    blind = transfer("t9", destinations_known=False)
    assert "does not know" in _reason(check(BATCH, [blind]))


def test_a_rebuilt_wallets_transfer_with_the_batchs_marker_is_held_never_released() -> None:
    # walletd reset or rebuilt from its keys: the transaction's extra (with the marker) is on the chain, the
    # payees are not. It is the batch's transaction, sent; with what amounts only the chain can tell.
    ours = rebuilt("t1", OURS_EXTRA)
    for sync, now_ms in ((SYNCED, LATER_MS), (WalletSync(height=51, synced=True), START_MS + 1)):
        assert "carries the batch's marker" in _reason(check(BATCH, [ours], sync=sync, now_ms=now_ms))
    assert belongs_to(BATCH, ours) and may_carry(BATCH, ours)  # an operator may settle it as sent


def test_a_transfer_with_the_batchs_marker_but_other_payees_is_held() -> None:
    odd = transfer("t1", Destination("addr-a", 4_900), extra=OURS_EXTRA)
    assert "carries the batch's marker" in _reason(check(BATCH, [odd]))
    assert not belongs_to(BATCH, odd)


def test_a_rebuilt_wallets_transfer_with_another_marker_is_provably_someone_elses() -> None:
    other = rebuilt("t1", OTHER_EXTRA)
    assert isinstance(check(BATCH, [other]), NotSent)
    assert not may_carry(BATCH, other)
    no_marker_at_all = rebuilt("t2", "01" + "11" * 32)  # a plain transaction: only a public key in the extra
    assert isinstance(check(BATCH, [no_marker_at_all]), NotSent)


def test_unknown_destinations_are_held_unless_the_extra_rules_the_batch_out() -> None:
    no_extra = transfer("t1", destinations_known=False)  # monero after a restore: no extra reported
    assert "does not know" in _reason(check(BATCH, [no_extra]))
    assert "does not know" in _reason(check(PID_BATCH, [no_extra]))
    # A payment-id batch carries no marker: its payment id in the extra is what could make it ours.
    with_our_pid = rebuilt("t2", "022100" + PID, payment_id=PID)
    assert "does not know" in _reason(check(PID_BATCH, [with_our_pid]))
    with_another_pid = rebuilt("t3", "022100" + "cd" * 32, payment_id="cd" * 32)
    assert isinstance(check(PID_BATCH, [with_another_pid]), NotSent)
    without_pid = rebuilt("t4", "01" + "11" * 32)
    assert isinstance(check(PID_BATCH, [without_pid]), NotSent)
    # A batch with neither marker nor payment id (an integrated address, or any monero batch): nothing in
    # the extra can rule it out.
    plain = replace(BATCH, marker=None)
    assert "does not know" in _reason(check(plain, [rebuilt("t5", OTHER_EXTRA)]))


def test_payment_ids_must_agree() -> None:
    right = transfer("t1", Destination("addr-x", 900), payment_id=PID)
    wrong = transfer("t2", Destination("addr-x", 900), payment_id="cd" * 32)
    assert check(PID_BATCH, [wrong, right]) == Sent(right)
    assert history_start(PID_BATCH) == 49


def _reason(verdict: object) -> str:
    assert isinstance(verdict, Uncertain), verdict
    return verdict.reason
