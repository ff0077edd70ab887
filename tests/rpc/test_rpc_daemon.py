"""Both daemon dialects against a real local server: real answers parse, broken ones are named."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from scripted_daemon import Answer, ScriptedServer

from athena_pool.rpc import (
    BlockHeader,
    DaemonInfo,
    JsonRpcClient,
    MoneroDaemonClient,
    RpcBadResponse,
    RpcError,
    RpcUnavailable,
    TurtleDaemonClient,
    create_daemon_client,
)

ADDRESS = "athena-pool-test-address"
HASH_A = "58627a551a2e849a16894a5af79120ffda84ebbc8558037773f321ae73249a79"
HASH_B = "e070c709c0620541c673894a4d0152c1ad299b0340abeff6ae5540365278c97a"

# As monerod 0.18 answers get_last_block_header on regtest (trimmed of fields the pool ignores).
MONERO_HEADER: dict[str, Any] = {
    "block_header": {
        "depth": 0,
        "difficulty": 1,
        "difficulty_top64": 0,
        "hash": HASH_A,
        "height": 3,
        "major_version": 16,
        "nonce": 0,
        "orphan_status": False,
        "prev_hash": HASH_B,
        "reward": 35184204316927,
        "timestamp": 1795520311,
        "wide_difficulty": "0x1",
    },
    "status": "OK",
    "untrusted": False,
}

# The legacy TurtleCoin/Athena block_header_response fields.
TURTLE_HEADER: dict[str, Any] = {
    "block_header": {
        "major_version": 4,
        "minor_version": 0,
        "timestamp": 1700000000,
        "prev_hash": HASH_B,
        "nonce": 12,
        "orphan_status": False,
        "height": 41,
        "depth": 2,
        "hash": HASH_A,
        "difficulty": 5000,
        "reward": 2_000_000,
        "num_txes": 1,
        "block_size": 300,
    },
    "status": "OK",
}


def _template_vector(block_vectors: list[dict[str, Any]], coin: str, height: int) -> dict[str, Any]:
    return next(
        v for v in block_vectors if v["coin"] == coin and v["height"] == height and v["kind"] == "template"
    )


def _turtle_template_answer(block_vectors: list[dict[str, Any]]) -> dict[str, Any]:
    vector = _template_vector(block_vectors, "TRTL", 1457937)
    source = vector["template_json"]
    return {
        "blocktemplate_blob": source["blob"],
        "difficulty": source["difficulty"],
        "height": vector["height"],
        "reserved_offset": source["reservedOffset"],
        "status": "OK",
    }


@pytest.fixture
async def turtle(server: ScriptedServer) -> AsyncIterator[TurtleDaemonClient]:
    async with JsonRpcClient(server.url, timeout=2) as rpc:
        yield TurtleDaemonClient(rpc)


@pytest.fixture
async def monero(server: ScriptedServer) -> AsyncIterator[MoneroDaemonClient]:
    async with JsonRpcClient(server.url, timeout=2) as rpc:
        yield MoneroDaemonClient(rpc)


async def test_turtle_template_parses_a_real_answer(
    server: ScriptedServer, turtle: TurtleDaemonClient, block_vectors: list[dict[str, Any]]
) -> None:
    answer = _turtle_template_answer(block_vectors)
    server.answer("getblocktemplate", answer)
    template = await turtle.get_block_template(ADDRESS, 16)
    assert template.blob.hex() == answer["blocktemplate_blob"]
    assert template.difficulty == 9796275295
    assert template.height == 1457937
    assert template.reserved_offset_reported == 411
    assert template.prev_hash_hex is None  # the legacy answer has no prev_hash
    assert template.seed_hash is None
    assert server.calls == [("getblocktemplate", {"reserve_size": 16, "wallet_address": ADDRESS})]


async def test_turtle_template_takes_prev_hash_when_given(
    server: ScriptedServer, turtle: TurtleDaemonClient, block_vectors: list[dict[str, Any]]
) -> None:
    server.answer("getblocktemplate", {**_turtle_template_answer(block_vectors), "prev_hash": HASH_B.upper()})
    template = await turtle.get_block_template(ADDRESS, 16)
    assert template.prev_hash_hex == HASH_B


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"blocktemplate_blob": None}, "'blocktemplate_blob' must be a string"),
        ({"blocktemplate_blob": "abc"}, "'blocktemplate_blob' is not hex"),
        ({"blocktemplate_blob": "zz"}, "'blocktemplate_blob' is not hex"),
        ({"blocktemplate_blob": ""}, "'blocktemplate_blob' is not hex"),
        ({"difficulty": "5000"}, "'difficulty' must be an integer"),
        ({"difficulty": 0}, "'difficulty' must be an integer >= 1"),
        ({"height": -1}, "'height' must be an integer"),
        ({"height": True}, "'height' must be an integer"),
        ({"height": 1.5}, "'height' must be an integer"),
        ({"reserved_offset": None}, "'reserved_offset' must be an integer"),
        ({"prev_hash": "abcd"}, "'prev_hash' is not a 64-hex"),
        ({"status": "FAILED"}, "status is 'FAILED'"),
    ],
)
async def test_turtle_template_rejects_broken_fields(
    server: ScriptedServer,
    turtle: TurtleDaemonClient,
    block_vectors: list[dict[str, Any]],
    change: dict[str, Any],
    fragment: str,
) -> None:
    server.answer("getblocktemplate", {**_turtle_template_answer(block_vectors), **change})
    with pytest.raises(RpcBadResponse, match=fragment):
        await turtle.get_block_template(ADDRESS, 16)


async def test_missing_field_is_named(
    server: ScriptedServer, turtle: TurtleDaemonClient, block_vectors: list[dict[str, Any]]
) -> None:
    answer = _turtle_template_answer(block_vectors)
    del answer["height"]
    server.answer("getblocktemplate", answer)
    with pytest.raises(RpcBadResponse, match="getblocktemplate: field 'height' is missing"):
        await turtle.get_block_template(ADDRESS, 16)


async def test_result_that_is_not_an_object_is_bad(
    server: ScriptedServer, turtle: TurtleDaemonClient
) -> None:
    server.answer("getblocktemplate", "OK")
    with pytest.raises(RpcBadResponse, match="expected a JSON object"):
        await turtle.get_block_template(ADDRESS, 16)


async def test_busy_daemon_is_unavailable(server: ScriptedServer, turtle: TurtleDaemonClient) -> None:
    server.answer("getblockcount", {"count": 5, "status": "BUSY"})
    with pytest.raises(RpcUnavailable, match="busy"):
        await turtle.get_block_count()


async def test_reserve_size_is_bounded(turtle: TurtleDaemonClient) -> None:
    with pytest.raises(ValueError, match="reserve_size"):
        await turtle.get_block_template(ADDRESS, 256)


async def test_turtle_headers(server: ScriptedServer, turtle: TurtleDaemonClient) -> None:
    server.answer("getlastblockheader", TURTLE_HEADER)
    server.answer("getblockheaderbyheight", TURTLE_HEADER)
    server.answer("getblockheaderbyhash", TURTLE_HEADER)
    expected = BlockHeader(
        height=41,
        hash_hex=HASH_A,
        orphan=False,
        reward_atomic=2_000_000,
        difficulty=5000,
        depth=2,
        timestamp=1700000000,
        prev_hash_hex=HASH_B,
    )
    assert await turtle.get_last_block_header() == expected
    assert await turtle.get_block_header_by_height(41) == expected
    assert await turtle.get_block_header_by_hash(HASH_A.upper()) == expected
    assert server.calls == [
        ("getlastblockheader", {}),
        ("getblockheaderbyheight", {"height": 41}),
        ("getblockheaderbyhash", {"hash": HASH_A}),
    ]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("hash", HASH_A[:-2], "'hash' is not a 64-hex"),
        ("hash", "g" * 64, "'hash' is not a 64-hex"),
        ("orphan_status", 0, "'orphan_status' must be true or false"),
        ("reward", -5, "'reward' must be an integer"),
        ("depth", "2", "'depth' must be an integer"),
        ("prev_hash", None, "'prev_hash' must be a string"),
    ],
)
async def test_broken_header_fields(
    server: ScriptedServer, turtle: TurtleDaemonClient, field: str, value: Any, fragment: str
) -> None:
    header = copy.deepcopy(TURTLE_HEADER)
    header["block_header"][field] = value
    server.answer("getlastblockheader", header)
    with pytest.raises(RpcBadResponse, match=fragment):
        await turtle.get_last_block_header()


async def test_header_without_block_header_is_bad(server: ScriptedServer, turtle: TurtleDaemonClient) -> None:
    server.answer("getlastblockheader", {"status": "OK"})
    with pytest.raises(RpcBadResponse, match="block_header: expected a JSON object"):
        await turtle.get_last_block_header()


async def test_header_lookup_refuses_a_malformed_hash(turtle: TurtleDaemonClient) -> None:
    with pytest.raises(ValueError, match="64-hex"):
        await turtle.get_block_header_by_hash("abc")


async def test_turtle_submit_and_count(server: ScriptedServer, turtle: TurtleDaemonClient) -> None:
    server.answer("submitblock", {"status": "OK"})
    server.answer("getblockcount", {"count": 42, "status": "OK"})
    await turtle.submit_block(bytes.fromhex("0400ff"))
    assert await turtle.get_block_count() == 42
    assert server.calls[0] == ("submitblock", ["0400ff"])


async def test_turtle_submit_refusal_carries_the_daemon_message(
    server: ScriptedServer, turtle: TurtleDaemonClient
) -> None:
    server.script("submitblock", Answer(error={"code": -7, "message": "Block not accepted"}))
    with pytest.raises(RpcError, match="Block not accepted"):
        await turtle.submit_block(b"\x04\x00")


async def test_turtle_info_from_plain_getinfo(server: ScriptedServer, turtle: TurtleDaemonClient) -> None:
    info = {"height": 100, "network_height": 120, "synced": False, "difficulty": 777, "status": "OK"}
    server.paths["/getinfo"] = lambda _p: Answer(result=info)
    assert await turtle.get_info() == DaemonInfo(height=100, target_height=120, synced=False, difficulty=777)


async def test_turtle_info_rejects_a_string_synced(
    server: ScriptedServer, turtle: TurtleDaemonClient
) -> None:
    info = {"height": 100, "network_height": 120, "synced": "yes", "difficulty": 777}
    server.paths["/getinfo"] = lambda _p: Answer(result=info)
    with pytest.raises(RpcBadResponse, match="'synced' must be true or false"):
        await turtle.get_info()


async def test_monero_template_parses_a_real_answer(
    server: ScriptedServer, monero: MoneroDaemonClient, block_vectors: list[dict[str, Any]]
) -> None:
    source = _template_vector(block_vectors, "XMR", 3195018)["template_json"]["result"]
    server.answer("get_block_template", source)
    template = await monero.get_block_template(ADDRESS, 60)
    assert template.blob.hex() == source["blocktemplate_blob"]
    assert template.difficulty == 283305047039
    assert template.height == 3195018
    assert template.prev_hash_hex == source["prev_hash"]
    assert template.reserved_offset_reported == 131
    assert template.seed_hash == bytes.fromhex(source["seed_hash"])
    assert template.next_seed_hash is None  # monerod sends "" when it does not know the next seed yet
    assert template.hashing_blob_reported == bytes.fromhex(source["blockhashing_blob"])


async def test_monero_wide_difficulty_beyond_64_bits(
    server: ScriptedServer, monero: MoneroDaemonClient, block_vectors: list[dict[str, Any]]
) -> None:
    source = dict(_template_vector(block_vectors, "XMR", 3195018)["template_json"]["result"])
    source["wide_difficulty"] = "0x10000000000000005"
    source["next_seed_hash"] = HASH_A
    server.answer("get_block_template", source)
    template = await monero.get_block_template(ADDRESS, 60)
    assert template.difficulty == (1 << 64) + 5
    assert template.next_seed_hash == bytes.fromhex(HASH_A)


async def test_monero_top64_difficulty_without_wide_field(
    server: ScriptedServer, monero: MoneroDaemonClient, block_vectors: list[dict[str, Any]]
) -> None:
    source = dict(_template_vector(block_vectors, "XMR", 3195018)["template_json"]["result"])
    del source["wide_difficulty"]
    source["difficulty_top64"] = 2
    server.answer("get_block_template", source)
    template = await monero.get_block_template(ADDRESS, 60)
    assert template.difficulty == (2 << 64) + 283305047039


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"seed_hash": ""}, "'seed_hash' is not a 64-hex"),
        ({"seed_hash": None}, "'seed_hash' must be a string"),
        ({"next_seed_hash": "1234"}, "'next_seed_hash' is not a 64-hex"),
        ({"wide_difficulty": "0xZZ"}, "'wide_difficulty' is not a 128-bit hex"),
        ({"wide_difficulty": "0x0"}, "difficulty must be at least 1"),
        ({"prev_hash": 5}, "'prev_hash' must be a string"),
        ({"blockhashing_blob": "0"}, "'blockhashing_blob' is not hex"),
    ],
)
async def test_monero_template_rejects_broken_fields(
    server: ScriptedServer,
    monero: MoneroDaemonClient,
    block_vectors: list[dict[str, Any]],
    change: dict[str, Any],
    fragment: str,
) -> None:
    source = {**_template_vector(block_vectors, "XMR", 3195018)["template_json"]["result"], **change}
    server.answer("get_block_template", source)
    with pytest.raises(RpcBadResponse, match=fragment):
        await monero.get_block_template(ADDRESS, 60)


async def test_monero_header_and_info(server: ScriptedServer, monero: MoneroDaemonClient) -> None:
    server.answer("get_last_block_header", MONERO_HEADER)
    info = {
        "height": 4,
        "target_height": 0,
        "synchronized": True,
        "busy_syncing": False,
        "wide_difficulty": "0x1",
        "difficulty": 1,
        "status": "OK",
    }
    server.answer("get_info", info)
    header = await monero.get_last_block_header()
    assert header.hash_hex == HASH_A
    assert header.height == 3
    assert header.reward_atomic == 35184204316927
    # target_height 0 is monerod's "nothing to catch up with"
    assert await monero.get_info() == DaemonInfo(height=4, target_height=4, synced=True, difficulty=1)


async def test_monero_info_busy_syncing_is_not_synced(
    server: ScriptedServer, monero: MoneroDaemonClient
) -> None:
    info = {"height": 4, "target_height": 90, "synchronized": True, "busy_syncing": True, "difficulty": 1}
    server.answer("get_info", info)
    assert (await monero.get_info()).synced is False


def test_dialects_by_name() -> None:
    rpc = JsonRpcClient("http://127.0.0.1:1")
    assert isinstance(create_daemon_client("turtle", rpc), TurtleDaemonClient)
    assert isinstance(create_daemon_client("monero", rpc), MoneroDaemonClient)
    with pytest.raises(ValueError, match="unknown daemon RPC dialect 'bitcoin'"):
        create_daemon_client("bitcoin", rpc)
