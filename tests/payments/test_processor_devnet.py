"""The payment processor against the devnet wallet (walletd RPC over HTTP) and a real Redis."""

from __future__ import annotations

from collections.abc import Callable

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
from athena_pool.payments.review import ReviewError, resolve_as_not_sent, resolve_as_sent
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.rpc.wallet import Destination, WalletdClient
from athena_pool.storage.payment_store import BatchItem, BatchState, NewBatch, PaymentStore

ATHENA = get_coin("athena")
MIN_PAYOUT = 20_000
A, B, C, D, E = sorted(athena_addresses(5, seed=21))
PID = "5a" * 32

ProcessorFactory = Callable[..., PaymentProcessor]


class StopHere(BaseException):
    """Ends a pass right after a durable step, as a crash would (the SIGKILL version is test_crash)."""


def stop_at(wanted: str) -> StepHook:
    async def hook(step: str, batch_id: str) -> None:
        if step == wanted:
            raise StopHere(batch_id)

    return hook


@pytest.fixture
def processor(payment_store: PaymentStore, walletd: WalletdClient) -> ProcessorFactory:
    def build(*, on_step: StepHook | None = None, **overrides: object) -> PaymentProcessor:
        values: dict[str, object] = dict(
            enabled=True, min_payout=MIN_PAYOUT, fee=ATHENA_FEE, mixin=3, absence_confirmations=2,
            lease_time=30, wallet=WalletSettings(timeout=5, transfer_timeout=3),
        )  # fmt: skip
        values.update(overrides)
        settings = PaymentSettings(**values)  # type: ignore[arg-type]
        if on_step is None:
            return PaymentProcessor(payment_store, walletd, ATHENA, settings)
        return PaymentProcessor(payment_store, walletd, ATHENA, settings, on_step=on_step)

    return build


async def assert_books_balance(store: PaymentStore, walletd: WalletdClient, devnet: RunningDevnet) -> None:
    check = await check_ledger(store)
    assert check.problems == ()
    assert await check_wallet_transfers(store, walletd) == []
    assert devnet_received(devnet) == expected_received(await store.paid())


async def test_due_balances_are_paid_once_and_small_ones_wait(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 50_000, B: 70_001, C: MIN_PAYOUT - 1})
    report = await processor(denomination=10).run_once()
    assert report.error == "" and len(report.paid) == 1
    assert devnet_received(devnet) == {A: 50_000, B: 70_000}
    assert await payment_store.balances() == {B: 1, C: MIN_PAYOUT - 1}
    [sent] = devnet.ledger.sent
    assert sent.fee == ATHENA_FEE and sent.extra_hex.startswith("021150")  # the batch's marker
    again = await processor().run_once()
    assert again.paid == [] and len(devnet.ledger.sent) == 1
    await assert_books_balance(payment_store, walletd, devnet)


async def test_batches_follow_max_addresses_and_fees_paid_by_miners(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({address: 30_000 for address in (A, B, C, D, E)})
    report = await processor(max_addresses=2, miner_pays_fee=True).run_once()
    assert [p.payees for p in report.paid] == [2, 2, 1]
    assert [len(s.transfers) for s in devnet.ledger.sent] == [2, 2, 1]
    assert await payment_store.fees_charged() == {A: 5_000, B: 5_000, C: 5_000, D: 5_000, E: ATHENA_FEE}
    assert devnet_received(devnet)[E] == 30_000 - ATHENA_FEE
    await assert_books_balance(payment_store, walletd, devnet)


async def test_payment_ids_and_integrated_addresses_travel_alone(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    exchange = integrated(C, "c0" * 32)
    await crediter.credit({A: 30_000, f"{B}.{PID}": 40_000, exchange: 50_000, D: 60_000})
    report = await processor().run_once()
    assert len(report.paid) == 3
    sent = {tuple(t.address for t in s.transfers): s for s in devnet.ledger.sent}
    assert sent[(A, D)].payment_id == ""
    assert sent[(B,)].payment_id == PID and sent[(B,)].transfers[0].amount == 40_000
    assert sent[(exchange,)].payment_id == "c0" * 32
    assert await payment_store.paid() == {A: 30_000, f"{B}.{PID}": 40_000, exchange: 50_000, D: 60_000}
    await assert_books_balance(payment_store, walletd, devnet)


async def test_a_miners_own_threshold_is_honoured(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000, B: 30_000})
    await payment_store.set_threshold(A, 100_000)
    await processor().run_once()
    assert devnet_received(devnet) == {B: 30_000}
    await payment_store.set_threshold(A, 25_000)
    await processor().run_once()
    assert devnet_received(devnet) == {A: 30_000, B: 30_000}


async def test_a_shortfall_waits_untouched_and_is_reported(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    unlocked = await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000, B: unlocked})  # B alone exceeds the wallet: fee on top
    report = await processor(max_addresses=1).run_once()
    assert [p.payees for p in report.paid] == [1]
    assert devnet_received(devnet) == {A: 30_000}
    assert report.batches_waiting == 1
    assert report.waiting_for_funds == unlocked + ATHENA_FEE - (unlocked - 30_000 - ATHENA_FEE)
    assert await payment_store.balances() == {B: unlocked}  # nothing reserved, nothing half-done
    await assert_all_closed(payment_store)

    await fund_pool_wallet(devnet)
    report = await processor(max_addresses=1).run_once()
    assert report.waiting_for_funds == 0 and len(report.paid) == 1
    assert devnet_received(devnet) == {A: 30_000, B: unlocked}
    await assert_books_balance(payment_store, walletd, devnet)


async def test_a_wallet_refusal_gives_the_balances_back(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000})
    report = await processor(fee=1).run_once()  # below Athena's minimum fee: walletd refuses up front
    assert report.paid == [] and len(report.refused) == 1 and "fee is too small" in report.refused[0]
    assert await payment_store.balances() == {A: 30_000}
    [batch] = await payment_store.closed_batches()
    assert batch.state is BatchState.RELEASED and set(batch.state_times) >= {"submitting", "retryable"}
    assert devnet.ledger.sent == ()
    await processor().run_once()
    assert devnet_received(devnet) == {A: 30_000}
    await assert_books_balance(payment_store, walletd, devnet)


@pytest.mark.parametrize("mode", [ReplyLoss.DROP, ReplyLoss.DELAY])
async def test_a_transfer_whose_reply_is_lost_is_found_and_never_repeated(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory, mode: ReplyLoss,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000, B: 40_000})
    devnet.wallet.faults.lose_send_replies = 1
    devnet.wallet.faults.mode = mode
    devnet.wallet.faults.delay_seconds = 6  # beyond the client's 3 s transfer timeout
    report = await processor().run_once()
    assert devnet.wallet.faults.lost_replies == 1
    assert [p.found_by for p in report.paid] == ["reconciliation"]
    for _ in range(3):
        await devnet.network.mine(1)
        await processor().run_once()
    assert len(devnet.ledger.sent) == 1
    assert devnet_received(devnet) == {A: 30_000, B: 40_000}
    await assert_books_balance(payment_store, walletd, devnet)


async def test_a_batch_stopped_before_the_wallet_call_is_released_once_absence_is_proven(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000})
    with pytest.raises(StopHere):
        await processor(on_step=stop_at("submitting")).run_once()
    [batch] = await payment_store.open_batches()
    assert batch.state is BatchState.SUBMITTING and batch.start_height == devnet.chain.height + 1

    report = await processor().run_once()  # too early to tell: no new payment meanwhile
    assert report.blocked and "proof of absence" in report.unresolved[0]
    assert await payment_store.pending() == {A: 30_000} and devnet.ledger.sent == ()

    await devnet.network.mine(2)
    report = await processor().run_once()
    assert report.released == [batch.batch_id] and len(report.paid) == 1  # released, then paid afresh
    assert devnet_received(devnet) == {A: 30_000}
    await assert_books_balance(payment_store, walletd, devnet)


@pytest.mark.parametrize("step", ["reserved", "sent", "submitted"])
async def test_a_pass_stopped_after_any_step_is_settled_by_the_next(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory, step: str,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000, B: 30_000})
    with pytest.raises(StopHere):
        await processor(on_step=stop_at(step)).run_once()
    report = await processor().run_once()
    assert report.error == "" and not report.blocked
    assert devnet_received(devnet) == {A: 30_000, B: 30_000}
    await assert_all_closed(payment_store)
    await assert_books_balance(payment_store, walletd, devnet)


async def test_ambiguous_history_goes_to_manual_review_and_an_operator_settles_it(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter,
    processor: ProcessorFactory,
) -> None:  # fmt: skip
    await fund_pool_wallet(devnet)
    account = f"{A}.{PID}"  # payment-id batches carry no marker: only destinations and amounts tell
    await crediter.credit({account: 30_000})
    with pytest.raises(StopHere):
        await processor(on_step=stop_at("submitting")).run_once()
    [held] = await payment_store.open_batches()
    await crediter.credit({B: 30_000})
    # Someone sends the very same payment twice by hand: which one is the batch's?
    twins = [
        await walletd.transfer([Destination(A, 30_000)], fee=ATHENA_FEE, payment_id=PID) for _ in range(2)
    ]

    report = await processor().run_once()
    assert [r.split(":")[0] for r in report.manual_review] == [held.batch_id]
    assert devnet_received(devnet)[B] == 30_000  # the others are paid meanwhile
    assert await payment_store.pending() == {account: 30_000}  # the held funds stay reserved
    assert (await check_ledger(payment_store)).problems == ()

    with pytest.raises(ReviewError, match="may carry"):
        await resolve_as_not_sent(payment_store, walletd, held.batch_id)
    with pytest.raises(ReviewError, match="no outgoing transfer"):
        await resolve_as_sent(payment_store, walletd, held.batch_id, "00" * 32)
    resolved = await resolve_as_sent(payment_store, walletd, held.batch_id, twins[0].tx_hash)
    assert resolved.state is BatchState.FINALIZED and resolved.found_by == "operator"
    assert (await check_ledger(payment_store)).problems == ()
    assert await check_wallet_transfers(payment_store, walletd, ignore={twins[1].tx_hash}) == []
    assert await check_wallet_transfers(payment_store, walletd) == [
        f"wallet transfer {twins[1].tx_hash} matches no payment record"
    ]


async def test_an_operator_can_release_a_batch_the_wallet_never_sent(
    devnet: RunningDevnet, walletd: WalletdClient, payment_store: PaymentStore, crediter: Crediter
) -> None:
    await crediter.credit({A: 30_000})
    token = "test-lease"
    assert await payment_store.acquire_lease(token, 10_000)
    batch = NewBatch("b1", (BatchItem(A, A, 30_000),), fee=ATHENA_FEE, created_ms=1)
    assert await payment_store.reserve(token, batch) is None
    await payment_store.mark_submitting(token, "b1", start_height=1, now_ms=2, attempt=1)
    await payment_store.mark_manual_review(token, "b1", reason="test", now_ms=3)
    await payment_store.release_lease(token)

    released = await resolve_as_not_sent(payment_store, walletd, "b1")
    assert released.state is BatchState.RELEASED
    assert await payment_store.balances() == {A: 30_000}
    with pytest.raises(ReviewError, match="released, not manual_review"):
        await resolve_as_not_sent(payment_store, walletd, "b1")


async def test_a_second_processor_stays_out_while_the_lease_is_held(
    devnet: RunningDevnet, payment_store: PaymentStore, crediter: Crediter, processor: ProcessorFactory
) -> None:
    await fund_pool_wallet(devnet)
    await crediter.credit({A: 30_000})
    assert await payment_store.acquire_lease("someone-else", 10_000)
    report = await processor().run_once()
    assert report.skipped and devnet.ledger.sent == ()
    assert await payment_store.balances() == {A: 30_000}


async def test_unpayable_accounts_are_reported_and_keep_their_balance(
    devnet: RunningDevnet, payment_store: PaymentStore, crediter: Crediter, processor: ProcessorFactory
) -> None:
    await fund_pool_wallet(devnet)
    await crediter.credit({"not-an-address": 30_000, A: 30_000})
    report = await processor().run_once()
    assert [u.split(":")[0] for u in report.unpayable] == ["not-an-address"]
    assert devnet_received(devnet) == {A: 30_000}
    assert await payment_store.balances() == {"not-an-address": 30_000}


async def test_walletd_needs_a_fee(payment_store: PaymentStore, walletd: WalletdClient) -> None:
    with pytest.raises(ValueError, match="needs a transaction fee"):
        PaymentProcessor(payment_store, walletd, ATHENA, PaymentSettings(min_payout=MIN_PAYOUT))
