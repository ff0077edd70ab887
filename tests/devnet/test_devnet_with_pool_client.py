"""The pool's own TurtleCoin-dialect daemon client, pointed at the devnet: every answer must parse."""

from __future__ import annotations

import asyncio

from devnet_testkit import FAMILY, solve_template

from athena_pool.devnet.runner import RunningDevnet
from athena_pool.rpc.daemon import TurtleDaemonClient
from athena_pool.rpc.jsonrpc import JsonRpcClient


async def test_pool_daemon_client_speaks_to_the_devnet(devnet: RunningDevnet) -> None:
    async with JsonRpcClient(devnet.daemon_url) as rpc:
        client = TurtleDaemonClient(rpc)
        template = await client.get_block_template(devnet.pool_address, 17)
        assert template.height == 1 and template.difficulty == devnet.chain.params.difficulty
        assert template.reserved_offset_reported == FAMILY.reserved_space(template.blob).offset + 1

        block = await asyncio.to_thread(
            solve_template, template.blob, template.difficulty, extra_nonce=b"\x01" * 8
        )
        await client.submit_block(block)

        block_id = FAMILY.block_id(block).hex()
        assert (await client.get_block_header_by_height(1)).hash_hex == block_id
        by_hash = await client.get_block_header_by_hash(block_id)
        assert (by_hash.height, by_hash.orphan, by_hash.depth) == (1, False, 0)
        assert (await client.get_last_block_header()).hash_hex == block_id
        assert await client.get_block_count() == 2
        info = await client.get_info()
        assert (info.height, info.synced, info.difficulty) == (2, True, devnet.chain.params.difficulty)
