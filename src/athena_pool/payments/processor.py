"""The payment processor: pays due balances through the pool wallet, exactly once, whatever happens.

Every batch (one wallet transaction) goes through a durable state machine in Redis, each step written
before the next action (see `storage/payment_store.py` and `lua/pay_*.lua`):

    reserved ──> submitting ──> submitted ──> finalized
       │             │  │
       │             │  └──> manual_review   (cannot tell whether the wallet sent it: funds stay reserved)
       └──> released <── retryable           (the wallet provably did not send it)

- `reserved`: the payees' amounts left their balances for the batch's pending amounts, in one script.
- `submitting` is written BEFORE the wallet call, with the wallet's height: from then on the batch may have
  been sent, and only the wallet's own history can say (`reconcile.py`).
- `submitted`: the transaction is known (its hash is claimed for this batch alone); `finalized`: paid
  totals and histories written.

Each pass first settles every open batch (a previous pass may have stopped anywhere): `reserved` and
`retryable` ones are released (the wallet was never called, or refused), `submitted` ones finalized,
`submitting` ones reconciled. While one of them cannot be settled yet, no new payment starts. Then the
due balances are planned (`planner.py`) and paid batch by batch, each checked first against the wallet's
unlocked balance as it is then (the change of the previous batch may be locked): a shortfall waits and is
reported. A lease in Redis, checked by every script and renewed around every long wallet call, keeps a
second processor from interfering.

A transaction the wallet refuses as too large (too many outputs or inputs) is given back like any refusal,
and from then on this processor plans at most half as many payees per transaction (down to one), so the
next pass pays the same payees in smaller transactions instead of retrying the same one forever.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from redis.exceptions import RedisError

from athena_pool.aio import wait_event
from athena_pool.coins.profiles import Coin
from athena_pool.payments.accounts import parse_account
from athena_pool.payments.planner import PayoutRules, PlannedBatch, due_payouts, plan_batches, shortfall
from athena_pool.payments.reconcile import (
    AbsenceRule,
    NotSent,
    Sent,
    TooEarly,
    Uncertain,
    Verdict,
    history_start,
    reconcile,
)
from athena_pool.payments.report import PaidBatch, PassReport
from athena_pool.payments.settings import PaymentSettings
from athena_pool.rpc.errors import RpcFailure
from athena_pool.rpc.wallet import MARKER_BYTES, Destination, WalletClient, WalletSync
from athena_pool.storage.payment_store import (
    BatchRecord,
    BatchState,
    LeaseLostError,
    NewBatch,
    PaymentStore,
    PaymentStoreError,
    TxClaimedError,
)

log = logging.getLogger(__name__)

StepHook = Callable[[str, str], Awaitable[None]]
"""Called after each durable step with (step, batch id); tests use it to stop the process right there."""


async def _no_hook(step: str, batch_id: str) -> None:
    return None


def _new_token() -> str:
    return secrets.token_hex(16)


class PaymentProcessor:
    def __init__(
        self,
        store: PaymentStore,
        wallet: WalletClient,
        coin: Coin,
        settings: PaymentSettings,
        *,
        clock: Callable[[], float] = time.time,
        on_step: StepHook = _no_hook,
        new_token: Callable[[], str] = _new_token,
    ) -> None:
        if wallet.dialect == "walletd" and settings.fee <= 0:
            raise ValueError("walletd needs a transaction fee: set payments.fee (atomic units)")
        self.store = store
        self.wallet = wallet
        self.coin = coin
        self.settings = settings
        self.rules = PayoutRules.from_settings(settings, coin.atomic_units_per_coin)
        self._clock = clock
        self._on_step = on_step
        self._new_token = new_token
        self.last_report: PassReport | None = None

    async def run_forever(self, stop: asyncio.Event) -> None:
        """A pass every `settings.interval` seconds until `stop` is set. A failing pass is logged and the
        next one retries: every state it left behind is durable."""
        while not stop.is_set():
            report = await self.run_once()
            log.log(logging.WARNING if report.error else logging.INFO, "payments: %s", report.summary())
            await wait_event(stop, self.settings.interval)

    def halve_batches(self, payees: int) -> None:
        """The wallet refused a transaction of `payees` payees as too large: plan at most half as many per
        transaction from now on (at least one)."""
        limit = max(1, payees // 2)
        if limit >= self.rules.max_addresses:
            return
        self.rules = replace(self.rules, max_addresses=limit)
        log.warning("payments: the wallet refused a transaction of %d payees as too large; at most %d "
                    "payees per transaction from now on", payees, limit)  # fmt: skip

    async def run_once(self) -> PassReport:
        report = PassReport(started_ms=self._now_ms())
        token = self._new_token()
        try:
            if not await self.store.acquire_lease(token, self._lease_ms):
                report.skipped = "another payment processor holds the lease"
                return report
            try:
                run = _Pass(
                    self, token, report, lease_ms=self._lease_ms, clock=self._clock, on_step=self._on_step
                )
                await run.run()
            finally:
                await self.store.release_lease(token)
        except (RpcFailure, RedisError, OSError, PaymentStoreError) as exc:
            report.error = f"{type(exc).__name__}: {exc}"
        self.last_report = report
        return report

    @property
    def _lease_ms(self) -> int:
        return int(self.settings.lease_time * 1000)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


class _Pass:
    """One pass under one lease token."""

    def __init__(
        self,
        processor: PaymentProcessor,
        token: str,
        report: PassReport,
        *,
        lease_ms: int,
        clock: Callable[[], float],
        on_step: StepHook,
    ) -> None:
        self.processor = processor
        self.store = processor.store
        self.wallet = processor.wallet
        self.coin = processor.coin
        self.settings = processor.settings
        self.absence = AbsenceRule(
            confirmations=processor.settings.absence_confirmations,
            wait_ms=int(processor.settings.absence_wait * 1000),
        )
        self.token = token
        self.report = report
        self._lease_ms = lease_ms
        self._clock = clock
        self._on_step = on_step

    async def run(self) -> None:
        await self.settle_open_batches()
        if not self.report.blocked:
            await self.pay_due_balances()

    # -- settling what a previous pass left ----------------------------------------------------------------

    async def settle_open_batches(self) -> None:
        for batch in await self.store.open_batches():
            await self.renew()
            await self.settle(batch)

    async def settle(self, batch: BatchRecord) -> None:
        if batch.state is BatchState.RESERVED:
            await self.release(batch.batch_id, "stopped before the wallet was called", BatchState.RESERVED)
        elif batch.state is BatchState.RETRYABLE:
            await self.release(batch.batch_id, batch.reason, BatchState.RETRYABLE)
        elif batch.state is BatchState.SUBMITTED:
            await self.finalize(batch.batch_id, batch.found_by or "reply")
        elif batch.state is BatchState.SUBMITTING:
            await self.reconcile(batch)
        elif batch.state is BatchState.MANUAL_REVIEW:
            self.report.manual_review.append(f"{batch.batch_id}: {batch.reason}")

    async def reconcile(self, batch: BatchRecord) -> Verdict:
        sync = await self.sync()
        transfers = await self.wallet.get_outgoing_transfers(history_start(batch))
        owners = await self.store.tx_owners([t.tx_hash for t in transfers])
        verdict = reconcile(batch, transfers, owners, sync, self.absence, self.now_ms())
        if isinstance(verdict, Sent):
            await self.record_sent(batch.batch_id, verdict.transfer.tx_hash, verdict.transfer.fee,
                                   "reconciliation")  # fmt: skip
        elif isinstance(verdict, NotSent):
            await self.give_back_unsent(batch.batch_id, f"not sent: {verdict.reason}")
        elif isinstance(verdict, Uncertain):
            await self.store.mark_manual_review(self.token, batch.batch_id, reason=verdict.reason,
                                                now_ms=self.now_ms())  # fmt: skip
            await self.step("manual_review", batch.batch_id)
            log.error("payments: batch %s needs an operator: %s", batch.batch_id, verdict.reason)
            self.report.manual_review.append(f"{batch.batch_id}: {verdict.reason}")
        elif isinstance(verdict, TooEarly):
            self.report.unresolved.append(f"{batch.batch_id}: {verdict.reason}")
        return verdict

    # -- paying --------------------------------------------------------------------------------------------

    async def pay_due_balances(self) -> None:
        batches = await self.plan()
        if not batches:
            return
        if not (await self.sync()).synced:
            self.report.batches_waiting = len(batches)
            self.report.error = "the wallet is not synced with its daemon"
            return
        for index, planned in enumerate(batches):
            # Read before every batch, not once: the previous batch's change may be locked now. Later
            # batches wait with a short one, so small payouts never overtake a large one forever.
            missing = shortfall(planned, (await self.wallet.get_balance()).unlocked)
            if missing or not await self.pay(planned):
                self.report.waiting_for_funds = missing
                self.report.batches_waiting = len(batches) - index - (0 if missing else 1)
                return

    async def plan(self) -> list[PlannedBatch]:
        balances = await self.store.balances()
        thresholds = await self.store.thresholds(sorted(balances))
        busy = (await self.store.pending()).keys()
        rules = self.processor.rules
        due, unpayable = due_payouts(balances, thresholds, busy, rules,
                                     lambda account: parse_account(account, self.coin))  # fmt: skip
        self.report.unpayable.extend(f"{u.account}: {u.reason}" for u in unpayable)
        return plan_batches(due, rules)

    async def pay(self, planned: PlannedBatch) -> bool:
        """Pays one batch. False when the pass must stop: the wallet's answer left the batch's fate open, or
        the transaction was too large and the rest of the pass was planned at that size too."""
        await self.renew()
        batch = self.new_batch(planned)
        short = await self.store.reserve(self.token, batch)
        if short is not None:
            self.report.unpayable.append(f"{short}: balance changed while planning; next pass")
            return True
        await self.step("reserved", batch.batch_id)
        try:
            start_height = (await self.sync()).height
        except RpcFailure:
            await self.release(
                batch.batch_id, "the wallet did not answer before sending", BatchState.RESERVED
            )
            raise
        await self.store.mark_submitting(self.token, batch.batch_id, start_height=start_height,
                                         now_ms=self.now_ms(), attempt=1)  # fmt: skip
        await self.step("submitting", batch.batch_id)
        return await self.submit(batch)

    async def submit(self, batch: NewBatch) -> bool:
        try:
            result = await self.wallet.transfer(
                [Destination(item.address, item.net) for item in batch.items],
                fee=batch.fee,
                payment_id=batch.payment_id,
                mixin=self.settings.mixin,
                unlock_time=self.settings.unlock_time,
                marker=batch.marker,
            )
        except RpcFailure as error:
            return await self.transfer_failed(batch, error)
        await self.step("sent", batch.batch_id)
        await self.record_sent(batch.batch_id, result.tx_hash, result.fee, "reply")
        return True

    async def transfer_failed(self, batch: NewBatch, error: RpcFailure) -> bool:
        batch_id = batch.batch_id
        if self.wallet.too_large(error):
            await self.give_back_unsent(batch_id, f"wallet refused, too large: {error}")
            if len(batch.items) == 1:  # nothing to split: the others are paid meanwhile
                log.error("payments: batch %s: a transaction to one payee is too large: the pool wallet's "
                          "outputs need consolidating", batch_id)  # fmt: skip
                return True
            self.processor.halve_batches(len(batch.items))
            return False  # the rest of this pass was planned at the old size: the next pass re-plans
        if self.wallet.proves_not_sent(error):
            await self.give_back_unsent(batch_id, f"wallet refused: {error}")
            return True
        # No answer, or one that proves nothing: the wallet may have sent it. Its history decides.
        log.warning("payments: batch %s: %s; reconciling with the wallet's history", batch_id, error)
        record = await self.store.get_batch(batch_id)
        if record is None:
            raise PaymentStoreError(f"batch {batch_id} vanished while submitting")
        verdict = await self.reconcile(record)
        return isinstance(verdict, Sent | NotSent)

    # -- durable steps -------------------------------------------------------------------------------------

    async def record_sent(self, batch_id: str, tx_hash: str, fee: int, found_by: str) -> None:
        try:
            await self.store.mark_submitted(self.token, batch_id, tx_hash=tx_hash, real_fee=fee,
                                            now_ms=self.now_ms(), found_by=found_by)  # fmt: skip
        except TxClaimedError as exc:
            await self.store.mark_manual_review(self.token, batch_id, reason=str(exc), now_ms=self.now_ms())
            self.report.manual_review.append(f"{batch_id}: {exc}")
            return
        await self.step("submitted", batch_id)
        await self.finalize(batch_id, found_by)

    async def finalize(self, batch_id: str, found_by: str) -> None:
        record = await self.store.get_batch(batch_id)
        if record is None or record.tx_hash is None:
            raise PaymentStoreError(f"batch {batch_id} vanished or has no transaction")
        await self.store.finalize(self.token, record, now_ms=self.now_ms())
        await self.step("finalized", batch_id)
        self.report.paid.append(PaidBatch(batch_id, record.tx_hash, len(record.items), record.total_net,
                                          found_by))  # fmt: skip
        log.info("payments: batch %s paid %d atomic units to %d payee(s) in %s (%s)", batch_id,
                 record.total_net, len(record.items), record.tx_hash, found_by)  # fmt: skip

    async def give_back_unsent(self, batch_id: str, reason: str) -> None:
        """The wallet provably did not send the batch: retryable, then its amounts go back to the balances."""
        await self.store.mark_retryable(self.token, batch_id, reason=reason, now_ms=self.now_ms())
        await self.step("retryable", batch_id)
        self.report.refused.append(f"{batch_id}: {reason}")
        await self.release(batch_id, reason, BatchState.RETRYABLE)

    async def release(self, batch_id: str, reason: str, state: BatchState) -> None:
        await self.store.release(self.token, batch_id, reason=reason, now_ms=self.now_ms(), allowed=(state,))
        await self.step("released", batch_id)
        self.report.released.append(batch_id)

    # -- helpers -------------------------------------------------------------------------------------------

    def new_batch(self, planned: PlannedBatch) -> NewBatch:
        now = self.now_ms()
        # The marker lets reconciliation tell this transfer from an identical one. The extra of a
        # transaction with a payment id (standalone or from an integrated address) is the wallet's to fill.
        marker = None
        if self.wallet.supports_marker and not planned.carries_payment_id:
            marker = secrets.token_hex(MARKER_BYTES)
        return NewBatch(
            batch_id=f"{now}-{secrets.token_hex(6)}",
            items=planned.items,
            fee=planned.fee,
            created_ms=now,
            payment_id=planned.payment_id,
            marker=marker,
        )

    async def renew(self) -> None:
        await self.store.renew_lease(self.token, self._lease_ms)

    async def sync(self) -> WalletSync:
        """The wallet's sync, the lease renewed around it: on monero-wallet-rpc it is a refresh that may take
        up to `transfer_timeout`, like the transfer that may follow."""
        await self.renew()
        sync = await self.wallet.sync()
        await self.renew()
        return sync

    async def step(self, name: str, batch_id: str) -> None:
        await self._on_step(name, batch_id)

    def now_ms(self) -> int:
        return int(self._clock() * 1000)


__all__ = ["LeaseLostError", "PaymentProcessor", "StepHook"]
