"""Did the wallet send a batch whose wallet call never came back? Decided from the wallet's own history.

A batch in `submitting` recorded, before the call, its payees and amounts, its payment id, its marker (on
wallets that carry one), the wallet's height and the time of the call. Looking at the wallet's outgoing
transfers from that height on, excluding those another batch already owns:

- exactly one transfer has the batch's destinations and amounts (and payment id, and marker): it was sent;
- a transfer carries the batch's marker but not its destinations (a wallet rebuilt from its keys no longer
  knows where its coins went), several transfers match, the match failed, or a transfer with unknown
  destinations appeared that is not provably someone else's: nobody can tell from here, an operator must
  decide (funds stay reserved meanwhile);
- the wallet is synced, `absence.confirmations` blocks past the recorded height, `absence.wait_ms` past the
  call's start, and nothing matches: it was not sent (a call still in flight, or a transfer the wallet was
  still building after the pool stopped waiting, would have shown up by then), so the batch may be released;
- otherwise it is too early to tell: wait and look again next pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from athena_pool.rpc.wallet import OutgoingTransfer, WalletSync, extra_has_marker, extra_has_payment_id
from athena_pool.storage.payment_store import BatchRecord


@dataclass(frozen=True)
class Sent:
    transfer: OutgoingTransfer


@dataclass(frozen=True)
class NotSent:
    reason: str


@dataclass(frozen=True)
class Uncertain:
    reason: str


@dataclass(frozen=True)
class TooEarly:
    reason: str


Verdict = Sent | NotSent | Uncertain | TooEarly


@dataclass(frozen=True)
class AbsenceRule:
    """When a transfer missing from the wallet's history counts as never sent: the wallet is `confirmations`
    blocks past the height recorded before the call, AND `wait_ms` have passed since the call began. Blocks
    alone are not enough: they may come faster than the transfer call's timeout, and a wallet may still be
    building a transfer after the pool stopped waiting for its reply."""

    confirmations: int
    wait_ms: int


def history_start(batch: BatchRecord) -> int:
    """The first height to read the wallet's history from. One block of margin: the height was read just
    before the call, and a block may have arrived in between."""
    return max(0, (batch.start_height or 0) - 1)


def reconcile(
    batch: BatchRecord,
    transfers: Sequence[OutgoingTransfer],
    owners: Mapping[str, str],
    sync: WalletSync,
    absence: AbsenceRule,
    now_ms: int,
) -> Verdict:
    """`owners` maps the hashes already claimed to their batch; `transfers` start at `history_start`."""
    free = [t for t in transfers if owners.get(t.tx_hash, batch.batch_id) == batch.batch_id]
    matches = [t for t in free if transfer_matches(batch, t)]
    if len(matches) > 1:
        hashes = ", ".join(t.tx_hash for t in matches)
        return Uncertain(f"{len(matches)} wallet transfers match the batch: {hashes}")
    if matches:
        if matches[0].failed:
            return Uncertain(f"the matching transfer {matches[0].tx_hash} failed or was double spent")
        return Sent(matches[0])
    marked = [t.tx_hash for t in free if carries_marker(batch, t)]
    if marked:
        return Uncertain(
            f"wallet transfer {', '.join(marked)} carries the batch's marker but not its payees and amounts "
            "(a wallet restored from its keys no longer knows them): check the chain"
        )
    unknown = [t.tx_hash for t in free if not t.destinations_known and not provably_other(batch, t)]
    if unknown:
        return Uncertain(f"the wallet sent {', '.join(unknown)} to destinations it does not know")
    return _absence(batch, sync, absence, now_ms)


def _absence(batch: BatchRecord, sync: WalletSync, absence: AbsenceRule, now_ms: int) -> Verdict:
    if not sync.synced:
        return TooEarly("the wallet is still catching up with its daemon")
    start = batch.start_height or 0
    wanted = start + absence.confirmations
    if sync.height < wanted:
        return TooEarly(
            f"no matching transfer yet; proof of absence at wallet height {wanted}, now {sync.height}"
        )
    started_ms = batch.start_ms if batch.start_ms is not None else batch.created_ms
    if now_ms - started_ms <= absence.wait_ms:
        return TooEarly(
            f"no matching transfer yet; proof of absence {absence.wait_ms / 1000:g} s after the wallet "
            f"call, {max(0, now_ms - started_ms) / 1000:g} s so far"
        )
    return NotSent(f"no matching transfer in the wallet from height {start} to {sync.height}")


def transfer_matches(batch: BatchRecord, transfer: OutgoingTransfer) -> bool:
    """Same destinations with the same amounts (as a multiset), same payment id, and the batch's marker
    where the wallet reports the transaction's extra."""
    wanted = Counter((item.address, item.net) for item in batch.items)
    if Counter((d.address, d.amount) for d in transfer.destinations) != wanted:
        return False
    if batch.payment_id is not None and transfer.payment_id != batch.payment_id:
        return False
    return not (
        batch.marker
        and transfer.extra_hex is not None
        and not extra_has_marker(transfer.extra_hex, batch.marker)
    )


def carries_marker(batch: BatchRecord, transfer: OutgoingTransfer) -> bool:
    """The transaction's extra holds the batch's marker: nobody but this batch's wallet call put it there."""
    if not batch.marker or transfer.extra_hex is None:
        return False
    return extra_has_marker(transfer.extra_hex, batch.marker)


def provably_other(batch: BatchRecord, transfer: OutgoingTransfer) -> bool:
    """The transfer cannot be the batch's, whatever its destinations: its extra (read from the chain, so
    known even to a rebuilt wallet) lacks the marker or the payment id the batch's transaction carries, or
    the wallet reports another payment id."""
    if batch.payment_id and transfer.payment_id is not None and transfer.payment_id != batch.payment_id:
        return True
    if transfer.extra_hex is None:
        return False
    if batch.marker:
        return not extra_has_marker(transfer.extra_hex, batch.marker)
    if batch.payment_id:
        return not extra_has_payment_id(transfer.extra_hex, batch.payment_id)
    return False


def may_carry(batch: BatchRecord, transfer: OutgoingTransfer) -> bool:
    """The transfer could be the batch's: it matches, carries its marker, or goes nobody knows where and is
    not provably someone else's."""
    return (
        transfer_matches(batch, transfer)
        or carries_marker(batch, transfer)
        or (not transfer.destinations_known and not provably_other(batch, transfer))
    )


def belongs_to(batch: BatchRecord, transfer: OutgoingTransfer) -> bool:
    """The transfer is the batch's as far as the wallet can tell: it matches, or it carries the batch's
    marker and the wallet (rebuilt from its keys) no longer knows the destinations. An operator who checked
    the chain may settle the batch on the latter; reconciliation alone never does."""
    return transfer_matches(batch, transfer) or (
        carries_marker(batch, transfer) and not transfer.destinations_known
    )
