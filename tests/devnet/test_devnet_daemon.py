"""The devnet daemon over real HTTP: templates, real-PoW blocks, refusals, headers, orphans."""

from __future__ import annotations

import os
from dataclasses import replace

from devnet_testkit import FAMILY, Rpc, grind, solve_block, solve_template

from athena_pool.coins.extra import merge_mining_field
from athena_pool.coins.transaction import TxOutput
from athena_pool.devnet.emission import ATHENA_EMISSION
from athena_pool.devnet.runner import RunningDevnet

HEADER_FIELDS = {
    "major_version",
    "minor_version",
    "timestamp",
    "prev_hash",
    "nonce",
    "orphan_status",
    "height",
    "depth",
    "hash",
    "difficulty",
    "reward",
    "num_txes",
    "block_size",
}


async def test_template_has_athena_shape_and_legacy_reserved_offset(rpc: Rpc, devnet: RunningDevnet) -> None:
    template = await rpc.template(reserve_size=17)

    blob = bytes.fromhex(template["blocktemplate_blob"])
    block = FAMILY.parse(blob)
    assert set(template) == {"difficulty", "height", "reserved_offset", "blocktemplate_blob", "status"}
    assert (template["height"], template["difficulty"], block.major_version) == (
        1,
        devnet.chain.params.difficulty,
        4,
    )
    assert block.prev_id == devnet.chain.genesis.block_id
    assert block.miner_tx.unlock_time == 1 + 4
    assert sum(output.amount_atomic for output in block.miner_tx.outputs) == ATHENA_EMISSION.block_reward(
        1, devnet.chain.genesis.generated_coins
    )
    space = FAMILY.reserved_space(blob)
    assert space.size == 17
    assert template["reserved_offset"] == space.offset + 1  # what the real Athena daemon reports
    assert len(FAMILY.hashing_blob(blob)) == 76


async def test_mined_block_extends_chain_and_is_found_by_height(rpc: Rpc, devnet: RunningDevnet) -> None:
    blob = await rpc.mine_block()
    block_id = FAMILY.block_id(blob).hex()

    assert (await rpc.daemon_result("getblockcount"))["count"] == 2
    header = (await rpc.daemon_result("getblockheaderbyheight", {"height": 1}))["block_header"]
    assert set(header) == HEADER_FIELDS
    assert header["hash"] == block_id
    assert header["height"] == 1 and header["depth"] == 0 and header["orphan_status"] is False
    assert header["prev_hash"] == devnet.chain.genesis.block_id.hex()
    assert header["reward"] == sum(o.amount_atomic for o in FAMILY.parse(blob).miner_tx.outputs)
    assert header["nonce"] == int.from_bytes(FAMILY.parse(blob).nonce, "little")
    assert header["difficulty"] == devnet.chain.params.difficulty
    assert (await rpc.daemon_result("getlastblockheader"))["block_header"] == header
    assert (await rpc.daemon_result("getblockheaderbyhash", {"hash": block_id}))["block_header"] == header
    assert devnet.chain.tip.miner_address == devnet.pool_address


async def test_extra_nonce_in_reserved_space_is_accepted(rpc: Rpc) -> None:
    template = await rpc.template(reserve_size=8)
    blob = solve_template(
        bytes.fromhex(template["blocktemplate_blob"]), template["difficulty"], extra_nonce=os.urandom(8)
    )
    assert (await rpc.daemon("submitblock", [blob.hex()]))["result"] == {"status": "OK"}


async def test_block_on_unknown_parent_is_refused(rpc: Rpc) -> None:
    template = await rpc.template()
    block = FAMILY.parse(bytes.fromhex(template["blocktemplate_blob"]))
    stranger = replace(block, prev_id=os.urandom(32))
    blob = solve_template(FAMILY.serialize(stranger), template["difficulty"])

    reply = await rpc.daemon("submitblock", [blob.hex()])

    assert reply["error"] == {"code": -7, "message": "Block not accepted"}
    assert (await rpc.daemon_result("getblockcount"))["count"] == 1


async def test_block_with_insufficient_pow_is_refused(rpc: Rpc) -> None:
    template = await rpc.template()
    job = bytes.fromhex(template["blocktemplate_blob"])
    nonce = grind(FAMILY.hashing_blob(job), template["difficulty"], want_valid=False)

    reply = await rpc.daemon("submitblock", [FAMILY.assemble_block(job, nonce).hex()])

    assert reply["error"]["code"] == -7
    assert (await rpc.daemon_result("getblockcount"))["count"] == 1


async def test_block_whose_parent_does_not_commit_to_it_is_refused(rpc: Rpc) -> None:
    template = await rpc.template()
    mined = FAMILY.parse(
        solve_template(bytes.fromhex(template["blocktemplate_blob"]), template["difficulty"])
    )
    assert mined.parent is not None
    wrong_tag = replace(mined.parent.miner_tx, extra=merge_mining_field(0, os.urandom(32)))
    forged = replace(mined, parent=replace(mined.parent, miner_tx=wrong_tag))
    blob = solve_block(forged, template["difficulty"])  # its PoW is fine: only the merge-mining root is wrong

    reply = await rpc.daemon("submitblock", [blob.hex()])

    assert reply["error"]["code"] == -7


async def test_block_paying_more_than_the_reward_is_refused(rpc: Rpc) -> None:
    template = await rpc.template()
    block = FAMILY.parse(bytes.fromhex(template["blocktemplate_blob"]))
    first = block.miner_tx.outputs[0]
    greedy_tx = replace(
        block.miner_tx, outputs=(TxOutput(first.amount_atomic + 1, first.key), *block.miner_tx.outputs[1:])
    )
    blob = solve_template(FAMILY.serialize(replace(block, miner_tx=greedy_tx)), template["difficulty"])

    assert (await rpc.daemon("submitblock", [blob.hex()]))["error"]["code"] == -7


async def test_garbage_and_malformed_submissions(rpc: Rpc) -> None:
    assert (await rpc.daemon("submitblock", ["zz"]))["error"] == {"code": -6, "message": "Wrong block blob"}
    assert (await rpc.daemon("submitblock", ["0400ff"]))["error"]["code"] == -7
    assert (await rpc.daemon("submitblock", ["00", "11"]))["error"] == {"code": -1, "message": "Wrong param"}
    assert (await rpc.daemon("submitblock", {"blob": "00"}))["error"]["code"] == -1


async def test_same_block_twice_is_refused_the_second_time(rpc: Rpc) -> None:
    blob = await rpc.mine_block()
    assert (await rpc.daemon("submitblock", [blob.hex()]))["error"]["code"] == -7


async def test_stale_block_is_kept_on_a_side_chain(rpc: Rpc, devnet: RunningDevnet) -> None:
    stale_template = await rpc.template()
    await rpc.operator("mine", {"count": 1})  # someone else wins height 1 first
    stale = solve_template(bytes.fromhex(stale_template["blocktemplate_blob"]), stale_template["difficulty"])

    # Like the real daemon, a valid block on a known non-tip parent is accepted onto an alternative chain.
    assert (await rpc.daemon("submitblock", [stale.hex()]))["result"] == {"status": "OK"}

    stale_id = FAMILY.block_id(stale).hex()
    main = (await rpc.daemon_result("getblockheaderbyheight", {"height": 1}))["block_header"]
    assert main["hash"] != stale_id
    by_hash = (await rpc.daemon_result("getblockheaderbyhash", {"hash": stale_id}))["block_header"]
    assert by_hash["height"] == 1 and by_hash["orphan_status"] is True
    async with rpc.session.get(f"{devnet.daemon_url}/getinfo") as response:
        assert (await response.json())["alt_blocks_count"] == 1


async def test_orphan_hook_replaces_the_last_blocks(rpc: Rpc, devnet: RunningDevnet) -> None:
    ours = FAMILY.block_id(await rpc.mine_block()).hex()
    await rpc.operator("mine", {"count": 2})

    report = await rpc.operator("orphan", {"count": 3})

    assert [h["height"] for h in report["orphaned"]] == [1, 2, 3]
    assert report["orphaned"][0]["hash"] == ours
    assert len(report["new_blocks"]) == 4 and report["height"] == 4
    at_one = (await rpc.daemon_result("getblockheaderbyheight", {"height": 1}))["block_header"]
    assert at_one["hash"] != ours and at_one["prev_hash"] == devnet.chain.genesis.block_id.hex()
    assert (await rpc.daemon_result("getblockheaderbyhash", {"hash": ours}))["block_header"]["orphan_status"]
    assert (await rpc.daemon_result("getblockcount"))["count"] == 5


async def test_operator_refuses_to_orphan_genesis(rpc: Rpc) -> None:
    async with rpc.session.post(f"{rpc.devnet.daemon_url}/devnet/orphan", json={"count": 1}) as response:
        assert response.status == 400


async def test_template_refusals(rpc: Rpc, devnet: RunningDevnet) -> None:
    bad = await rpc.daemon("getblocktemplate", {"reserve_size": 8, "wallet_address": "athenaNotAnAddress"})
    assert bad["error"] == {"code": -4, "message": "Failed to parse wallet address"}
    missing = await rpc.daemon("getblocktemplate", {"reserve_size": 8})
    assert missing["error"]["code"] == -4
    big = await rpc.daemon("getblocktemplate", {"reserve_size": 256, "wallet_address": devnet.pool_address})
    assert big["error"] == {"code": -3, "message": "To big reserved size, maximum 255"}
    integrated = devnet_integrated_address(devnet.pool_address)
    assert (await rpc.daemon("getblocktemplate", {"wallet_address": integrated}))["error"]["code"] == -4


def devnet_integrated_address(address: str) -> str:
    from athena_pool.coins.addresses import AddressKind, decode_address, encode_address

    decoded = decode_address(address, "athena")
    return encode_address(
        "athena",
        decoded.public_spend_key,
        decoded.public_view_key,
        kind=AddressKind.INTEGRATED,
        payment_id_hex="ab" * 32,
    )


async def test_header_lookup_errors(rpc: Rpc) -> None:
    too_big = await rpc.daemon("getblockheaderbyheight", {"height": 5})
    assert too_big["error"] == {"code": -2, "message": "To big height: 5, current blockchain height = 0"}
    not_hex = await rpc.daemon("getblockheaderbyhash", {"hash": "xyz"})
    assert not_hex["error"]["code"] == -1
    unknown = await rpc.daemon("getblockheaderbyhash", {"hash": "ab" * 32})
    assert unknown["error"]["code"] == -5
    wrong_type = await rpc.daemon("getblockheaderbyheight", {"height": "one"})
    assert wrong_type["error"]["code"] == -32603


async def test_json_rpc_envelope_errors(rpc: Rpc, devnet: RunningDevnet) -> None:
    assert (await rpc.daemon("no_such_method"))["error"] == {"code": -32601, "message": "Method not found"}
    async with rpc.session.post(f"{devnet.daemon_url}/json_rpc", data=b"{not json") as response:
        reply = await response.json()
    assert reply == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}


async def test_getinfo_getheight_and_currency_id(rpc: Rpc, devnet: RunningDevnet) -> None:
    await rpc.mine_block()
    async with rpc.session.get(f"{devnet.daemon_url}/getinfo") as response:
        info = await response.json()
    async with rpc.session.get(f"{devnet.daemon_url}/getheight") as response:
        height = await response.json()
    assert (
        info["status"] == "OK"
        and info["height"] == 2
        and info["difficulty"] == devnet.chain.params.difficulty
    )
    assert info["synced"] is True and info["major_version"] == 4
    assert height == {"height": 2, "network_height": 2, "status": "OK"}
    currency = await rpc.daemon_result("getcurrencyid")
    assert currency["currency_id_blob"] == devnet.chain.genesis.block_id.hex()
