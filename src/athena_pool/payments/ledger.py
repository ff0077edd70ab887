"""The money invariant, checked from Redis and from the pool wallet's own history.

For every atomic unit the unlocker credited:

    ledger.credited_total = sum(balances) + sum(payout-pending) + sum(paid) + sum(payout-fees)

and the same per account, with the credits summed from the matured blocks' payout proofs. Beside it, each
money hash must agree with the batch records (pending = open batches' gross, paid = finalized batches' net,
fees = finalized batches' charges), and every transaction the wallet sent must match exactly one payment
record, and every paid record its transaction. Used by the tests and by the admin API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from athena_pool.payments.reconcile import belongs_to
from athena_pool.rpc.wallet import WalletClient
from athena_pool.storage.payment_store import BatchRecord, BatchState, PaymentStore, PayoutTotals

_CARRIES_TX = frozenset({BatchState.SUBMITTED, BatchState.FINALIZED})


@dataclass(frozen=True)
class LedgerCheck:
    credited_total: int
    balances: int
    pending: int
    paid: int
    fees_charged: int
    problems: tuple[str, ...]

    @property
    def accounted(self) -> int:
        return self.balances + self.pending + self.paid + self.fees_charged

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Money:
    balances: dict[str, int]
    pending: dict[str, int]
    paid: dict[str, int]
    fees: dict[str, int]

    def of(self, account: str) -> int:
        return sum(part.get(account, 0) for part in (self.balances, self.pending, self.paid, self.fees))

    def accounts(self) -> set[str]:
        return set(self.balances) | set(self.pending) | set(self.paid) | set(self.fees)


async def check_ledger(store: PaymentStore, *, per_account: bool = True) -> LedgerCheck:
    """Every problem found, in words; an empty `problems` means every unit is where it should be."""
    money = _Money(
        await store.balances(), await store.pending(), await store.paid(), await store.fees_charged()
    )
    credited = await store.credited_total()
    batches = await store.batches(await store.all_batch_ids())
    problems = _global_problems(credited, money)
    if per_account:
        problems += _account_problems(await store.credited_by_account(), money)
    problems += _negative_problems(money)
    problems += _batch_sum_problems(batches, money)
    problems += _totals_problems(batches, money, await store.totals())
    problems += _claim_problems(batches, await store.all_tx_claims())
    return LedgerCheck(
        credited_total=credited,
        balances=sum(money.balances.values()),
        pending=sum(money.pending.values()),
        paid=sum(money.paid.values()),
        fees_charged=sum(money.fees.values()),
        problems=tuple(problems),
    )


async def check_wallet_transfers(
    store: PaymentStore,
    wallet: WalletClient,
    *,
    since_height: int = 0,
    ignore: Collection[str] = (),
) -> list[str]:
    """Every outgoing wallet transfer from `since_height` on must match exactly one payment record (`ignore`
    lists hashes an operator sent by hand); from height 0, every paid record must have its transfer."""
    transfers = [t for t in await wallet.get_outgoing_transfers(since_height) if t.tx_hash not in ignore]
    claims = await store.all_tx_claims()
    batches = {b.batch_id: b for b in await store.batches(await store.all_batch_ids())}
    problems = [
        f"the wallet lists transfer {h} {n} times" for h, n in _duplicates(t.tx_hash for t in transfers)
    ]
    for transfer in transfers:
        batch = batches.get(claims.get(transfer.tx_hash, ""))
        if batch is None:
            problems.append(f"wallet transfer {transfer.tx_hash} matches no payment record")
        elif batch.state not in _CARRIES_TX or not belongs_to(batch, transfer):
            problems.append(f"wallet transfer {transfer.tx_hash} does not match its batch {batch.batch_id}")
        elif transfer.failed:
            problems.append(
                f"batch {batch.batch_id} counts as paid but its transfer {transfer.tx_hash} failed"
            )
    if since_height == 0:
        listed = {t.tx_hash for t in transfers}
        problems += [
            f"batch {b.batch_id} is {b.state} with {b.tx_hash}, which the wallet never sent"
            for b in batches.values()
            if b.state in _CARRIES_TX and b.tx_hash not in listed
        ]
    return problems


def _global_problems(credited: int, money: _Money) -> list[str]:
    parts = [sum(p.values()) for p in (money.balances, money.pending, money.paid, money.fees)]
    if credited == sum(parts):
        return []
    return [
        f"credited {credited} != balances {parts[0]} + pending {parts[1]} + paid {parts[2]} + fees {parts[3]}"
    ]


def _account_problems(credited: Mapping[str, int], money: _Money) -> list[str]:
    return [
        f"account {account}: credited {credited.get(account, 0)} != accounted {money.of(account)}"
        for account in sorted(set(credited) | money.accounts())
        if credited.get(account, 0) != money.of(account)
    ]


def _negative_problems(money: _Money) -> list[str]:
    named = {"balance": money.balances, "pending": money.pending, "paid": money.paid, "fees": money.fees}
    return [
        f"{name} of {account} is negative: {value}"
        for name, values in named.items()
        for account, value in values.items()
        if value < 0
    ]


def _batch_sum_problems(batches: Iterable[BatchRecord], money: _Money) -> list[str]:
    pending: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    fees: Counter[str] = Counter()
    for batch in batches:
        for item in batch.items:
            if batch.is_open:
                pending[item.account] += item.gross
            elif batch.state is BatchState.FINALIZED:
                paid[item.account] += item.net
                fees[item.account] += item.charge
    return (
        _differences("pending", money.pending, pending)
        + _differences("paid", money.paid, paid)
        + _differences("fees", money.fees, fees)
    )


def _totals_problems(batches: Iterable[BatchRecord], money: _Money, totals: PayoutTotals) -> list[str]:
    finalized = [b for b in batches if b.state is BatchState.FINALIZED]
    expected = {
        "paid": sum(money.paid.values()),
        "fees_charged": sum(money.fees.values()),
        "network_fees": sum(b.real_fee or 0 for b in finalized),
        "transactions": len(finalized),
    }
    return [
        f"payout-totals {name} is {getattr(totals, name)}, the records say {value}"
        for name, value in expected.items()
        if getattr(totals, name) != value
    ]


def _claim_problems(batches: Iterable[BatchRecord], claims: Mapping[str, str]) -> list[str]:
    problems = []
    carrying = [b for b in batches if b.state in _CARRIES_TX]
    for hash_, count in _duplicates(b.tx_hash or "" for b in carrying):
        problems.append(f"transaction {hash_} is recorded by {count} batches")
    for batch in carrying:
        if batch.tx_hash is None or claims.get(batch.tx_hash) != batch.batch_id:
            problems.append(
                f"batch {batch.batch_id} ({batch.state}) does not own its transaction {batch.tx_hash}"
            )
    carried = {b.tx_hash: b.batch_id for b in carrying}
    for tx_hash, owner in claims.items():
        if carried.get(tx_hash) != owner:
            problems.append(f"transaction {tx_hash} is claimed by batch {owner}, which does not record it")
    return problems


def _differences(name: str, stored: Mapping[str, int], expected: Mapping[str, int]) -> list[str]:
    return [
        f"{name} of {account} is {stored.get(account, 0)}, the batch records say {expected.get(account, 0)}"
        for account in sorted(set(stored) | set(expected))
        if stored.get(account, 0) != expected.get(account, 0)
    ]


def _duplicates(values: Iterable[str]) -> list[tuple[str, int]]:
    return [(value, count) for value, count in Counter(values).items() if count > 1]
