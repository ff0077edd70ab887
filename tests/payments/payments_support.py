"""Helpers for the payment tests: crediting like the unlocker, addresses, a funded devnet wallet, and what
each address really received."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from athena_pool.coins.addresses import AddressKind, decode_address, encode_address
from athena_pool.coins.families.base import BlobFamily
from athena_pool.devnet.chain import BlockTemplate
from athena_pool.devnet.keys import generate_address
from athena_pool.devnet.runner import RunningDevnet
from athena_pool.pow import create_algorithm
from athena_pool.pow.base import PowAlgorithm
from athena_pool.rpc.jsonrpc import JsonParams, JsonRpcClient
from athena_pool.storage import BlockCandidate, RewardType, Store
from athena_pool.storage.keys import KeySpace
from athena_pool.storage.ledger import BlockCredit, Ledger
from athena_pool.storage.payment_store import BatchState, PaymentStore
from athena_pool.targets import meets

ATHENA_FEE = 10_000  # Athena's minimum transaction fee
T0_MS = 1_700_000_000_000


# -- crediting like the unlocker -----------------------------------------------------------------------


class Crediter:
    """Credits balances the way the unlocker does: a block candidate, then `Ledger.credit_block`, so the
    ledger totals and the per-block payout proofs are the real ones."""

    def __init__(self, redis: aioredis.Redis, coin_prefix: str) -> None:
        self._store = Store(redis, coin_prefix)
        self._ledger = Ledger(redis, KeySpace(coin_prefix))
        self._heights = itertools.count(1)

    async def credit(self, credits: Mapping[str, int]) -> None:
        height = next(self._heights)
        hash_hex = secrets.token_hex(32)
        finder = next(iter(credits))
        candidate = BlockCandidate(height, hash_hex, 1000, RewardType.PROP, finder, "rig", T0_MS + height)
        assert await self._store.add_block_candidate(candidate)
        reward = sum(credits.values())
        credit = BlockCredit(
            height=height, hash_hex=hash_hex, scheme="prop", reward_atomic=reward, credits=dict(credits),
            fee_atomic=0, remainder_atomic=0, donation_atomic=0, finder_atomic=0, time_ms=T0_MS + height,
        )  # fmt: skip
        assert await self._ledger.credit_block(credit)


# -- addresses -----------------------------------------------------------------------------------------


def athena_addresses(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [generate_address(rng, "athena") for _ in range(count)]


def integrated(address: str, payment_id: str, network: str = "athena") -> str:
    decoded = decode_address(address, network)
    return encode_address(
        network, decoded.public_spend_key, decoded.public_view_key, kind=AddressKind.INTEGRATED,
        payment_id_hex=payment_id,
    )  # fmt: skip


# -- the devnet ----------------------------------------------------------------------------------------


async def mine_pool_blocks(devnet: RunningDevnet, count: int) -> None:
    """Real blocks (real cn-lite/1 proof of work) paying the pool wallet, like the pool would find them."""
    algorithm = create_algorithm("cn-lite/1")
    chain = devnet.chain
    for _ in range(count):
        template = chain.template(devnet.pool_address, 8)
        blob, pow_hash = await asyncio.to_thread(_solve, chain.family, template, algorithm)
        chain.accept(chain.check_block(blob), pow_hash)


def _solve(family: BlobFamily, template: BlockTemplate, algorithm: PowAlgorithm) -> tuple[bytes, bytes]:
    for counter in range(1_000_000):
        blob = family.assemble_block(template.blob, counter.to_bytes(4, "little"))
        pow_hash = algorithm.hash(family.pow_blob(blob))
        if meets(pow_hash, template.difficulty):
            return blob, pow_hash
    raise AssertionError("no nonce found")


async def fund_pool_wallet(devnet: RunningDevnet, blocks: int = 1) -> int:
    """Pool blocks buried deep enough to unlock; returns the wallet's unlocked balance."""
    await mine_pool_blocks(devnet, blocks)
    await devnet.network.mine(devnet.chain.params.unlock_window)
    return devnet.ledger.balance().available


def devnet_received(devnet: RunningDevnet) -> Counter[str]:
    """Atomic units each address received from the pool wallet, from the wallet's own journal."""
    received: Counter[str] = Counter()
    for sent in devnet.ledger.sent:
        for transfer in sent.transfers:
            received[transfer.address] += transfer.amount
    return received


def expected_received(paid: Mapping[str, int]) -> Counter[str]:
    """What the addresses should have received, from the pool's `paid` hash (accounts -> addresses)."""
    expected: Counter[str] = Counter()
    for account, amount in paid.items():
        expected[account.partition(".")[0]] += amount
    return expected


async def assert_all_closed(store: PaymentStore) -> None:
    open_batches = await store.open_batches()
    assert not open_batches, [(b.batch_id, b.state, b.reason) for b in open_batches]


def batch_states(states: Iterable[BatchState]) -> Counter[str]:
    return Counter(state.value for state in states)


# -- a wallet behind a proxy: lost replies, a wallet rebuilt from its keys ----------------------------------


class WalletProxy:
    """Forwards JSON-RPC to a wallet on loopback. `drop[method] = n`: the next n replies to `method` are cut
    off on the way back, after the wallet did the work (sent the transaction), as a dying connection would.

    With `rebuilt_as` (the wallet's own address), answers as a walletd reset or rebuilt from its keys
    would: an outgoing transaction lists only the wallet's own address (the debit), since the payees are
    not on the chain in a form the wallet can read; its extra (and so the batch's marker) and payment id
    are."""

    def __init__(self, target: str, *, rebuilt_as: str | None = None) -> None:
        self.target = target
        self.rebuilt_as = rebuilt_as
        self.drop: dict[str, int] = {}
        self.dropped = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/json_rpc", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.target}/json_rpc", json=body) as answer,
        ):
            reply = await answer.json()
        method = body.get("method")
        if self.drop.get(method, 0) > 0:
            self.drop[method] -= 1
            self.dropped += 1
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if self.rebuilt_as is not None:
            _forget_payees(reply.get("result"), self.rebuilt_as)
        return web.json_response(reply)


def _forget_payees(result: object, own_address: str) -> None:
    if not isinstance(result, dict):
        return
    infos = [result["transaction"]] if "transaction" in result else []
    infos += [info for item in result.get("items", []) for info in item.get("transactions", [])]
    for info in infos:
        if not info.get("isBase"):
            info["transfers"] = [t for t in info["transfers"] if t["address"] == own_address]


# -- wallets with a scripted fault ------------------------------------------------------------------------

RpcHook = Callable[[str, Mapping[str, Any]], Awaitable[None]]
"""Sees each wallet call (method, params) before it is sent; may raise the wallet's own error instead."""


class ScriptedRpc(JsonRpcClient):
    """The JSON-RPC transport of a real wallet, with `before` run ahead of every call: a fault that is too
    costly to produce in the wallet itself is answered here, everything else reaches the wallet."""

    def __init__(self, url: str, before: RpcHook, *, timeout: float) -> None:
        super().__init__(url, timeout=timeout)
        self._before = before

    async def call(self, method: str, params: JsonParams = None, *, timeout: float | None = None) -> Any:
        await self._before(method, params if isinstance(params, Mapping) else {})
        return await super().call(method, params, timeout=timeout)

    async def post_json(
        self, path: str, body: Mapping[str, Any], *, timeout: float | None = None, label: str | None = None
    ) -> dict[str, Any]:
        params = body.get("params")
        await self._before(str(body.get("method")), params if isinstance(params, Mapping) else {})
        return await super().post_json(path, body, timeout=timeout, label=label)
