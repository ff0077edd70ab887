"""The devnet wallet over real HTTP: password, balances from the chain, durable sends, lost replies."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aiohttp
import pytest
from devnet_testkit import Rpc

from athena_pool.coins.addresses import AddressKind, decode_address, encode_address
from athena_pool.devnet.keys import generate_address
from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet

FEE = 10_000  # Athena's minimum fee
SOMEONE = generate_address(random.Random(77))


def send_params(amount: int, address: str = SOMEONE, **extra: Any) -> dict[str, Any]:
    return {"transfers": [{"address": address, "amount": amount}], "fee": FEE, "anonymity": 3, **extra}


async def fund_wallet(rpc: Rpc) -> int:
    """One pool block, buried under 4 others so its coinbase unlocks; returns the reward."""
    await rpc.mine_block()
    await rpc.operator("mine", {"count": 4})
    return rpc.devnet.chain.block_at(1).reward  # type: ignore[union-attr]


async def test_wrong_or_missing_password_is_refused(rpc: Rpc) -> None:
    invalid = {"code": -32604, "message": "Invalid or no rpc password"}
    assert (await rpc.wallet("getBalance", password="wrong"))["error"] == invalid
    assert (await rpc.wallet("getBalance", password=None))["error"] == invalid
    reply = await rpc.wallet("getBalance", password=None)
    assert reply["id"] == 7


async def test_envelope_errors(rpc: Rpc, devnet: RunningDevnet) -> None:
    assert (await rpc.wallet("noSuchMethod"))["error"] == {"code": -32601, "message": "Method not found"}
    async with rpc.session.post(
        f"{devnet.wallet_url}/json_rpc", json={"password": "devnet", "id": 1}
    ) as response:
        assert (await response.json())["error"] == {"code": -3600, "message": "Invalid Request"}
    async with rpc.session.post(f"{devnet.wallet_url}/json_rpc", data=b"[[[") as response:
        assert (await response.json())["error"] == {"code": -32700, "message": "Parse error"}


async def test_status_and_addresses(rpc: Rpc, devnet: RunningDevnet) -> None:
    await rpc.mine_block()
    status = await rpc.wallet_result("getStatus")
    assert status == {
        "blockCount": 2,
        "knownBlockCount": 2,
        "localDaemonBlockCount": 2,
        "lastBlockHash": devnet.chain.tip.block_id.hex(),
        "peerCount": 0,
    }
    assert await rpc.wallet_result("getAddresses") == {"addresses": [devnet.pool_address]}


async def test_coinbase_unlocks_after_four_blocks(rpc: Rpc) -> None:
    assert await rpc.wallet_result("getBalance") == {"availableBalance": 0, "lockedAmount": 0}
    await rpc.mine_block()
    reward = rpc.devnet.chain.tip.reward

    await rpc.operator("mine", {"count": 3})
    assert await rpc.wallet_result("getBalance") == {"availableBalance": 0, "lockedAmount": reward}

    await rpc.operator("mine", {"count": 1})
    assert await rpc.wallet_result("getBalance") == {"availableBalance": reward, "lockedAmount": 0}

    await rpc.mine_block()
    second = rpc.devnet.chain.tip.reward
    assert await rpc.wallet_result("getBalance") == {"availableBalance": reward, "lockedAmount": second}


async def test_orphaned_coinbase_leaves_the_balance(rpc: Rpc) -> None:
    await rpc.mine_block()
    assert (await rpc.wallet_result("getBalance"))["lockedAmount"] > 0
    await rpc.operator("orphan", {"count": 1})
    assert await rpc.wallet_result("getBalance") == {"availableBalance": 0, "lockedAmount": 0}


async def test_send_deducts_amount_and_fee_and_shows_in_history(rpc: Rpc) -> None:
    reward = await fund_wallet(rpc)
    payment_id = "cd" * 32

    sent = await rpc.wallet_result("sendTransaction", send_params(12_345, paymentId=payment_id))

    tx_hash = sent["transactionHash"]
    assert len(tx_hash) == 64
    assert await rpc.wallet_result("getBalance") == {
        "availableBalance": reward - 12_345 - FEE,
        "lockedAmount": 0,
    }
    pending = (await rpc.wallet_result("getTransaction", {"transactionHash": tx_hash}))["transaction"]
    assert (
        pending["blockIndex"] == 2**32 - 1 and pending["amount"] == -(12_345 + FEE) and pending["fee"] == FEE
    )
    assert pending["paymentId"] == payment_id and pending["isBase"] is False
    assert {"type": 0, "address": SOMEONE, "amount": 12_345} in pending["transfers"]
    unconfirmed = await rpc.wallet_result("getUnconfirmedTransactionHashes")
    assert unconfirmed == {"transactionHashes": [tx_hash]}

    await rpc.operator("mine", {"count": 1})
    confirmed = (await rpc.wallet_result("getTransaction", {"transactionHash": tx_hash}))["transaction"]
    assert confirmed["blockIndex"] == rpc.devnet.chain.height
    history = await rpc.wallet_result("getTransactions", {"firstBlockIndex": 0, "blockCount": 100})
    hashes = [t["transactionHash"] for item in history["items"] for t in item["transactions"]]
    assert hashes.count(tx_hash) == 1
    coinbase = rpc.devnet.chain.block_at(1).coinbase_hash.hex()  # type: ignore[union-attr]
    assert coinbase in hashes
    by_payment = await rpc.wallet_result(
        "getTransactions", {"firstBlockIndex": 0, "blockCount": 100, "paymentId": payment_id}
    )
    assert [t["transactionHash"] for item in by_payment["items"] for t in item["transactions"]] == [tx_hash]


async def test_send_to_integrated_address_carries_its_payment_id(rpc: Rpc) -> None:
    await fund_wallet(rpc)
    keys = decode_address(SOMEONE, "athena")
    integrated = encode_address(
        "athena",
        keys.public_spend_key,
        keys.public_view_key,
        kind=AddressKind.INTEGRATED,
        payment_id_hex="ef" * 32,
    )
    sent = await rpc.wallet_result("sendTransaction", send_params(100, integrated))
    info = (await rpc.wallet_result("getTransaction", {"transactionHash": sent["transactionHash"]}))[
        "transaction"
    ]
    assert info["paymentId"] == "ef" * 32
    conflict = await rpc.wallet("sendTransaction", send_params(100, integrated, paymentId="01" * 32))
    assert conflict["error"]["data"] == {"application_code": 33}


@pytest.mark.parametrize(
    ("params", "application_code", "message"),
    [
        (send_params(100, "athenaNotAnAddress"), 7, "Bad address"),
        (send_params(10**15), 9, "Wrong amount"),
        (send_params(0), 9, "Wrong amount"),
        ({**send_params(100), "fee": 9_999}, 17, "Transaction fee is too small"),
        ({**send_params(100), "anonymity": 0}, 31, "Mixin below minimum allowed threshold"),
        ({**send_params(100), "anonymity": 7}, 32, "Mixin above maximum allowed threshold"),
        ({**send_params(100), "transfers": []}, 11, "The destination is empty"),
        (send_params(100, paymentId="nothex"), 2, "Wrong payment id format"),
    ],
)
async def test_send_refusals(rpc: Rpc, params: dict[str, Any], application_code: int, message: str) -> None:
    await fund_wallet(rpc)
    before = await rpc.wallet_result("getBalance")

    reply = await rpc.wallet("sendTransaction", params)

    assert reply["error"] == {
        "code": -32700,
        "message": message,
        "data": {"application_code": application_code},
    }
    assert await rpc.wallet_result("getBalance") == before


async def test_malformed_send_requests(rpc: Rpc) -> None:
    invalid = {"code": -32600, "message": "Invalid Request"}
    no_fee = {"transfers": [{"address": SOMEONE, "amount": 1}]}
    assert (await rpc.wallet("sendTransaction", no_fee))["error"] == invalid
    both = send_params(1, paymentId="ab" * 32, extra="00")
    assert (await rpc.wallet("sendTransaction", both))["error"] == invalid
    assert (await rpc.wallet("sendTransaction", {"transfers": "x", "fee": FEE}))["error"] == invalid
    assert (await rpc.wallet("getTransactions", {"blockCount": 5}))["error"] == invalid
    unknown = await rpc.wallet("getTransaction", {"transactionHash": "ab" * 32})
    assert unknown["error"]["data"] == {"application_code": 4}


async def test_sends_survive_a_wallet_restart(devnet_options: DevnetOptions) -> None:
    async with start_devnet(devnet_options) as devnet, aiohttp.ClientSession() as session:
        rpc = Rpc(session, devnet)
        reward = await fund_wallet(rpc)
        first = (await rpc.wallet_result("sendTransaction", send_params(1_000)))["transactionHash"]
        second = (await rpc.wallet_result("sendTransaction", send_params(1_000)))["transactionHash"]
        balance = await rpc.wallet_result("getBalance")
        address = devnet.pool_address
    assert first != second  # identical requests are still two transactions
    assert balance["availableBalance"] == reward - 2 * (1_000 + FEE)

    async with start_devnet(devnet_options) as devnet, aiohttp.ClientSession() as session:
        rpc = Rpc(session, devnet)
        assert devnet.pool_address == address
        assert await rpc.wallet_result("getBalance") == balance
        for tx_hash in (first, second):
            info = (await rpc.wallet_result("getTransaction", {"transactionHash": tx_hash}))["transaction"]
            assert info["amount"] == -(1_000 + FEE)


async def test_lost_reply_still_records_the_send(rpc: Rpc, devnet: RunningDevnet) -> None:
    reward = await fund_wallet(rpc)
    devnet.wallet.faults.lose_send_replies = 1

    with pytest.raises(aiohttp.ClientError):
        await rpc.wallet("sendTransaction", send_params(5_000))

    assert (await rpc.wallet_result("getBalance"))["availableBalance"] == reward - 5_000 - FEE
    unconfirmed = (await rpc.wallet_result("getUnconfirmedTransactionHashes"))["transactionHashes"]
    assert len(unconfirmed) == 1
    # The switch is spent: the next send is answered normally.
    assert "transactionHash" in await rpc.wallet_result("sendTransaction", send_params(5_000))


async def test_delayed_reply_through_the_operator_endpoint(rpc: Rpc, devnet: RunningDevnet) -> None:
    await fund_wallet(rpc)
    fault = {"lose_send_replies": 1, "mode": "delay", "delay_seconds": 5}
    async with rpc.session.post(f"{devnet.wallet_url}/devnet/faults", json=fault) as response:
        assert (await response.json())["lose_send_replies"] == 1

    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "password": "devnet",
        "method": "sendTransaction",
        "params": send_params(1),
    }
    with pytest.raises(asyncio.TimeoutError):
        async with rpc.session.post(
            f"{devnet.wallet_url}/json_rpc", json=body, timeout=aiohttp.ClientTimeout(total=0.3)
        ):
            pass

    async with asyncio.timeout(30):  # the send is recorded before the reply is held back
        while not devnet.ledger.sent:
            await asyncio.sleep(0.01)
    assert devnet.wallet.faults.lost_replies == 1
