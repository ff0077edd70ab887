"""Crash tests: the payment processor runs as a real process and is SIGKILLed at every step of its work.

Each round credits new balances and starts the processor, which kills itself right after a chosen durable
step (reserved, submitting, sent = the wallet sent but nothing recorded yet, submitted, finalized, released)
or is killed by the test at a random moment. Restarts (some of them killed again) run until the processor
finds nothing left to do, the chain moving on between them so a transfer that never happened can be proven
absent. After every round: the ledger invariant holds to the atomic unit, no batch is left open, every
wallet transfer matches exactly one payment record, and every address received exactly what `paid` says.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

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

from athena_pool.aio import signal_child
from athena_pool.devnet.runner import RunningDevnet
from athena_pool.payments.ledger import check_ledger, check_wallet_transfers
from athena_pool.rpc.wallet import WalletdClient
from athena_pool.storage.payment_store import BatchState, PaymentStore
from redis_support import RedisServer

CHILD = Path(__file__).with_name("payments_crash_child.py")
MIN_PAYOUT = 20_000
ROUNDS_PER_STEP = 4
RANDOM_KILL_ROUNDS = 16
MAX_RESTARTS = 40
KILLED, IDLE, BLOCKED = -signal.SIGKILL, 0, 3
PAY_STEPS = ("reserved", "submitting", "sent", "submitted", "finalized")
SETTLE_STEPS = (*PAY_STEPS, "released")
MINERS = sorted(athena_addresses(8, seed=99))
PAYMENT_ID_ACCOUNT = f"{MINERS[0]}.{'e7' * 32}"
INTEGRATED = integrated(MINERS[1], "f1" * 32)


class CrashHarness:
    def __init__(self, devnet: RunningDevnet, redis_url: str, prefix: str, rng: random.Random) -> None:
        self.devnet = devnet
        self.rng = rng
        self.kills: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()  # batches paid by reply / by reconciliation, released
        self.base_config: dict[str, Any] = {
            "redis_url": redis_url,
            "prefix": prefix,
            "wallet": {"dialect": "walletd", "url": devnet.wallet_url, "rpc_password": devnet.rpc_password,
                       "timeout": 1.0, "transfer_timeout": 1.0},
            "settings": {"enabled": True, "min_payout": MIN_PAYOUT, "fee": ATHENA_FEE, "mixin": 3,
                         "max_addresses": 3, "absence_confirmations": 2, "lease_time": 3.5},
        }  # fmt: skip

    async def run_child(
        self, crash_step: str | None = None, crash_after: int = 1, kill_after: float | None = None
    ) -> int:
        config = dict(self.base_config, crash_step=crash_step, crash_after=crash_after)
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(CHILD), json.dumps(config), stdout=asyncio.subprocess.PIPE
        )
        if kill_after is None:
            output, _ = await child.communicate()
        else:
            output = await _kill_later(child, kill_after)
        code = child.returncode
        assert code in (KILLED, IDLE, BLOCKED), f"child exited with {code}: {output.decode()[-2000:]}"
        self._count_outcomes(output)
        if code == KILLED:
            self.kills[crash_step or "random moment"] += 1
        return code

    async def settle(self) -> None:
        """Restart until a pass finds nothing to do; now and then the restart is killed too."""
        for _ in range(MAX_RESTARTS):
            blocks = self.rng.randint(0, 2)
            if blocks:
                await self.devnet.network.mine(blocks)
            crash_step = self.rng.choice(SETTLE_STEPS) if self.rng.random() < 0.3 else None
            if await self.run_child(crash_step) == IDLE:
                return
        raise AssertionError("the processor never settled")

    def _count_outcomes(self, output: bytes) -> None:
        for line in output.decode().splitlines():
            report = json.loads(line)
            if "ready" in report or "crash" in report:
                continue
            self.outcomes.update(f"paid by {how}" for how in report.get("found_by", []))
            self.outcomes["released"] += len(report.get("released", []))
            assert report.get("manual_review", []) == [], report  # markers make every batch recognisable

    def new_balances(self) -> dict[str, int]:
        payees = self.rng.sample([*MINERS[2:], PAYMENT_ID_ACCOUNT, INTEGRATED], self.rng.randint(2, 6))
        return {account: self.rng.randint(MIN_PAYOUT, 90_000) for account in payees}


async def _kill_later(child: asyncio.subprocess.Process, delay: float) -> bytes:
    """SIGKILL `delay` seconds after the child said it is ready to work (unless it finished first)."""
    assert child.stdout is not None
    ready = await child.stdout.readline()
    # Only wait() is ever cancelled: cancelling communicate() part-way can leave its pipe reader broken.
    output = asyncio.ensure_future(child.stdout.read())
    try:
        await asyncio.wait_for(child.wait(), delay)
    except TimeoutError:
        signal_child(child, signal.SIGKILL)  # unless it has exited in between
        await child.wait()
    return ready + await output


@pytest.fixture
async def harness(
    devnet: RunningDevnet, redis_server: RedisServer, coin_prefix: str, payment_store: PaymentStore
) -> CrashHarness:
    await fund_pool_wallet(devnet, blocks=2)
    return CrashHarness(devnet, redis_server.url, coin_prefix, random.Random(coin_prefix))


async def assert_every_unit_accounted(
    store: PaymentStore, walletd: WalletdClient, devnet: RunningDevnet
) -> None:
    await assert_all_closed(store)
    check = await check_ledger(store)
    assert check.problems == ()
    assert check.pending == 0 and check.accounted == check.credited_total
    assert await check_wallet_transfers(store, walletd) == []
    assert devnet_received(devnet) == expected_received(await store.paid())


@pytest.mark.parametrize("step", PAY_STEPS)
async def test_killed_right_after_each_step(
    step: str, harness: CrashHarness, crediter: Crediter, payment_store: PaymentStore, walletd: WalletdClient,
    devnet: RunningDevnet,
) -> None:  # fmt: skip
    for round_ in range(ROUNDS_PER_STEP):
        await crediter.credit(harness.new_balances())
        # Every round has a first batch, so crash_after=1 always kills; later rounds may hit a second one.
        await harness.run_child(step, crash_after=1 if round_ == 0 else harness.rng.randint(1, 2))
        await harness.settle()
        await assert_every_unit_accounted(payment_store, walletd, devnet)
    assert harness.kills[step] >= 1
    batches = await payment_store.closed_batches(limit=1000)
    if step == "sent":  # the wallet sent, nothing was recorded: only its history could tell
        assert any(b.found_by == "reconciliation" for b in batches)
    if step in ("reserved", "submitting"):  # never sent: given back (after proof of absence), paid afresh
        assert any(b.state is BatchState.RELEASED for b in batches)
    print(f"{step}: kills {dict(harness.kills)}, outcomes {dict(harness.outcomes)}")


async def test_killed_at_random_moments(
    harness: CrashHarness, crediter: Crediter, payment_store: PaymentStore, walletd: WalletdClient,
    devnet: RunningDevnet,
) -> None:  # fmt: skip
    for _ in range(RANDOM_KILL_ROUNDS):
        await crediter.credit(harness.new_balances())
        await harness.run_child(kill_after=harness.rng.uniform(0.0, 0.1))
        await harness.settle()
        await assert_every_unit_accounted(payment_store, walletd, devnet)
    # How many kills landed mid-work depends on timing, so it is reported, not asserted.
    print(f"random: kills {dict(harness.kills)}, outcomes {dict(harness.outcomes)}")
