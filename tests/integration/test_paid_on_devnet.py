"""Mined, unlocked, paid: the whole money path on the devnet, through the pool's own roles.

The demo miner finds blocks through the pool; the unlocker credits them once they are 4 blocks deep; the
payment processor pays the miner from the devnet wallet. The devnet wallet's own journal must then show
exactly the amounts the pool recorded as paid, and the ledger must balance to the atomic unit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from integration_support import wait_for
from test_pool_on_devnet import devnet_config

from athena_pool.payments.ledger import check_ledger
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.storage.payment_store import PaymentStore
from athena_pool.supervisor import run_pool
from athena_pool.unlocker import UnlockerSettings


async def test_a_miner_is_paid_exactly_what_it_earned(tmp_path: Path) -> None:
    config = replace(
        devnet_config(tmp_path / "data"),
        unlocker=UnlockerSettings(interval=1.0, scheme="prop", pool_fee_percent=1),
        # The devnet wallet enforces Athena's minimum fee (10000 atomic units) and mixin 3.
        payments=PaymentSettings(
            enabled=True, interval=1.0, min_payout=1000, fee=10_000, wallet=WalletSettings(dialect="walletd")
        ),
    )
    async with run_pool(config) as pool:
        assert pool.miner is not None and pool.backends.devnet is not None
        miner_address = pool.miner.options.user
        payments = PaymentStore(pool.backends.redis, pool.coin.name)

        async def miner_paid() -> bool:
            return (await payments.paid()).get(miner_address, 0) > 0

        await wait_for(miner_paid, 150, "the demo miner's first payment")
        pool.miner.stop()

        async def no_batch_in_flight() -> bool:
            return not await payments.open_batches()

        await wait_for(no_batch_in_flight, 30, "payment batches to settle")
        paid = (await payments.paid())[miner_address]
        sent_to_miner = sum(
            transfer.amount
            for sent in pool.backends.devnet.ledger.sent
            for transfer in sent.transfers
            if transfer.address == miner_address
        )
        ledger = await check_ledger(payments)

    # Every payment the pool recorded left the wallet, and nothing else did.
    assert sent_to_miner == paid > 0
    assert ledger.ok, ledger.problems
