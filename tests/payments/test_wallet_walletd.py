"""The walletd client against the devnet wallet over real HTTP: balance, status, sends, history, refusals."""

from __future__ import annotations

import pytest
from payments_support import ATHENA_FEE, athena_addresses, fund_pool_wallet, integrated

from athena_pool.devnet.runner import RunningDevnet
from athena_pool.devnet.wallet import ReplyLoss
from athena_pool.rpc.errors import RpcError, RpcUnavailable
from athena_pool.rpc.jsonrpc import JsonRpcClient
from athena_pool.rpc.wallet import (
    Destination,
    WalletdClient,
    WalletRpcError,
    create_wallet_client,
    extra_has_marker,
    extra_has_payment_id,
    marker_extra,
)

ALICE, BOB = athena_addresses(2, seed=11)
PAYMENT_ID = "ab" * 32
MARKER = "0123456789abcdef" * 2


async def test_balance_and_status_follow_the_chain(devnet: RunningDevnet, walletd: WalletdClient) -> None:
    assert (await walletd.get_balance()).unlocked == 0
    unlocked = await fund_pool_wallet(devnet)
    balance = await walletd.get_balance()
    assert balance.unlocked == unlocked > 0
    assert balance.locked == 0
    sync = await walletd.sync()
    assert sync.synced
    assert sync.height == devnet.chain.height + 1 == await walletd.get_height()


async def test_a_transfer_is_listed_with_destinations_fee_and_marker(
    devnet: RunningDevnet, walletd: WalletdClient
) -> None:
    before = await fund_pool_wallet(devnet)
    destinations = [Destination(ALICE, 1_000), Destination(BOB, 2_500)]
    result = await walletd.transfer(destinations, fee=ATHENA_FEE, mixin=3, marker=MARKER)
    assert result.fee == ATHENA_FEE
    assert (await walletd.get_balance()).unlocked == before - 3_500 - ATHENA_FEE

    [unconfirmed] = await walletd.get_outgoing_transfers(devnet.chain.height + 1)
    assert unconfirmed.tx_hash == result.tx_hash
    assert unconfirmed.height is None
    assert (
        sorted(unconfirmed.destinations, key=lambda d: d.amount) == destinations
    )  # the wallet's own excluded
    assert unconfirmed.fee == ATHENA_FEE and unconfirmed.destinations_known
    assert unconfirmed.extra_hex is not None and extra_has_marker(unconfirmed.extra_hex, MARKER)
    assert not extra_has_marker(unconfirmed.extra_hex, "f" * 32)

    await devnet.network.mine(1)
    [confirmed] = await walletd.get_outgoing_transfers(0)
    assert confirmed.tx_hash == result.tx_hash
    assert confirmed.height == devnet.chain.height
    assert await walletd.get_transfer(result.tx_hash) == confirmed
    assert await walletd.get_transfer("00" * 32) is None


async def test_payment_ids_and_integrated_addresses_are_reported(
    devnet: RunningDevnet, walletd: WalletdClient
) -> None:
    await fund_pool_wallet(devnet)
    with_id = await walletd.transfer([Destination(ALICE, 700)], fee=ATHENA_FEE, payment_id=PAYMENT_ID)
    embedded = await walletd.transfer([Destination(integrated(BOB, "cd" * 32), 800)], fee=ATHENA_FEE)
    transfers = {t.tx_hash: t for t in await walletd.get_outgoing_transfers(0)}
    assert transfers[with_id.tx_hash].payment_id == PAYMENT_ID
    assert transfers[embedded.tx_hash].payment_id == "cd" * 32
    assert transfers[embedded.tx_hash].destinations == (Destination(integrated(BOB, "cd" * 32), 800),)


async def test_refusals_before_sending_prove_nothing_was_sent(
    devnet: RunningDevnet, walletd: WalletdClient
) -> None:
    await fund_pool_wallet(devnet)
    with pytest.raises(RpcError) as too_small:
        await walletd.transfer([Destination(ALICE, 1_000)], fee=1)
    assert walletd.proves_not_sent(too_small.value)
    with pytest.raises(RpcError) as too_much:
        await walletd.transfer([Destination(ALICE, 10**15)], fee=ATHENA_FEE)
    assert walletd.proves_not_sent(too_much.value)

    stranger = WalletdClient(JsonRpcClient(devnet.wallet_url, timeout=5), rpc_password="wrong")
    with pytest.raises(RpcError) as wrong_password:
        await stranger.transfer([Destination(ALICE, 1_000)], fee=ATHENA_FEE)
    assert stranger.proves_not_sent(wrong_password.value)
    await stranger.close()
    assert devnet.ledger.sent == ()


async def test_a_lost_reply_is_unavailable_and_proves_nothing(
    devnet: RunningDevnet, walletd: WalletdClient
) -> None:
    await fund_pool_wallet(devnet)
    devnet.wallet.faults.lose_send_replies = 1
    devnet.wallet.faults.mode = ReplyLoss.DROP
    with pytest.raises(RpcUnavailable) as lost:
        await walletd.transfer([Destination(ALICE, 1_000)], fee=ATHENA_FEE)
    assert not walletd.proves_not_sent(lost.value)
    [sent] = devnet.ledger.sent  # it went out all the same
    [listed] = await walletd.get_outgoing_transfers(0)
    assert listed.tx_hash == sent.transaction_hash


async def test_a_wallet_rebuilt_from_its_keys_lists_transfers_without_destinations(
    devnet: RunningDevnet, walletd: WalletdClient, rebuilt_walletd: WalletdClient
) -> None:
    await fund_pool_wallet(devnet)
    marked = await walletd.transfer([Destination(ALICE, 1_000)], fee=ATHENA_FEE, marker=MARKER)
    with_id = await walletd.transfer([Destination(BOB, 900)], fee=ATHENA_FEE, payment_id=PAYMENT_ID)
    await devnet.network.mine(1)
    seen = {t.tx_hash: t for t in await rebuilt_walletd.get_outgoing_transfers(0)}
    assert {t.destinations for t in seen.values()} == {()}
    assert not any(t.destinations_known for t in seen.values())
    extra = seen[marked.tx_hash].extra_hex  # on the chain: a rebuilt wallet still reads it
    assert extra is not None and extra_has_marker(extra, MARKER)
    assert seen[with_id.tx_hash].payment_id == PAYMENT_ID
    assert await rebuilt_walletd.get_transfer(marked.tx_hash) == seen[marked.tx_hash]


async def test_a_transaction_too_large_is_told_apart_from_other_refusals(walletd: WalletdClient) -> None:
    too_big = WalletRpcError(-32700, "Transaction size is too big", application_code=8)
    assert walletd.too_large(too_big) and walletd.proves_not_sent(too_big)
    assert not walletd.too_large(WalletRpcError(-32700, "Wrong amount", application_code=9))
    assert not walletd.too_large(RpcUnavailable("timed out"))
    monero = create_wallet_client("monero", "http://127.0.0.1:1")
    try:
        assert monero.too_large(RpcError(-18, "transaction too large")) and monero.proves_not_sent(
            RpcError(-18, "transaction too large")
        )
        assert not monero.too_large(RpcError(-17, "not enough money"))
    finally:
        await monero.close()


def test_marker_extra_is_an_extra_nonce_that_is_not_a_payment_id() -> None:
    extra = marker_extra(MARKER)
    assert extra == "021150" + MARKER
    assert extra_has_marker("01" + "00" * 32 + extra, MARKER)
    assert extra_has_payment_id("01" + "00" * 32 + "022100" + PAYMENT_ID.upper(), PAYMENT_ID)
    assert not extra_has_payment_id(extra, PAYMENT_ID)
    with pytest.raises(ValueError, match="marker"):
        marker_extra("xyz")


async def test_the_factory_checks_the_dialect_and_its_credentials() -> None:
    with pytest.raises(ValueError, match="unknown wallet dialect"):
        create_wallet_client("bitcoind", "http://127.0.0.1:1")
    with pytest.raises(ValueError, match="rpc_password"):
        create_wallet_client("walletd", "http://127.0.0.1:1", rpc_login=("u", "p"))
    with pytest.raises(ValueError, match="rpc_login"):
        create_wallet_client("monero", "http://127.0.0.1:1", rpc_password="p")
    client = create_wallet_client("monero", "http://127.0.0.1:1", rpc_login=("u", "p"))
    assert client.dialect == "monero"
    await client.close()
