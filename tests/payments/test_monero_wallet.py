"""Payments through a real monero-wallet-rpc on a real `monerod --regtest`.

The pool wallet mines its own coinbases (generateblocks), 60 more blocks unlock them, the processor pays
two miner wallets (one of them also through an integrated address, in a transaction of its own), and the
miners' wallets, refreshed, show exactly their amounts. A second test loses the wallet's reply to
`transfer` on the way back (the wallet really sent it): reconciliation finds it, and it is never repeated.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from payments_support import Crediter, ScriptedRpc, WalletProxy, assert_all_closed

from athena_pool.coins.profiles import get_coin
from athena_pool.payments.ledger import check_ledger, check_wallet_transfers
from athena_pool.payments.processor import PaymentProcessor
from athena_pool.payments.settings import PaymentSettings, WalletSettings
from athena_pool.rpc.errors import RpcError, RpcUnavailable
from athena_pool.rpc.monero_wallet_regtest import MoneroWalletRpc
from athena_pool.rpc.monerod_regtest import MonerodRegtest
from athena_pool.rpc.wallet import (
    Destination,
    MoneroWalletClient,
    WalletClient,
    create_wallet_client,
)
from athena_pool.storage.payment_store import PaymentStore

MONERO = get_coin("monero")
XMR = 10**12
COINBASE_BLOCKS = 80  # 60 to unlock the first coinbases, a few more for ring members and spendable change
SETTINGS = PaymentSettings(
    enabled=True, min_payout=XMR // 10, fee=10**10, absence_confirmations=2, lease_time=600,
    wallet=WalletSettings(dialect="monero", timeout=60, transfer_timeout=240),
)  # fmt: skip


@dataclass(frozen=True)
class MoneroSetup:
    node: MonerodRegtest
    wallets: MoneroWalletRpc
    pool: str
    miner_one: str
    miner_two: str

    def generate(self, blocks: int, address: str | None = None) -> None:
        params = {"amount_of_blocks": blocks, "wallet_address": address or self.pool}
        _node_call(self.node, "generateblocks", params)

    def received(self, wallet: str) -> list[tuple[str, int, str]]:
        """(address, amount, payment id) of every incoming transfer of `wallet`, after a refresh; the pool
        wallet is open again afterwards."""
        self.wallets.open_wallet(wallet)
        try:
            self.wallets.call("refresh")
            incoming = self.wallets.call("get_transfers", {"in": True}).get("in", [])
            return sorted((t["address"], t["amount"], t["payment_id"]) for t in incoming)
        finally:
            self.wallets.open_wallet("pool")


def _node_call(node: MonerodRegtest, method: str, params: dict[str, object]) -> None:
    import json
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 0, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"{node.rpc_url}/json_rpc", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        assert "error" not in json.loads(response.read())


@pytest.fixture(scope="module")
def monero(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MoneroSetup]:
    if shutil.which("monerod") is None or shutil.which("monero-wallet-rpc") is None:
        pytest.skip("monerod / monero-wallet-rpc are not installed (Debian: apt-get install monero)")
    root = tmp_path_factory.mktemp("monero-payments")
    with MonerodRegtest(root / "node", fixed_difficulty=1) as node:
        wallets = MoneroWalletRpc(root / "wallet-rpc", node.rpc_port)
        wallets.start()
        try:
            miner_one = wallets.create_wallet("miner-one")
            miner_two = wallets.create_wallet("miner-two")
            pool = wallets.create_wallet("pool")  # left open: the processor's wallet
            setup = MoneroSetup(node, wallets, pool, miner_one, miner_two)
            setup.generate(COINBASE_BLOCKS)
            wallets.call("refresh")
            yield setup
        finally:
            wallets.stop()


@pytest.fixture
async def wallet(monero: MoneroSetup) -> AsyncIterator[WalletClient]:
    settings = WalletSettings(dialect="monero", url=monero.wallets.url, timeout=60, transfer_timeout=240)
    client = settings.create_client()
    yield client
    await client.close()


def integrated_address(monero: MoneroSetup, wallet: str, payment_id: str) -> str:
    monero.wallets.open_wallet(wallet)
    try:
        reply = monero.wallets.call("make_integrated_address", {"payment_id": payment_id})
        return str(reply["integrated_address"])
    finally:
        monero.wallets.open_wallet("pool")


async def test_two_miners_receive_exactly_their_balances(
    monero: MoneroSetup, wallet: WalletClient, payment_store: PaymentStore, crediter: Crediter
) -> None:
    exchange = integrated_address(monero, "miner-two", "0123456789abcdef")
    balance = await wallet.get_balance()
    assert balance.unlocked > 3 * XMR

    await crediter.credit({monero.miner_one: 2 * XMR + 17, monero.miner_two: XMR + 5, exchange: XMR // 3})
    report = await PaymentProcessor(payment_store, wallet, MONERO, SETTINGS).run_once()
    assert report.error == "" and [p.payees for p in report.paid] == [2, 1]
    monero.generate(1)  # confirm them

    assert monero.received("miner-one") == [(monero.miner_one, 2 * XMR + 17, "0000000000000000")]
    assert monero.received("miner-two") == sorted(
        [(monero.miner_two, XMR + 5, "0000000000000000"), (monero.miner_two, XMR // 3, "0123456789abcdef")]
    )
    fees = [b.real_fee for b in await payment_store.closed_batches()]
    assert all(fee is not None and fee > 0 for fee in fees)
    assert (await payment_store.totals()).network_fees == sum(f or 0 for f in fees)
    assert (await check_ledger(payment_store)).problems == ()
    assert await check_wallet_transfers(payment_store, wallet) == []
    await assert_all_closed(payment_store)


async def test_refusals_and_history_of_monero_wallet_rpc(monero: MoneroSetup, wallet: WalletClient) -> None:
    with pytest.raises(RpcError) as too_much:
        await wallet.transfer([Destination(monero.miner_one, 10**18)], fee=0)
    assert wallet.proves_not_sent(too_much.value)
    with pytest.raises(RpcError) as bad_address:
        await wallet.transfer([Destination("4" + "1" * 94, XMR)], fee=0)
    assert wallet.proves_not_sent(bad_address.value)
    assert await wallet.get_transfer("00" * 32) is None
    sync = await wallet.sync()
    assert sync.synced and sync.height == await wallet.get_height()


async def test_digest_login_of_monero_wallet_rpc(monero: MoneroSetup, tmp_path: Path) -> None:
    guarded = MoneroWalletRpc(tmp_path, monero.node.rpc_port, rpc_login="pool:s3cret")
    guarded.start()
    try:
        right = WalletSettings(dialect="monero", url=guarded.url, rpc_user="pool", rpc_password="s3cret")
        wrong = WalletSettings(dialect="monero", url=guarded.url, rpc_user="pool", rpc_password="guess")
        for settings, expected in ((right, RpcError), (wrong, RpcUnavailable)):
            client = settings.create_client()
            try:
                with pytest.raises(expected) as raised:  # no wallet is open: an answer proves the login
                    await client.get_height()
            finally:
                await client.close()
        assert isinstance(raised.value, RpcUnavailable) and "401" in str(raised.value)
    finally:
        guarded.stop()


@pytest.fixture
async def dropping_wallet(monero: MoneroSetup) -> AsyncIterator[tuple[WalletProxy, WalletClient]]:
    """monero-wallet-rpc behind a proxy that cuts off the first `transfer` reply: the wallet sends the
    transaction, the pool never hears back."""
    proxy = WalletProxy(monero.wallets.url)
    proxy.drop["transfer"] = 1
    await proxy.start()
    client = create_wallet_client("monero", proxy.url, timeout=60, transfer_timeout=240)
    yield proxy, client
    await client.close()
    await proxy.stop()


async def test_a_sent_transfer_whose_reply_is_lost_is_found_not_repeated(
    monero: MoneroSetup,
    dropping_wallet: tuple[WalletProxy, WalletClient],
    wallet: WalletClient,
    payment_store: PaymentStore,
    crediter: Crediter,
) -> None:
    dropper, lossy = dropping_wallet
    assert isinstance(lossy, MoneroWalletClient)
    before = len(monero.received("miner-one"))
    start_height = await wallet.get_height()
    await crediter.credit({monero.miner_one: XMR // 2 + 3})
    report = await PaymentProcessor(payment_store, lossy, MONERO, SETTINGS).run_once()
    assert dropper.dropped == 1
    assert [p.found_by for p in report.paid] == ["reconciliation"]
    for _ in range(3):
        monero.generate(1)
        again = await PaymentProcessor(payment_store, lossy, MONERO, SETTINGS).run_once()
        assert again.paid == [] and again.error == ""
    received = monero.received("miner-one")
    assert len(received) == before + 1 and (monero.miner_one, XMR // 2 + 3, "0000000000000000") in received
    assert (await check_ledger(payment_store)).problems == ()
    # Earlier tests of this module paid from the same wallet under other coin prefixes: look from here on.
    assert await check_wallet_transfers(payment_store, wallet, since_height=start_height) == []


async def refuse_two_payees(method: str, params: Mapping[str, Any]) -> None:
    """TX_TOO_LARGE (-18) for a transfer to more than one payee, as monero-wallet-rpc answers before
    sending anything when a transaction would exceed its size limit (a fault too costly to produce for
    real: it takes thousands of small inputs)."""
    if method == "transfer" and len(params["destinations"]) > 1:
        raise RpcError(-18, "transaction too large")


async def test_a_transaction_too_large_is_paid_split_in_the_next_pass(
    monero: MoneroSetup, wallet: WalletClient, payment_store: PaymentStore, crediter: Crediter
) -> None:
    start_height = (await wallet.sync()).height  # refreshed: earlier tests' transfers lie below it
    picky = MoneroWalletClient(
        ScriptedRpc(monero.wallets.url, refuse_two_payees, timeout=60), transfer_timeout=240
    )
    await crediter.credit({monero.miner_one: XMR // 5, monero.miner_two: XMR // 5 + 1})
    processor = PaymentProcessor(payment_store, picky, MONERO, SETTINGS)
    try:
        first = await processor.run_once()
        assert first.paid == [] and len(first.refused) == 1 and "too large" in first.refused[0]
        assert await payment_store.balances() == {monero.miner_one: XMR // 5, monero.miner_two: XMR // 5 + 1}
        second = await processor.run_once()
        assert [p.payees for p in second.paid] == [1, 1] and second.refused == []
    finally:
        await picky.close()
    assert await payment_store.paid() == {monero.miner_one: XMR // 5, monero.miner_two: XMR // 5 + 1}
    assert (await check_ledger(payment_store)).problems == ()
    assert await check_wallet_transfers(payment_store, wallet, since_height=start_height) == []
