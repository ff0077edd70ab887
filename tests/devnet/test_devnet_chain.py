"""Chain rules that need no HTTP: emission, the journal replay, other people's timer blocks."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import aiohttp
from devnet_testkit import FAMILY, Rpc, grind

from athena_pool.devnet.emission import ATHENA_EMISSION, split_into_digit_outputs
from athena_pool.devnet.journal import Journal
from athena_pool.devnet.runner import DevnetOptions, start_devnet


def test_emission_follows_athena() -> None:
    assert ATHENA_EMISSION.block_reward(0, 0) == 214_748_364  # the premine
    assert ATHENA_EMISSION.block_reward(1, 214_748_364) == (2_147_483_647 - 214_748_364) >> 9
    assert ATHENA_EMISSION.block_reward(319, 1_000_000_000) == (2_147_483_647 - 1_000_000_000) >> 9
    assert ATHENA_EMISSION.block_reward(320, 1_000_000_000) == (2_147_483_647 - 1_000_000_000) >> 18


def test_reward_splits_into_one_output_per_digit() -> None:
    assert split_into_digit_outputs(3_774_873) == [3, 70, 800, 4_000, 70_000, 700_000, 3_000_000]
    assert split_into_digit_outputs(1_000) == [1_000]
    assert sum(split_into_digit_outputs(987_654_321)) == 987_654_321


async def test_chain_survives_a_restart(devnet_options: DevnetOptions) -> None:
    async with start_devnet(devnet_options) as devnet, aiohttp.ClientSession() as session:
        rpc = Rpc(session, devnet)
        ours = FAMILY.block_id(await rpc.mine_block()).hex()
        await rpc.operator("mine", {"count": 2})
        before = [
            (await rpc.daemon_result("getblockheaderbyheight", {"height": h}))["block_header"]
            for h in range(4)
        ]

    async with start_devnet(devnet_options) as devnet, aiohttp.ClientSession() as session:
        rpc = Rpc(session, devnet)
        after = [
            (await rpc.daemon_result("getblockheaderbyheight", {"height": h}))["block_header"]
            for h in range(4)
        ]
        assert after == before
        assert after[1]["hash"] == ours
        assert (
            devnet.chain.block_at(1) is not None
            and devnet.chain.block_at(1).miner_address == devnet.pool_address
        )
        await rpc.mine_block()  # and it keeps growing from where it was
        assert (await rpc.daemon_result("getblockcount"))["count"] == 5


async def test_other_people_mine_on_a_timer(devnet_options: DevnetOptions) -> None:
    options = dataclasses.replace(devnet_options, network_blocks=True, block_time=0.05)
    async with start_devnet(options) as devnet:
        async with asyncio.timeout(60):
            while devnet.chain.height < 3:
                await asyncio.sleep(0.05)
        assert all(block.miner_address != devnet.pool_address for block in devnet.chain.main_blocks(1))


def test_journal_ignores_a_torn_last_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append({"n": 1})
    with journal.path.open("ab") as handle:
        handle.write(b'{"n": 2, "trunc')  # a crash in the middle of a write
    assert journal.load() == [{"n": 1}]
    journal.append({"n": 3})
    assert journal.load() == [{"n": 1}, {"n": 3}]


async def test_demo_difficulty_network_blocks_are_not_ground(devnet_options: DevnetOptions) -> None:
    options = dataclasses.replace(devnet_options, difficulty=10_000)  # "auto": too dear to grind
    async with start_devnet(options) as devnet, aiohttp.ClientSession() as session:
        rpc = Rpc(session, devnet)
        assert devnet.network.real_pow is False
        await rpc.operator("mine", {"count": 3})
        report = await rpc.operator("orphan", {"count": 2})
        assert len(report["orphaned"]) == 2 and report["height"] == 4
        # Submitted blocks still need the real thing.
        template = await rpc.template()
        job = bytes.fromhex(template["blocktemplate_blob"])
        nonce = grind(FAMILY.hashing_blob(job), template["difficulty"], want_valid=False)
        refused = await rpc.daemon("submitblock", [FAMILY.assemble_block(job, nonce).hex()])
        assert refused["error"]["code"] == -7
