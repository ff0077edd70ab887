"""The Monero daemon client against a real `monerod --regtest --offline` (one per module)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from athena_pool.coins.families import get_family
from athena_pool.pow import create_algorithm
from athena_pool.rpc import JsonRpcClient, MoneroDaemonClient, RpcError
from athena_pool.rpc.monerod_regtest import (
    REGTEST_ADDRESS,
    MonerodRegtest,
    MonerodStartError,
    generate_blocks,
)

MONERO = get_family("monero")
RESERVE_SIZE = 16


@pytest.fixture(scope="module")
def monerod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonerodRegtest]:
    if shutil.which("monerod") is None:
        pytest.skip("monerod is not installed (scripts/install --dev installs it)")
    with MonerodRegtest(tmp_path_factory.mktemp("monerod"), fixed_difficulty=1) as node:
        yield node


@pytest.fixture
async def rpc(monerod: MonerodRegtest) -> AsyncIterator[JsonRpcClient]:
    async with JsonRpcClient(monerod.rpc_url, timeout=30) as client:
        yield client


@pytest.fixture
def client(rpc: JsonRpcClient) -> MoneroDaemonClient:
    return MoneroDaemonClient(rpc)


async def test_headers_follow_generated_blocks(client: MoneroDaemonClient, rpc: JsonRpcClient) -> None:
    ids = await generate_blocks(rpc, 3)
    count = await client.get_block_count()
    last = await client.get_last_block_header()
    assert last.hash_hex == ids[-1]
    assert last.height == count - 1
    assert last.depth == 0 and last.orphan is False
    assert last.difficulty == 1
    assert last.reward_atomic > 0
    by_height = await client.get_block_header_by_height(last.height - 1)
    assert by_height.hash_hex == ids[-2] == last.prev_hash_hex
    assert by_height.depth == 1
    assert await client.get_block_header_by_hash(ids[-2]) == by_height


async def test_info(client: MoneroDaemonClient) -> None:
    info = await client.get_info()
    assert info.height == await client.get_block_count()
    assert info.target_height == info.height  # regtest offline: nothing to catch up with
    assert info.synced is True
    assert info.difficulty == 1


async def test_template_agrees_with_the_blob_family(client: MoneroDaemonClient, rpc: JsonRpcClient) -> None:
    await generate_blocks(rpc, 1)
    template = await client.get_block_template(REGTEST_ADDRESS, RESERVE_SIZE)
    last = await client.get_last_block_header()
    genesis = await client.get_block_header_by_height(0)
    assert template.height == last.height + 1 == MONERO.height(template.blob)
    assert template.prev_hash_hex == last.hash_hex == MONERO.prev_id(template.blob).hex()
    assert template.difficulty == 1
    # Our convert_blob gives monerod's blockhashing_blob byte for byte.
    assert template.hashing_blob_reported == MONERO.hashing_blob(template.blob)
    # Current monerod reports the true first payload byte, which is what parsing finds.
    assert MONERO.reserved_space(template.blob) == (template.reserved_offset_reported, RESERVE_SIZE)
    assert template.seed_hash == bytes.fromhex(genesis.hash_hex)  # rx seed below height 2048+64
    assert template.next_seed_hash is None


async def test_solved_block_is_accepted_and_becomes_the_tip(client: MoneroDaemonClient) -> None:
    template = await client.get_block_template(REGTEST_ADDRESS, RESERVE_SIZE)
    blob = MONERO.with_extra_nonce(template.blob, 0, bytes.fromhex("0000002a") + b"pool")
    block = MONERO.assemble_block(blob, bytes.fromhex("11223344"))
    randomx = create_algorithm("rx/0")
    try:
        pow_hash = randomx.hash(MONERO.pow_blob(block), height=template.height, seed=template.seed_hash)
    finally:
        randomx.close()
    assert len(pow_hash) == 32  # at fixed difficulty 1 any hash is a block
    await client.submit_block(block)
    tip = await client.get_block_header_by_height(template.height)
    assert tip.hash_hex == MONERO.block_id(block).hex()
    assert tip.orphan is False


async def test_garbage_block_is_refused_with_the_daemon_message(client: MoneroDaemonClient) -> None:
    with pytest.raises(RpcError) as caught:
        await client.submit_block(bytes.fromhex("00"))
    assert caught.value.code == -6
    assert "Wrong block blob" in caught.value.message


async def test_height_beyond_the_tip_is_an_rpc_error(client: MoneroDaemonClient) -> None:
    count = await client.get_block_count()
    with pytest.raises(RpcError, match="greater than current top block height"):
        await client.get_block_header_by_height(count + 100)


async def test_unknown_hash_is_an_rpc_error(client: MoneroDaemonClient) -> None:
    with pytest.raises(RpcError):
        await client.get_block_header_by_hash("ab" * 32)


def test_missing_binary_is_reported(tmp_path: Path) -> None:
    with pytest.raises(MonerodStartError, match="not found"):
        MonerodRegtest(tmp_path, binary="no-such-monerod-binary").start()
