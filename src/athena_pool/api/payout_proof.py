"""Which payments paid a block's credit to an address: a first-in, first-out allocation.

Balances are fungible, so "which transaction paid this block" is a convention. The one used here is the
usual one: payments pay the oldest credits first. It is computed backwards from what is known now, so
truncated histories are fine as long as they reach back to the block: the newest credits, worth the
account's current balance plus what open batches hold, are not paid yet; each payment, newest first,
then covers the credits before those, newest first.

`allocate` is pure: credits and payments in, one `Allocation` per credit out; the amounts always add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credit:
    block: tuple[int, str]  # (height, hash)
    amount: int


@dataclass(frozen=True)
class Payment:
    tx_hash: str
    gross: int  # what left the balance: sent amount plus the fee the miner paid
    time_ms: int


@dataclass
class Allocation:
    unpaid: int = 0  # still in the balance (or reserved by an open batch)
    paid: list[tuple[Payment, int]] = field(default_factory=list)  # (payment, part of this credit)
    unknown: int = 0  # older than the payment history reaches

    def total(self) -> int:
        return self.unpaid + sum(part for _, part in self.paid) + self.unknown


def allocate(credits: Sequence[Credit], payments: Sequence[Payment], unpaid: int) -> list[Allocation]:
    """`credits` and `payments` newest first; `unpaid` = balance + pending. One allocation per credit."""
    allocations = []
    budget = max(unpaid, 0)
    index, left_in_payment = 0, payments[0].gross if payments else 0
    for credit in credits:
        allocation = Allocation()
        remaining = credit.amount
        allocation.unpaid = min(remaining, budget)
        budget -= allocation.unpaid
        remaining -= allocation.unpaid
        while remaining > 0 and index < len(payments):
            part = min(remaining, left_in_payment)
            if part > 0:
                allocation.paid.append((payments[index], part))
            remaining -= part
            left_in_payment -= part
            if left_in_payment == 0:
                index += 1
                left_in_payment = payments[index].gross if index < len(payments) else 0
        allocation.unknown = remaining
        allocations.append(allocation)
    return allocations
