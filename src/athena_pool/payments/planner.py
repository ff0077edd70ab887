"""Which balances are due and how they are grouped into transactions: pure functions over integers.

Nothing here talks to Redis or a wallet; the processor hands in the balances and gets back the batches, so
the rules (thresholds, denomination, limits, fees, payment-id separation) are tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from athena_pool.payments.accounts import Payee
from athena_pool.payments.settings import PaymentSettings
from athena_pool.storage.payment_store import BatchItem

UNBOUNDED = 2**63 - 1  # Redis integers are int64: no amount goes past this


@dataclass(frozen=True)
class PayoutRules:
    min_payout: int
    max_threshold: int
    denomination: int
    max_addresses: int
    max_transaction_amount: int  # 0: no limit
    fee: int
    fee_per_destination: bool
    miner_pays_fee: bool

    def __post_init__(self) -> None:
        if self.miner_pays_fee and self.min_payout <= self.max_charge:
            raise ValueError(
                f"min_payout {self.min_payout} must exceed the fee a miner pays ({self.max_charge})"
            )
        if self.max_transaction_amount and self.max_transaction_amount < self.min_payout:
            raise ValueError("max_transaction_amount must be at least min_payout")

    @classmethod
    def from_settings(cls, settings: PaymentSettings, atomic_units_per_coin: int) -> PayoutRules:
        min_payout = settings.min_payout or atomic_units_per_coin
        return cls(
            min_payout=min_payout,
            max_threshold=settings.max_threshold or UNBOUNDED,
            denomination=settings.denomination,
            max_addresses=settings.max_addresses,
            max_transaction_amount=settings.max_transaction_amount,
            fee=settings.fee,
            fee_per_destination=settings.fee_per_destination,
            miner_pays_fee=settings.miner_pays_fee,
        )

    @property
    def max_charge(self) -> int:
        """The most any one payee can be charged (a lone payee pays the whole fixed fee)."""
        return self.fee if self.miner_pays_fee else 0

    def threshold(self, chosen: int | None) -> int:
        return max(self.min_payout, min(self.max_threshold, chosen or self.min_payout))

    def transaction_fee(self, payees: int) -> int:
        return self.fee * payees if self.fee_per_destination else self.fee

    def charges(self, payees: int) -> list[int]:
        """What each of `payees` pays towards the transaction fee; sums to it exactly (or 0s)."""
        if not self.miner_pays_fee:
            return [0] * payees
        if self.fee_per_destination:
            return [self.fee] * payees
        share, remainder = divmod(self.fee, payees)
        return [share + (1 if i < remainder else 0) for i in range(payees)]


@dataclass(frozen=True)
class DuePayout:
    payee: Payee
    gross: int  # what leaves the balance (the fee charge, if any, comes out of it)


@dataclass(frozen=True)
class PlannedBatch:
    items: tuple[BatchItem, ...]
    fee: int
    payment_id: str | None  # a standalone payment id to attach
    carries_payment_id: bool  # standalone or embedded in an integrated address: the extra holds it

    @property
    def total_net(self) -> int:
        return sum(item.net for item in self.items)

    @property
    def funds_needed(self) -> int:
        """What the wallet must have unlocked to send it: the payouts plus the fee."""
        return self.total_net + self.fee


@dataclass(frozen=True)
class Unpayable:
    account: str
    reason: str


def payout_amount(balance: int, rules: PayoutRules) -> int:
    """The balance rounded down to the denomination and capped per transaction; 0 when nothing fits."""
    amount = balance - balance % rules.denomination
    if rules.max_transaction_amount:
        cap = rules.max_transaction_amount
        amount = min(amount, cap - cap % rules.denomination)
    return amount


def due_payouts(
    balances: Mapping[str, int],
    thresholds: Mapping[str, int],
    busy_accounts: Iterable[str],
    rules: PayoutRules,
    payee_of: Callable[[str], Payee],
) -> tuple[list[DuePayout], list[Unpayable]]:
    """The payouts due now, by account, and the due accounts that cannot be paid (with the reason).

    `busy_accounts` (those with a batch still open) wait for it to close. `payee_of` raises ValueError
    for an account that cannot be paid.
    """
    busy = set(busy_accounts)
    due: list[DuePayout] = []
    unpayable: list[Unpayable] = []
    for account in sorted(balances):
        balance = balances[account]
        if account in busy or balance < rules.threshold(thresholds.get(account)):
            continue
        gross = payout_amount(balance, rules)
        if gross <= rules.max_charge:
            continue
        try:
            due.append(DuePayout(payee_of(account), gross))
        except ValueError as exc:
            unpayable.append(Unpayable(account, str(exc)))
    return due, unpayable


def plan_batches(due: Sequence[DuePayout], rules: PayoutRules) -> list[PlannedBatch]:
    """Shared transactions first (in account order), then one transaction per payment-id payee."""
    shared = [d for d in due if not d.payee.needs_own_transaction]
    alone = [d for d in due if d.payee.needs_own_transaction]
    groups = _group(shared, rules) + [[d] for d in alone]
    return [_batch(group, rules) for group in groups]


def _group(due: Sequence[DuePayout], rules: PayoutRules) -> list[list[DuePayout]]:
    limit = rules.max_transaction_amount or UNBOUNDED
    groups: list[list[DuePayout]] = []
    current: list[DuePayout] = []
    total = 0
    for payout in due:
        if current and (len(current) == rules.max_addresses or total + payout.gross > limit):
            groups.append(current)
            current, total = [], 0
        current.append(payout)
        total += payout.gross
    if current:
        groups.append(current)
    return groups


def _batch(group: Sequence[DuePayout], rules: PayoutRules) -> PlannedBatch:
    charges = rules.charges(len(group))
    items = tuple(
        BatchItem(d.payee.account, d.payee.address, d.gross, charge)
        for d, charge in zip(group, charges, strict=True)
    )
    alone = len(group) == 1 and group[0].payee.needs_own_transaction
    payment_id = group[0].payee.payment_id if alone else None
    return PlannedBatch(items, rules.transaction_fee(len(group)), payment_id, carries_payment_id=alone)


def shortfall(batch: PlannedBatch, unlocked: int) -> int:
    """What the wallet's unlocked balance lacks to send `batch` (0 when it is covered): a payout is never
    started half-funded."""
    return max(0, batch.funds_needed - unlocked)
