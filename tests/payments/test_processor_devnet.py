"""The payment processor against the devnet wallet (walletd RPC over HTTP) and a real Redis."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
from payments_support import (
    ATHENA_FEE,
    Crediter,
    RpcHook,
    ScriptedRpc,
    WalletProxy,
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
from athena_pool.rpc.wallet import (
    Destination,
    WalletClient,
    WalletdClient,
    WalletRpcError,
)
from athena_pool.storage.payment_store import BatchItem, BatchState, NewBatch, PaymentStore

ATHENA = get_coin("athena")
ABSENCE_WAIT = 3 + 5 + 1  # past the tests' transfer timeout and the margin (one wallet.timeout)
MIN_PAYOUT = 20_000
A, B, C, D, E = sorted(athena_addresses(5, seed=21))
PID = "5a" * 32


class StopHere(BaseException):
    """Ends a pass right after a durable step, as a crash would (the SIGKILL version is test_crash)."""


async def _no_step(step: str, batch_id: str) -> None:
    return None


def later(seconds: float) -> Callable[[], float]:
    """A processor's clock `seconds` ahead of the real one: as if the pass ran that much later."""
    return lambda: time.time() + seconds


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

    def processor(
        self,
        *,
        on_step: StepHook | None = None,
        clock: Callable[[], float] = time.time,
        wallet: WalletClient | None = None,
        **overrides: object,
    ) -> PaymentProcessor:
        """A processor with the tests' settings, `overrides` on top; on `wallet`, else `walletd`."""
        values: dict[str, object] = dict(
            enabled=True, min_payout=MIN_PAYOUT, fee=ATHENA_FEE, mixin=3, absence_confirmations=2,
            lease_time=30, wallet=WalletSettings(timeout=5, transfer_timeout=3),
        )  # fmt: skip
        values.update(overrides)
        settings = PaymentSettings(**values)  # type: ignore[arg-type]
        return PaymentProcessor(self.store, wallet or self.walletd, ATHENA, settings, clock=clock,
                                on_step=on_step or _no_step)  # fmt: skip

    async def run(
        self,
        *,
        on_step: StepHook | None = None,
        clock: Callable[[], float] = time.time,
        wallet: WalletClient | None = None,
        **overrides: object,
    ) -> PassReport:
        """One pass of a fresh processor (arguments as for `processor`)."""
        return await self.processor(on_step=on_step, clock=clock, wallet=wallet, **overrides).run_once()

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
    report = await bench.run()  # the blocks are there, but not the time: the call could still be running
    assert report.blocked and "s after the wallet call" in report.unresolved[0]

    report = await bench.run(clock=later(ABSENCE_WAIT))
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


# -- a walletd rebuilt from its keys -------------------------------------------------------------------


async def test_a_batch_sent_by_a_wallet_since_rebuilt_is_held_never_paid_again(
    bench: Bench, rebuilt_view: WalletProxy, rebuilt_walletd: WalletdClient
) -> None:
    """The wallet sends the batch, its reply is lost, and the wallet (reset or rebuilt from its keys) no
    longer knows the payees: its history shows a transaction with the batch's marker going nowhere it
    knows. That is never proof of absence, however many blocks and seconds pass."""
    await bench.fund()
    await bench.credit({A: 30_000, B: 40_000})
    rebuilt_view.drop["sendTransaction"] = 1
    report = await bench.run(wallet=rebuilt_walletd)
    [sent] = bench.devnet.ledger.sent
    [held] = await bench.store.open_batches()
    assert held.state is BatchState.MANUAL_REVIEW and "carries the batch's marker" in held.reason
    assert report.manual_review == [f"{held.batch_id}: {held.reason}"]

    for _ in range(3):
        await bench.devnet.network.mine(2)
        report = await bench.run(wallet=rebuilt_walletd, clock=later(ABSENCE_WAIT))
        assert report.paid == [] and report.released == []
    assert bench.devnet.ledger.sent == (sent,)  # paid once, whatever happens
    assert await bench.store.pending() == {A: 30_000, B: 40_000}  # held, reserved

    with pytest.raises(ReviewError, match="may carry"):
        await resolve_as_not_sent(bench.store, rebuilt_walletd, held.batch_id)
    resolved = await resolve_as_sent(bench.store, rebuilt_walletd, held.batch_id, sent.transaction_hash)
    assert resolved.state is BatchState.FINALIZED and resolved.tx_hash == sent.transaction_hash
    assert await check_wallet_transfers(bench.store, rebuilt_walletd) == []
    await bench.assert_books_balance()


async def test_a_rebuilt_wallets_transfers_that_are_not_the_batchs_do_not_hold_it(
    bench: Bench, rebuilt_walletd: WalletdClient
) -> None:
    """Another transaction the rebuilt wallet cannot place carries no marker of the batch: provably not
    the batch's, so absence is still proven and the batch paid once."""
    await bench.fund()
    await bench.credit({A: 30_000})
    with pytest.raises(StopHere):
        await bench.run(wallet=rebuilt_walletd, on_step=stop_at("submitting"))
    await rebuilt_walletd.transfer([Destination(C, 25_000)], fee=ATHENA_FEE, mixin=3)  # by hand
    await bench.devnet.network.mine(2)
    report = await bench.run(wallet=rebuilt_walletd, clock=later(ABSENCE_WAIT))
    assert len(report.released) == 1 and len(report.paid) == 1 and report.manual_review == []
    assert bench.received() == {A: 30_000, C: 25_000}


# -- wallets that refuse, run slow or run short --------------------------------------------------------


def scripted_walletd(devnet: RunningDevnet, before: RpcHook) -> WalletdClient:
    """The devnet walletd, every call seen first by `before` (see `ScriptedRpc`)."""
    rpc = ScriptedRpc(devnet.wallet_url, before, timeout=5)
    return WalletdClient(rpc, rpc_password=devnet.rpc_password, transfer_timeout=3)


def too_large_above(limit: int, refused: list[int]) -> RpcHook:
    """A transaction to more than `limit` payees is refused as too large (TRANSACTION_SIZE_TOO_BIG, before
    anything is sent): a fault too costly to produce for real (it takes thousands of small inputs)."""

    async def before(method: str, params: Mapping[str, Any]) -> None:
        if method == "sendTransaction" and len(params["transfers"]) > limit:
            refused.append(len(params["transfers"]))
            raise WalletRpcError(-32700, "Transaction size is too big", application_code=8)

    return before


async def test_a_transaction_too_large_is_split_for_the_next_pass(bench: Bench) -> None:
    await bench.fund()
    await bench.credit({address: 30_000 for address in (A, B, C, D, E)})
    refused: list[int] = []
    wallet = scripted_walletd(bench.devnet, too_large_above(2, refused))
    processor = bench.processor(wallet=wallet, max_addresses=5)
    try:
        report = await processor.run_once()
        assert refused == [5] and bench.devnet.ledger.sent == ()
        assert len(report.refused) == 1 and "too large" in report.refused[0]
        assert await bench.store.balances() == {address: 30_000 for address in (A, B, C, D, E)}
        assert processor.rules.max_addresses == 2

        report = await processor.run_once()
        assert [p.payees for p in report.paid] == [2, 2, 1] and refused == [5]
    finally:
        await wallet.close()
    await bench.assert_books_balance()


async def test_a_payee_too_large_alone_is_refused_and_the_others_are_paid(bench: Bench) -> None:
    """A transaction to A alone is still too large (A's payout would take too many small inputs): nothing
    left to split; A is refused each pass, keeps its balance, and holds nobody else up."""
    await bench.fund()
    await bench.credit({A: 30_000, B: 30_000, C: 30_000})
    refused: list[int] = []

    async def too_large_with_a(method: str, params: Mapping[str, Any]) -> None:
        if method == "sendTransaction" and A in [t["address"] for t in params["transfers"]]:
            refused.append(len(params["transfers"]))
            raise WalletRpcError(-32700, "Transaction size is too big", application_code=8)

    wallet = scripted_walletd(bench.devnet, too_large_with_a)
    processor = bench.processor(wallet=wallet, max_addresses=3)
    try:
        assert (await processor.run_once()).paid == [] and processor.rules.max_addresses == 1
        report = await processor.run_once()
        assert len(report.refused) == 1 and [p.payees for p in report.paid] == [1, 1]
        assert len((await processor.run_once()).refused) == 1
    finally:
        await wallet.close()
    assert refused == [3, 1, 1] and processor.rules.max_addresses == 1
    assert bench.received() == {B: 30_000, C: 30_000}
    assert await bench.store.balances() == {A: 30_000}
    await assert_all_closed(bench.store)
    await bench.assert_books_balance()


async def test_the_lease_is_renewed_after_a_long_sync_before_the_transfer(
    bench: Bench, redis_client: aioredis.Redis
) -> None:
    """The wallet's sync uses up all but a second of the lease (as a long monero refresh would): the
    transfer still starts under a freshly renewed lease."""
    await bench.fund()
    await bench.credit({A: 30_000})
    lease = bench.store.keys.payment_lease
    left_at_transfer: list[int] = []

    async def slow_sync(method: str, params: Mapping[str, Any]) -> None:
        if method == "getStatus":
            await redis_client.pexpire(lease, 1_000)
        elif method == "sendTransaction":
            left_at_transfer.append(await redis_client.pttl(lease))

    wallet = scripted_walletd(bench.devnet, slow_sync)
    try:
        report = await bench.run(wallet=wallet, lease_time=30)
    finally:
        await wallet.close()
    assert len(report.paid) == 1 and report.error == ""
    [left] = left_at_transfer
    assert left > 1_000  # renewed to 30 s after the sync, not what the sync left of it


async def test_the_balance_is_read_again_before_each_batch(bench: Bench) -> None:
    """Between two batches the wallet's unlocked balance drops (walletd's change is locked for a while;
    here an operator spends by hand): the next batch waits for funds, it is not sent to be refused."""
    unlocked = await bench.fund()
    await bench.credit({A: 30_000, B: 30_000})
    drained: list[str] = []

    async def spend_after_the_first(step: str, batch_id: str) -> None:
        if step == "finalized" and not drained:
            keep = 30_000 + ATHENA_FEE - 1  # one atomic unit short of B's batch
            spend = unlocked - 30_000 - ATHENA_FEE - keep - ATHENA_FEE
            sent = await bench.walletd.transfer([Destination(C, spend)], fee=ATHENA_FEE, mixin=3)
            drained.append(sent.tx_hash)

    report = await bench.run(on_step=spend_after_the_first, max_addresses=1)
    assert [p.payees for p in report.paid] == [1] and report.refused == []
    assert (report.batches_waiting, report.waiting_for_funds) == (1, 1)
    assert await bench.store.balances() == {B: 30_000}
    await assert_all_closed(bench.store)

    await bench.fund()
    report = await bench.run(max_addresses=1)
    assert [p.payees for p in report.paid] == [1] and report.waiting_for_funds == 0
    assert await check_wallet_transfers(bench.store, bench.walletd, ignore=drained) == []
    assert (await check_ledger(bench.store)).problems == ()
