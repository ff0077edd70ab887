"""The payment processor against the devnet wallet (walletd RPC over HTTP) and a real Redis."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from payments_support import (
    ATHENA_FEE,
    Crediter,
    assert_all_closed,
    athena_addresses,
    devnet_received,
    expected_received,
    fund_pool_wallet,
    integrated,
)

from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.runner import RunningDevnet
from athena_pool.devnet.wallet import ReplyLoss
from athena_pool.payments.ledger import check_ledger, check_wallet_transfers
from athena_pool.payments.processor import PaymentProcessor, StepHook
from athena_pool.payments.report import PassReport
from athena_pool.payments.review import ReviewError, resolve_as_not_sent, resolve_as_sent
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.rpc.wallet import Destination, WalletdClient
from athena_pool.storage.payment_store import BatchItem, BatchState, NewBatch, PaymentStore

ATHENA = get_coin("athena")
MIN_PAYOUT = 20_000
A, B, C, D, E = sorted(athena_addresses(5, seed=21))
PID = "5a" * 32


class StopHere(BaseException):
    """Ends a pass right after a durable step, as a crash would (the SIGKILL version is test_crash)."""


def stop_at(wanted: str) -> StepHook:
    async def hook(step: str, batch_id: str) -> None:
        if step == wanted:
            raise StopHere(batch_id)

    return hook


@dataclass
class Bench:
    """What the processor works with: the devnet (chain and pool wallet), walletd's RPC client, the payment
    store, and the crediter that fills balances the way the unlocker does."""

    devnet: RunningDevnet
    walletd: WalletdClient
    store: PaymentStore
    crediter: Crediter

    def processor(self, *, on_step: StepHook | None = None, **overrides: object) -> PaymentProcessor:
        """A processor with the tests' settings, `overrides` on top."""
        values: dict[str, object] = dict(
            enabled=True, min_payout=MIN_PAYOUT, fee=ATHENA_FEE, mixin=3, absence_confirmations=2,
            lease_time=30, wallet=WalletSettings(timeout=5, transfer_timeout=3),
        )  # fmt: skip
        values.update(overrides)
        settings = PaymentSettings(**values)  # type: ignore[arg-type]
        if on_step is None:
            return PaymentProcessor(self.store, self.walletd, ATHENA, settings)
        return PaymentProcessor(self.store, self.walletd, ATHENA, settings, on_step=on_step)

    async def run(self, *, on_step: StepHook | None = None, **overrides: object) -> PassReport:
        """One pass of a fresh processor (arguments as for `processor`)."""
        return await self.processor(on_step=on_step, **overrides).run_once()

    async def fund(self) -> int:
        """A pool block buried deep enough to unlock; returns the wallet's unlocked balance."""
        return await fund_pool_wallet(self.devnet)

    async def credit(self, credits: Mapping[str, int]) -> None:
        await self.crediter.credit(credits)

    def received(self) -> Counter[str]:
        """What each address received from the pool wallet."""
        return devnet_received(self.devnet)

    async def assert_books_balance(self) -> None:
        """The ledger invariant holds, every wallet transfer has its payment record, and every address
        received exactly what the store says was paid to it."""
        check = await check_ledger(self.store)
        assert check.problems == ()
        assert await check_wallet_transfers(self.store, self.walletd) == []
        assert self.received() == expected_received(await self.store.paid())


@pytest.fixture
def bench(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter
) -> Bench:
    return Bench(devnet, walletd, payment_store, crediter)


async def test_due_balances_are_paid_once_and_small_ones_wait(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({A: 50_000, B: 70_001, C: MIN_PAYOUT - 1})
    report = await bench.run(denomination=10)
    assert report.error == "" and len(report.paid) == 1
    assert bench.received() == {A: 50_000, B: 70_000}
    assert await bench.store.balances() == {B: 1, C: MIN_PAYOUT - 1}
    [sent] = bench.devnet.ledger.sent
    assert sent.fee == ATHENA_FEE and sent.extra_hex.startswith("021150")  # the batch's marker
    again = await bench.run()
    assert again.paid == [] and len(bench.devnet.ledger.sent) == 1
    await bench.assert_books_balance()


async def test_batches_follow_max_addresses_and_fees_paid_by_miners(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({address: 30_000 for address in (A, B, C, D, E)})
    report = await bench.run(max_addresses=2, miner_pays_fee=True)
    assert [p.payees for p in report.paid] == [2, 2, 1]
    assert [len(s.transfers) for s in bench.devnet.ledger.sent] == [2, 2, 1]
    assert await bench.store.fees_charged() == {A: 5_000, B: 5_000, C: 5_000, D: 5_000, E: ATHENA_FEE}
    assert bench.received()[E] == 30_000 - ATHENA_FEE
    await bench.assert_books_balance()


async def test_payment_ids_and_integrated_addresses_travel_alone(bench: Bench) -> None:
    await bench.fund()
    exchange = integrated(C, "c0" * 32)
    await bench.credit({A: 30_000, f"{B}.{PID}": 40_000, exchange: 50_000, D: 60_000})
    report = await bench.run()
    assert len(report.paid) == 3
    sent = {tuple(t.address for t in s.transfers): s for s in bench.devnet.ledger.sent}
    assert sent[(A, D)].payment_id == ""
    assert sent[(B,)].payment_id == PID and sent[(B,)].transfers[0].amount == 40_000
    assert sent[(exchange,)].payment_id == "c0" * 32
    assert await bench.store.paid() == {A: 30_000, f"{B}.{PID}": 40_000, exchange: 50_000, D: 60_000}
    await bench.assert_books_balance()


async def test_a_miners_own_threshold_is_honoured(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({A: 30_000, B: 30_000})
    await bench.store.set_threshold(A, 100_000)
    await bench.run()
    assert bench.received() == {B: 30_000}
    await bench.store.set_threshold(A, 25_000)
    await bench.run()
    assert bench.received() == {A: 30_000, B: 30_000}


async def test_a_shortfall_waits_untouched_and_is_reported(bench: Bench) -> None:
    unlocked = await bench.fund()
    await bench.credit({A: 30_000, B: unlocked})  # B alone exceeds the wallet: fee on top
    report = await bench.run(max_addresses=1)
    assert [p.payees for p in report.paid] == [1]
    assert bench.received() == {A: 30_000}
    assert report.batches_waiting == 1
    assert report.waiting_for_funds == unlocked + ATHENA_FEE - (unlocked - 30_000 - ATHENA_FEE)
    assert await bench.store.balances() == {B: unlocked}  # nothing reserved, nothing half-done
    await assert_all_closed(bench.store)

    await bench.fund()
    report = await bench.run(max_addresses=1)
    assert report.waiting_for_funds == 0 and len(report.paid) == 1
    assert bench.received() == {A: 30_000, B: unlocked}
    await bench.assert_books_balance()


async def test_a_wallet_refusal_gives_the_balances_back(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({A: 30_000})
    report = await bench.run(fee=1)  # below Athena's minimum fee: walletd refuses up front
    assert report.paid == [] and len(report.refused) == 1 and "fee is too small" in report.refused[0]
    assert await bench.store.balances() == {A: 30_000}
    [batch] = await bench.store.closed_batches()
    assert batch.state is BatchState.RELEASED and set(batch.state_times) >= {"submitting", "retryable"}
    assert bench.devnet.ledger.sent == ()
    await bench.run()
    assert bench.received() == {A: 30_000}
    await bench.assert_books_balance()


@pytest.mark.parametrize("mode", [ReplyLoss.DROP, ReplyLoss.DELAY])
async def test_a_transfer_whose_reply_is_lost_is_found_and_never_repeated(
    bench: Bench, mode: ReplyLoss
) -> None:
    await bench.fund()
    await bench.credit({A: 30_000, B: 40_000})
    faults = bench.devnet.wallet.faults
    faults.lose_send_replies = 1
    faults.mode = mode
    faults.delay_seconds = 6  # beyond the client's 3 s transfer timeout
    report = await bench.run()
    assert faults.lost_replies == 1
    assert [p.found_by for p in report.paid] == ["reconciliation"]
    for _ in range(3):
        await bench.devnet.network.mine(1)
        await bench.run()
    assert len(bench.devnet.ledger.sent) == 1
    assert bench.received() == {A: 30_000, B: 40_000}
    await bench.assert_books_balance()


async def test_a_batch_stopped_before_the_wallet_call_is_released_once_absence_is_proven(
    bench: Bench,
) -> None:
    await bench.fund()
    await bench.credit({A: 30_000})
    with pytest.raises(StopHere):
        await bench.run(on_step=stop_at("submitting"))
    [batch] = await bench.store.open_batches()
    assert batch.state is BatchState.SUBMITTING and batch.start_height == bench.devnet.chain.height + 1

    report = await bench.run()  # too early to tell: no new payment meanwhile
    assert report.blocked and "proof of absence" in report.unresolved[0]
    assert await bench.store.pending() == {A: 30_000} and bench.devnet.ledger.sent == ()

    await bench.devnet.network.mine(2)
    report = await bench.run()
    assert report.released == [batch.batch_id] and len(report.paid) == 1  # released, then paid afresh
    assert bench.received() == {A: 30_000}
    await bench.assert_books_balance()


@pytest.mark.parametrize("step", ["reserved", "sent", "submitted"])
async def test_a_pass_stopped_after_any_step_is_settled_by_the_next(bench: Bench, step: str) -> None:
    await bench.fund()
    await bench.credit({A: 30_000, B: 30_000})
    with pytest.raises(StopHere):
        await bench.run(on_step=stop_at(step))
    report = await bench.run()
    assert report.error == "" and not report.blocked
    assert bench.received() == {A: 30_000, B: 30_000}
    await assert_all_closed(bench.store)
    await bench.assert_books_balance()


async def test_ambiguous_history_goes_to_manual_review_and_an_operator_settles_it(bench: Bench) -> None:
    store, walletd = bench.store, bench.walletd
    await bench.fund()
    account = f"{A}.{PID}"  # payment-id batches carry no marker: only destinations and amounts tell
    await bench.credit({account: 30_000})
    with pytest.raises(StopHere):
        await bench.run(on_step=stop_at("submitting"))
    [held] = await store.open_batches()
    await bench.credit({B: 30_000})
    # Someone sends the very same payment twice by hand: which one is the batch's?
    twins = [
        await walletd.transfer([Destination(A, 30_000)], fee=ATHENA_FEE, payment_id=PID) for _ in range(2)
    ]

    report = await bench.run()
    assert [r.split(":")[0] for r in report.manual_review] == [held.batch_id]
    assert bench.received()[B] == 30_000  # the others are paid meanwhile
    assert await store.pending() == {account: 30_000}  # the held funds stay reserved
    assert (await check_ledger(store)).problems == ()

    with pytest.raises(ReviewError, match="may carry"):
        await resolve_as_not_sent(store, walletd, held.batch_id)
    with pytest.raises(ReviewError, match="no outgoing transfer"):
        await resolve_as_sent(store, walletd, held.batch_id, "00" * 32)
    resolved = await resolve_as_sent(store, walletd, held.batch_id, twins[0].tx_hash)
    assert resolved.state is BatchState.FINALIZED and resolved.found_by == "operator"
    assert (await check_ledger(store)).problems == ()
    assert await check_wallet_transfers(store, walletd, ignore={twins[1].tx_hash}) == []
    assert await check_wallet_transfers(store, walletd) == [
        f"wallet transfer {twins[1].tx_hash} matches no payment record"
    ]


async def test_an_operator_can_release_a_batch_the_wallet_never_sent(bench: Bench) -> None:
    store = bench.store
    await bench.credit({A: 30_000})
    token = "test-lease"
    assert await store.acquire_lease(token, 10_000)
    batch = NewBatch("b1", (BatchItem(A, A, 30_000),), fee=ATHENA_FEE, created_ms=1)
    assert await store.reserve(token, batch) is None
    await store.mark_submitting(token, "b1", start_height=1, now_ms=2, attempt=1)
    await store.mark_manual_review(token, "b1", reason="test", now_ms=3)
    await store.release_lease(token)

    released = await resolve_as_not_sent(store, bench.walletd, "b1")
    assert released.state is BatchState.RELEASED
    assert await store.balances() == {A: 30_000}
    with pytest.raises(ReviewError, match="released, not manual_review"):
        await resolve_as_not_sent(store, bench.walletd, "b1")


async def test_a_second_processor_stays_out_while_the_lease_is_held(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({A: 30_000})
    assert await bench.store.acquire_lease("someone-else", 10_000)
    report = await bench.run()
    assert report.skipped and bench.devnet.ledger.sent == ()
    assert await bench.store.balances() == {A: 30_000}


async def test_unpayable_accounts_are_reported_and_keep_their_balance(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({"not-an-address": 30_000, A: 30_000})
    report = await bench.run()
    assert [u.split(":")[0] for u in report.unpayable] == ["not-an-address"]
    assert bench.received() == {A: 30_000}
    assert await bench.store.balances() == {"not-an-address": 30_000}


async def test_walletd_needs_a_fee(payment_store: PaymentStore, walletd: WalletdClient) -> None:
    with pytest.raises(ValueError, match="needs a transaction fee"):
        PaymentProcessor(payment_store, walletd, ATHENA, PaymentSettings(min_payout=MIN_PAYOUT))
