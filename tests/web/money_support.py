"""The books of the paying pool, made the way the pool makes them: the demo miner mines real blocks, the
unlocker credits them, the payment processor pays the miner from the devnet's wallet. Then two payment
batches are held for the operator, written through the `PaymentStore` steps the processor itself takes
(reserve, submitting, manual review) under the payment lease; the wallet really sent one of them. Then
the miner stops, so that nothing moves while the pages are compared with the API.

Everything here runs on the pool's own event loop (`PoolThread.call`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from athena_pool.payments.settings import WalletSettings
from athena_pool.rpc.wallet import Destination, WalletClient
from athena_pool.storage.payment_store import BatchItem, BatchState, NewBatch, PaymentStore
from athena_pool.supervisor import RunningPool

FEE = 10_000  # Athena's minimum transaction fee, which the devnet wallet enforces
HELD_SENT = 20_000  # 200.00 ATHX: the wallet sent it, but its answer never came back
HELD_UNSENT = 10_000  # 100.00 ATHX: never left the wallet
SENT_REASON = "the wallet did not answer the transfer in time; its history cannot tell (test)"
UNSENT_REASON = "the wallet closed the connection during the transfer (test)"
WAIT_S = 150


@dataclass(frozen=True)
class Books:
    miner: str
    sent_batch: str
    sent_tx: str
    unsent_batch: str


async def prepare_books(pool: RunningPool, api_url: str) -> Books:
    assert pool.miner is not None
    miner = pool.miner.options.user
    async with aiohttp.ClientSession() as http:
        await _until(lambda: _paid_credit(http, api_url, miner), "a credit of the miner paid by a payment")
        books = await _hold_two_batches(pool, miner)
        pool.miner.stop()
        await settled(pool, http, api_url, miner)
    return books


def payment_store(pool: RunningPool) -> PaymentStore:
    return PaymentStore(pool.backends.redis, pool.config.redis.prefix or pool.coin.name)


async def settled(pool: RunningPool, http: aiohttp.ClientSession, api_url: str, miner: str) -> None:
    """Until no payment is under way and what the API shows has stopped moving (its statistics are
    rebuilt every second)."""
    store = payment_store(pool)
    last: Any = None
    deadline = time.monotonic() + WAIT_S
    while True:
        busy = [b for b in await store.open_batches() if b.state is not BatchState.MANUAL_REVIEW]
        seen = (
            (await _get(http, f"{api_url}/api/v1/pool"))["payments"],
            (await _get(http, f"{api_url}/api/v1/payments?limit=1"))["items"],
            (await _get(http, f"{api_url}/api/v1/miners/{miner}"))["money"],
        )
        if not busy and seen == last:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the payments did not settle")
        last = seen
        await asyncio.sleep(1.5)


async def _paid_credit(http: aiohttp.ClientSession, api_url: str, miner: str) -> bool:
    """The miner's oldest listed credit shows in its block's payout proof as paid by a transaction."""
    async with http.get(f"{api_url}/api/v1/miners/{miner}/credits?limit=100") as response:
        if response.status != 200:  # the miner's first share is not recorded yet
            return False
        credits = (await response.json())["items"]
    if not credits:
        return False
    oldest = credits[-1]
    proof = await _get(http, f"{api_url}/api/v1/blocks/{oldest['height']}/{oldest['hash']}/credits")
    return any(item["address"] == miner and item["paid"] for item in proof["items"])


async def _hold_two_batches(pool: RunningPool, miner: str) -> Books:
    """Waits for the payment lease at a moment the miner's balance covers both batches (credits come
    every few seconds; the processor pays them within a second) and the wallet's unlocked coins cover
    the one it sends (the processor spends them too; the pool's fees and newly matured blocks add up)."""
    store = payment_store(pool)
    assert pool.backends.wallet_url is not None
    settings = WalletSettings(url=pool.backends.wallet_url, rpc_password=pool.config.devnet.rpc_password)
    wallet = settings.create_client()
    deadline = time.monotonic() + WAIT_S
    try:
        while True:
            token = secrets.token_hex(16)
            if await store.acquire_lease(token, 30_000):
                try:
                    if await _can_hold(store, wallet, miner):
                        return await _held(store, wallet, token, miner)
                finally:
                    await store.release_lease(token)
            if time.monotonic() > deadline:
                raise AssertionError("the miner's balance never covered the held batches")
            await asyncio.sleep(0.1)
    finally:
        await wallet.close()


async def _can_hold(store: PaymentStore, wallet: WalletClient, miner: str) -> bool:
    if (await store.balances()).get(miner, 0) < HELD_SENT + HELD_UNSENT:
        return False
    return (await wallet.get_balance()).unlocked >= HELD_SENT + FEE


async def _held(store: PaymentStore, wallet: WalletClient, token: str, miner: str) -> Books:
    """The processor's steps for two batches, up to the point where it hands them to the operator."""
    now = int(time.time() * 1000)
    sent = _batch(miner, HELD_SENT, now)
    unsent = _batch(miner, HELD_UNSENT, now + 1)
    for batch in (sent, unsent):
        assert await store.reserve(token, batch) is None
        height = (await wallet.sync()).height
        await store.mark_submitting(token, batch.batch_id, start_height=height, now_ms=now, attempt=1)
    transfer = await wallet.transfer([Destination(miner, HELD_SENT)], fee=FEE)
    await store.mark_manual_review(token, sent.batch_id, reason=SENT_REASON, now_ms=now + 2)
    await store.mark_manual_review(token, unsent.batch_id, reason=UNSENT_REASON, now_ms=now + 2)
    return Books(miner, sent.batch_id, transfer.tx_hash, unsent.batch_id)


def _batch(miner: str, amount: int, created_ms: int) -> NewBatch:
    """A batch as the processor makes one (its id format); no marker: the wallet sends it without one."""
    return NewBatch(
        f"{created_ms}-{secrets.token_hex(6)}", (BatchItem(miner, miner, amount),), FEE, created_ms
    )


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.5)


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, f"{url}: HTTP {response.status}"
        return await response.json()
