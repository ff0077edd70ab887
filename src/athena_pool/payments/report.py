"""What one payment pass did and what is waiting: logged by the processor, shown by the API."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaidBatch:
    batch_id: str
    tx_hash: str
    payees: int
    amount: int  # sent, fees excluded
    found_by: str  # "reply" or "reconciliation"


@dataclass
class PassReport:
    started_ms: int
    skipped: str = ""  # why the pass did nothing at all (the lease is held elsewhere)
    paid: list[PaidBatch] = field(default_factory=list)
    released: list[str] = field(default_factory=list)  # batch ids given back to balances
    refused: list[str] = field(default_factory=list)  # "batch: why", provably not sent (refused, absent)
    manual_review: list[str] = field(default_factory=list)  # batch ids waiting for an operator
    unresolved: list[str] = field(default_factory=list)  # "batch: why", submitting, too early to tell
    unpayable: list[str] = field(default_factory=list)  # "account: why", balance kept
    waiting_for_funds: int = 0  # shortfall of the wallet's unlocked balance (atomic units)
    batches_waiting: int = 0  # planned batches left for a later pass (funds, wallet trouble)
    error: str = ""  # what stopped the pass early (wallet or Redis unavailable)

    @property
    def blocked(self) -> bool:
        """New payouts wait while a batch's fate is unknown: the wallet's balance may not be what it seems."""
        return bool(self.unresolved)

    def summary(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        parts = [f"paid {len(self.paid)} transaction(s), {sum(p.amount for p in self.paid)} atomic units"]
        for label, values in (
            ("released", self.released),
            ("refused", self.refused),
            ("manual review", self.manual_review),
            ("unresolved", self.unresolved),
            ("unpayable", self.unpayable),
        ):
            if values:
                parts.append(f"{label}: {'; '.join(values)}")
        if self.waiting_for_funds:
            shortfall = self.waiting_for_funds
            parts.append(f"{self.batches_waiting} batch(es) wait for {shortfall} more unlocked atomic units")
        if self.error:
            parts.append(f"stopped: {self.error}")
        return ", ".join(parts)
