"""The unlocker on real monerod headers (regtest): Monero's 60-block unlock, the reward from the header."""

from __future__ import annotations

import random
import shutil
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from unlocker_support import add_candidate, check_books, record, share

from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.keys import generate_address
from athena_pool.rpc import JsonRpcClient, MoneroDaemonClient
from athena_pool.rpc.monerod_regtest import MonerodRegtest, generate_blocks
from athena_pool.storage import RewardType, Store
from athena_pool.storage.ledger import Ledger
from athena_pool.unlocker import UnlockerSettings, create_unlocker

MONERO = get_coin("monero")


@pytest.fixture(scope="module")
def monerod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonerodRegtest]:
    if shutil.which("monerod") is None:
        pytest.skip("monerod is not installed (Debian: apt-get install monero)")
    with MonerodRegtest(tmp_path_factory.mktemp("monerod"), fixed_difficulty=1) as node:
        yield node


@pytest.fixture
async def rpc(monerod: MonerodRegtest) -> AsyncIterator[JsonRpcClient]:
    async with JsonRpcClient(monerod.rpc_url, timeout=60) as client:
        yield client


async def test_monero_block_unlocks_after_60_blocks_with_the_header_reward(
    rpc: JsonRpcClient, store: Store, ledger: Ledger, redis_client: aioredis.Redis
) -> None:
    daemon = MoneroDaemonClient(rpc)
    settings = UnlockerSettings(scheme="prop", pool_fee_percent=Decimal(0))
    unlocker = create_unlocker(redis=redis_client, store=store, daemon=daemon, coin=MONERO, settings=settings)
    assert unlocker.rules.unlock_depth == 60  # Monero's coinbase unlock window, from the coin profile

    await record(store, "m", [share("alice", 2), share("bob", 1), share("solo", 5, solo=True)])
    [block_id] = await generate_blocks(rpc, 1)
    header = await daemon.get_block_header_by_hash(block_id)
    await add_candidate(store, header.height, block_id, finder="alice", network_difficulty=header.difficulty)

    await generate_blocks(rpc, 59)
    report = await unlocker.run_once()
    assert (report.unlocked, report.waiting, report.error) == ((), 1, None)

    await generate_blocks(rpc, 1)
    report = await unlocker.run_once()

    assert report.unlocked == (f"{header.height}:{block_id}",)
    reward = header.reward_atomic  # monerod's own figure: the coinbase of that block
    block = await store.get_block(header.height, block_id)
    assert block is not None and block.fields["reward"] == str(reward) and reward > 10**12
    assert await ledger.balances() == {"alice": reward * 2 // 3, "bob": reward // 3}
    assert (await ledger.totals()).fees_total == reward - reward * 2 // 3 - reward // 3  # the remainder
    assert await store.round_shares(RewardType.SOLO, "solo") == {"solo": 5}
    await check_books(redis_client, store, ledger)


async def test_monero_block_replaced_by_a_rival_is_orphaned_once_the_rival_is_60_deep(
    rpc: JsonRpcClient, store: Store, ledger: Ledger, redis_client: aioredis.Redis
) -> None:
    daemon = MoneroDaemonClient(rpc)
    settings = UnlockerSettings(scheme="prop")
    unlocker = create_unlocker(redis=redis_client, store=store, daemon=daemon, coin=MONERO, settings=settings)
    await record(store, "m", [share("alice", 2), share("bob", 1)])
    [block_id] = await generate_blocks(rpc, 1)
    height = (await daemon.get_block_header_by_hash(block_id)).height
    await add_candidate(store, height, block_id, finder="alice")

    # Our block is popped off the chain and someone else's takes its height.
    assert (await rpc.post_json("/pop_blocks", {"nblocks": 1}))["status"] == "OK"
    [rival] = await generate_blocks(rpc, 1, generate_address(random.Random(3), "monero"))
    assert rival != block_id and (await daemon.get_block_header_by_height(height)).hash_hex == rival
    await generate_blocks(rpc, 59)
    assert (await unlocker.run_once()).orphaned == ()  # the rival is 59 deep: not final yet

    await generate_blocks(rpc, 1)
    report = await unlocker.run_once()

    assert report.orphaned == (f"{height}:{block_id}",)
    assert await store.round_shares(RewardType.PROP) == {"alice": 2, "bob": 1}  # back in the live round
    assert await ledger.balances() == {}
    books = await check_books(redis_client, store, ledger)
    assert books.orphaned == {f"{height}:{block_id}"}
