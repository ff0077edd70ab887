"""Mined, unlocked, paid on a real Monero daemon and real Monero wallets, through the pool's own roles.

monerod --regtest with monero-wallet-rpc: the demo miner finds real rx/0 blocks through the pool, paying the
pool wallet; 60+ more blocks unlock the coinbase for the unlocker and for the pool wallet; the payment
processor pays the miner from the pool wallet; the miner's own wallet, refreshed, must show exactly what the
pool recorded as paid, and the ledger must balance to the atomic unit.

monerod's `generateblocks` hashes RandomX at a few tens of hashes a second, so burying a block 60 deep at the
pool's difficulty would take minutes. The pool mines at fixed difficulty 120 (a block every few seconds, about
ten shares each); then monerod is restarted on the same data and port at fixed difficulty 1, where the 60+
blocks are generated at once. The pool, its unlocker and its processor ride out the restart.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from integration_support import free_loopback_port, wait_for

from athena_pool.config import (
    ConsoleSettings,
    DaemonSettings,
    DemoMinerSettings,
    JobSettings,
    PoolConfig,
    RedisSettings,
)
from athena_pool.payments.ledger import check_ledger, check_wallet_transfers
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.monero_wallet_regtest import MoneroWalletRpc
from athena_pool.rpc.monerod_regtest import REGTEST_ADDRESS, MonerodRegtest, generate_blocks
from athena_pool.storage.payment_store import BatchState, PaymentStore
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.supervisor import run_pool
from athena_pool.unlocker import UnlockerSettings

pytestmark = pytest.mark.skipif(
    shutil.which("monerod") is None or shutil.which("monero-wallet-rpc") is None,
    reason="monerod / monero-wallet-rpc not installed (apt-get install monero)",
)

XMR = 10**12
POOL_DIFFICULTY = 120  # while the pool mines: a block every few seconds of one light-mode RandomX thread
SHARE_DIFFICULTY = 12
BURY_BLOCKS = 80  # Monero's coinbase unlocks after 60; the rest gives the pool wallet's ring members


class KeptMonerod(MonerodRegtest):
    """monerod on the data of an earlier run: a regtest (fakechain) database is wiped at start without
    --keep-fakechain."""

    def command(self) -> list[str]:
        return [*super().command(), "--keep-fakechain"]


@dataclass
class Node:
    """monerod on a fixed data folder and port, restartable at another fixed difficulty."""

    data_dir: Path
    daemon: MonerodRegtest

    @property
    def rpc_url(self) -> str:
        return self.daemon.rpc_url

    def restart(self, fixed_difficulty: int) -> None:
        port = self.daemon.rpc_port
        self.daemon.stop()
        again = KeptMonerod(self.data_dir, fixed_difficulty=fixed_difficulty)
        again.rpc_port, again.rpc_url = port, self.daemon.rpc_url  # the pool and the wallets keep their URL
        again.start()
        self.daemon = again


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    data_dir = tmp_path / "monerod"
    with MonerodRegtest(data_dir, fixed_difficulty=POOL_DIFFICULTY) as daemon:
        running = Node(data_dir, daemon)
        try:
            yield running
        finally:
            running.daemon.stop()


@pytest.fixture
def wallets(node: Node, tmp_path: Path) -> Iterator[MoneroWalletRpc]:
    with MoneroWalletRpc(tmp_path / "wallet-rpc", node.daemon.rpc_port) as rpc:
        yield rpc


def incoming(wallets: MoneroWalletRpc, name: str) -> tuple[dict[str, int], list[str]]:
    """`name`'s confirmed incoming transfers (tx hash -> amount) and its pooled ones' hashes, after a
    refresh."""
    wallets.open_wallet(name)
    wallets.call("refresh")
    transfers = wallets.call("get_transfers", {"in": True, "pool": True})
    confirmed: dict[str, int] = {}
    for transfer in transfers.get("in", []):
        confirmed[transfer["txid"]] = confirmed.get(transfer["txid"], 0) + transfer["amount"]
    return confirmed, [transfer["txid"] for transfer in transfers.get("pool", [])]


async def test_a_miner_is_paid_exactly_what_it_earned_on_monero(
    node: Node, wallets: MoneroWalletRpc, tmp_path: Path
) -> None:
    miner_address = wallets.create_wallet("miner")
    pool_address = wallets.create_wallet("pool")  # left open: the processor's wallet
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "demo-miner.address").write_text(miner_address + "\n")  # the demo miner mines to it
    config = PoolConfig(
        coin="monero",
        pool_address=pool_address,
        data_dir=data_dir,
        daemon=DaemonSettings(url=node.rpc_url),
        redis=RedisSettings(local_port=free_loopback_port()),
        jobs=JobSettings(refresh_interval=0.5),
        stratum=StratumConfig(
            ports=(PortConfig(port=0, difficulty=SHARE_DIFFICULTY, fixed_difficulty=SHARE_DIFFICULTY),)
        ),
        demo_miner=DemoMinerSettings(enabled=True, threads=1, worker="regtest-rig"),
        console=ConsoleSettings(interval=0),
        unlocker=UnlockerSettings(interval=1.0, scheme="prop", pool_fee_percent=Decimal(1)),
        # monero-wallet-rpc picks its own fee: `fee` is the estimate checked against the pool wallet.
        payments=PaymentSettings(
            enabled=True,
            interval=1.0,
            min_payout=XMR // 100,
            fee=10**10,
            absence_confirmations=2,
            lease_time=600,
            wallet=WalletSettings(dialect="monero", url=wallets.url, timeout=60, transfer_timeout=240),
        ),
    )
    async with JsonRpcClient(node.rpc_url, timeout=120) as rpc:
        await generate_blocks(rpc, 2)  # a chain past genesis, as a pool would see it

    async with run_pool(config) as pool:
        assert pool.miner is not None and pool.miner.options.user == miner_address
        payments = PaymentStore(pool.backends.redis, pool.coin.name)

        async def block_found() -> bool:
            return len(await pool.store.block_candidates()) >= 1

        await wait_for(block_found, 60, "a block found by the pool on monerod regtest")
        pool.miner.stop()
        await pool.recorder.flush(10)

        node.restart(fixed_difficulty=1)
        async with JsonRpcClient(node.rpc_url, timeout=120) as rpc:
            await generate_blocks(rpc, BURY_BLOCKS, REGTEST_ADDRESS)

        async def everything_paid() -> bool:
            # Every block the pool found is settled (credited, or orphaned), nothing is left in the
            # miner's balance, something was paid, and no batch is in flight: nothing more will move.
            unsettled = [b for b in await pool.store.block_candidates() if b.status == "candidate"]
            paid = (await payments.paid()).get(miner_address, 0)
            balance = (await payments.balances()).get(miner_address, 0)
            return not unsettled and paid > 0 and balance == 0 and not await payments.open_batches()

        await wait_for(everything_paid, 60, "the miner's payment from the pool wallet")
        async with JsonRpcClient(node.rpc_url, timeout=120) as rpc:
            await generate_blocks(rpc, 1, REGTEST_ADDRESS)  # confirm it

        async def settled() -> bool:
            return not await payments.open_batches()

        await wait_for(settled, 30, "payment batches to settle")
        paid = await payments.paid()
        batches = await payments.closed_batches()
        ledger = await check_ledger(payments)
        client = config.payments.wallet.create_client()
        try:
            unmatched = await check_wallet_transfers(payments, client)
        finally:
            await client.close()
        assert not pool.failed.is_set()

    # The processor is stopped: the wallet-rpc may open the miner's wallet now.
    confirmed, pooled = incoming(wallets, "miner")
    finalized = {b.tx_hash: b.total_net for b in batches if b.state == BatchState.FINALIZED}
    states = [(b.batch_id, b.state, b.reason) for b in batches]
    assert pooled == [], (pooled, states)
    assert sum(confirmed.values()) == paid[miner_address] > 0, (confirmed, paid, states)
    assert confirmed == finalized, states  # one transaction per paid batch, each of its exact amount
    assert set(paid) == {miner_address}, paid
    assert ledger.ok, ledger.problems
    assert unmatched == []
