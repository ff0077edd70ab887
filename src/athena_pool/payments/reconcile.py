"""Did the wallet send a batch whose wallet call never came back? Decided from the wallet's own history.

A batch in `submitting` recorded, before the call, its payees and amounts, its payment id, its marker (on
wallets that carry one) and the wallet's height. Looking at the wallet's outgoing transfers from that height
on, excluding those another batch already owns:

- exactly one transfer has the batch's destinations and amounts (and payment id, and marker): it was sent;
- the wallet is synced, `absence_confirmations` blocks past the recorded height, and nothing matches: it
  was not sent (a call still in flight would have shown up by then), so the batch may be released;
- several transfers match, the match failed, or a transfer with unknown destinations appeared: nobody can
  tell from here, an operator must decide (funds stay reserved meanwhile);
- otherwise it is too early to tell: wait and look again next pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from athena_pool.rpc.wallet import OutgoingTransfer, WalletSync, extra_has_marker
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


def history_start(batch: BatchRecord) -> int:
    """The first height to read the wallet's history from. One block of margin: the height was read just
    before the call, and a block may have arrived in between."""
    return max(0, (batch.start_height or 0) - 1)


def reconcile(
    batch: BatchRecord,
    transfers: Sequence[OutgoingTransfer],
    owners: Mapping[str, str],
    sync: WalletSync,
    absence_confirmations: int,
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
    unknown = [t.tx_hash for t in free if not t.destinations_known]
    if unknown:
        return Uncertain(f"the wallet sent {', '.join(unknown)} to destinations it does not know")
    if not sync.synced:
        return TooEarly("the wallet is still catching up with its daemon")
    start = batch.start_height or 0
    wanted = start + absence_confirmations
    if sync.height < wanted:
        return TooEarly(
            f"no matching transfer yet; proof of absence at wallet height {wanted}, now {sync.height}"
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
