"""Coin daemon clients: one face (`DaemonClient`), one class per RPC dialect, the same typed answers.

Dialects:
- `turtle`: Bytecoin/Forknote-style daemons (Athena, legacy TurtleCoin): `getblocktemplate`,
  `submitblock`, `getlastblockheader`, `getblockheaderbyheight`, `getblockheaderbyhash`, `getblockcount`
  over JSON-RPC, and `GET /getinfo`.
- `monero`: monerod: `get_block_template` (RandomX seeds, 128-bit difficulty), `submit_block`,
  `get_last_block_header`, `get_block_header_by_height`, `get_block_header_by_hash`, `get_block_count`,
  `get_info`.

Heights follow the daemons' own convention, which both dialects share: a template's `height` is the height
of the block being built (the coinbase height), and a header's `height` is that block's height.
Every field of every answer is checked; anything off raises `RpcBadResponse`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from athena_pool.rpc.errors import RpcBadResponse
from athena_pool.rpc.fields import (
    optional_hash,
    optional_int,
    parse_wide_hex,
    require_bool,
    require_hash_hex,
    require_hex,
    require_int,
    require_object,
    require_status_ok,
    require_str,
)
from athena_pool.rpc.jsonrpc import JsonRpcClient, reads_answer_of

MAX_RESERVE_SIZE = 255  # the daemons' own limit for the extra-nonce field


@dataclass(frozen=True)
class BlockTemplate:
    blob: bytes  # blocktemplate_blob, reserved space zeroed
    difficulty: int  # network difficulty of the block being built
    height: int  # height of the block being built
    prev_hash_hex: str | None  # None when the dialect does not report it (legacy getblocktemplate)
    reserved_offset_reported: int  # as the daemon said it; off by one on Bytecoin-family daemons
    seed_hash: bytes | None = None  # RandomX key of this block
    next_seed_hash: bytes | None = None  # RandomX key after the next switch, when the daemon knows it
    hashing_blob_reported: bytes | None = None  # monerod's blockhashing_blob, for a cross-check


@dataclass(frozen=True)
class BlockHeader:
    height: int
    hash_hex: str
    orphan: bool
    reward_atomic: int
    difficulty: int
    depth: int
    timestamp: int
    prev_hash_hex: str


@dataclass(frozen=True)
class DaemonInfo:
    height: int  # blocks in the daemon's chain (= height of the next block)
    target_height: int  # the network's height as the daemon knows it, never below `height`
    synced: bool
    difficulty: int


class DaemonClient(Protocol):
    """What the pool needs from a coin daemon. Every method raises only `RpcFailure` subclasses."""

    dialect: str

    async def get_block_template(self, wallet_address: str, reserve_size: int) -> BlockTemplate: ...

    async def submit_block(self, blob: bytes) -> None:
        """Returns when the daemon accepted the block; raises RpcError with its message otherwise."""
        ...

    async def get_last_block_header(self) -> BlockHeader: ...

    async def get_block_header_by_height(self, height: int) -> BlockHeader: ...

    async def get_block_header_by_hash(self, hash_hex: str) -> BlockHeader: ...

    async def get_block_count(self) -> int: ...

    async def get_info(self) -> DaemonInfo: ...


def _check_reserve_size(reserve_size: int) -> None:
    if not 0 <= reserve_size <= MAX_RESERVE_SIZE:
        raise ValueError(f"reserve_size must be within 0..{MAX_RESERVE_SIZE}")


def _difficulty(obj: dict[str, Any], what: str) -> int:
    """monerod's 128-bit difficulty (`wide_difficulty`, or top64 and low 64 bits); plain elsewhere."""
    if "wide_difficulty" in obj:
        return parse_wide_hex(require_str(obj, "wide_difficulty", what), "wide_difficulty", what)
    return (optional_int(obj, "difficulty_top64", what) << 64) | require_int(obj, "difficulty", what)


def _parse_header(result: Any, what: str) -> BlockHeader:
    answer = require_object(result, what)
    require_status_ok(answer, what)
    header = require_object(answer.get("block_header"), f"{what}.block_header")
    where = f"{what}.block_header"
    return BlockHeader(
        height=require_int(header, "height", where),
        hash_hex=require_hash_hex(header, "hash", where),
        orphan=require_bool(header, "orphan_status", where),
        reward_atomic=require_int(header, "reward", where),
        difficulty=_difficulty(header, where),
        depth=require_int(header, "depth", where),
        timestamp=require_int(header, "timestamp", where),
        prev_hash_hex=require_hash_hex(header, "prev_hash", where),
    )


def _parse_count(result: Any, what: str) -> int:
    answer = require_object(result, what)
    require_status_ok(answer, what)
    return require_int(answer, "count", what)


def _check_hash_hex(hash_hex: str) -> str:
    if len(hash_hex) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hash_hex):
        raise ValueError(f"not a 64-hex-character block hash: {hash_hex!r:.70}")
    return hash_hex.lower()


class TurtleDaemonClient:
    """Bytecoin/Forknote-style daemon RPC (Athena, legacy TurtleCoin)."""

    dialect = "turtle"

    def __init__(self, rpc: JsonRpcClient) -> None:
        self.rpc = rpc

    @reads_answer_of("getblocktemplate")
    async def get_block_template(self, wallet_address: str, reserve_size: int) -> BlockTemplate:
        _check_reserve_size(reserve_size)
        what = "getblocktemplate"
        params = {"reserve_size": reserve_size, "wallet_address": wallet_address}
        answer = require_object(await self.rpc.call(what, params), what)
        require_status_ok(answer, what)
        return BlockTemplate(
            blob=require_hex(answer, "blocktemplate_blob", what),
            difficulty=require_int(answer, "difficulty", what, minimum=1),
            height=require_int(answer, "height", what),
            # Legacy daemons leave it out; the template's blob holds it either way.
            prev_hash_hex=require_hash_hex(answer, "prev_hash", what) if "prev_hash" in answer else None,
            reserved_offset_reported=require_int(answer, "reserved_offset", what),
        )

    @reads_answer_of("submitblock")
    async def submit_block(self, blob: bytes) -> None:
        what = "submitblock"
        require_status_ok(require_object(await self.rpc.call(what, [blob.hex()]), what), what)

    @reads_answer_of("getlastblockheader")
    async def get_last_block_header(self) -> BlockHeader:
        return _parse_header(await self.rpc.call("getlastblockheader", {}), "getlastblockheader")

    @reads_answer_of("getblockheaderbyheight")
    async def get_block_header_by_height(self, height: int) -> BlockHeader:
        what = "getblockheaderbyheight"
        return _parse_header(await self.rpc.call(what, {"height": height}), what)

    @reads_answer_of("getblockheaderbyhash")
    async def get_block_header_by_hash(self, hash_hex: str) -> BlockHeader:
        what = "getblockheaderbyhash"
        return _parse_header(await self.rpc.call(what, {"hash": _check_hash_hex(hash_hex)}), what)

    @reads_answer_of("getblockcount")
    async def get_block_count(self) -> int:
        return _parse_count(await self.rpc.call("getblockcount", {}), "getblockcount")

    @reads_answer_of("/getinfo")
    async def get_info(self) -> DaemonInfo:
        what = "/getinfo"
        answer = await self.rpc.get_json(what)
        require_status_ok(answer, what)
        height = require_int(answer, "height", what)
        return DaemonInfo(
            height=height,
            target_height=max(height, optional_int(answer, "network_height", what)),
            synced=require_bool(answer, "synced", what),
            difficulty=require_int(answer, "difficulty", what),
        )


class MoneroDaemonClient:
    """monerod's JSON-RPC."""

    dialect = "monero"

    def __init__(self, rpc: JsonRpcClient) -> None:
        self.rpc = rpc

    @reads_answer_of("get_block_template")
    async def get_block_template(self, wallet_address: str, reserve_size: int) -> BlockTemplate:
        _check_reserve_size(reserve_size)
        what = "get_block_template"
        params = {"reserve_size": reserve_size, "wallet_address": wallet_address}
        answer = require_object(await self.rpc.call(what, params), what)
        require_status_ok(answer, what)
        difficulty = _difficulty(answer, what)
        if difficulty < 1:
            raise RpcBadResponse(f"{what}: difficulty must be at least 1, got {difficulty}")
        return BlockTemplate(
            blob=require_hex(answer, "blocktemplate_blob", what),
            difficulty=difficulty,
            height=require_int(answer, "height", what),
            prev_hash_hex=require_hash_hex(answer, "prev_hash", what),
            reserved_offset_reported=require_int(answer, "reserved_offset", what),
            seed_hash=bytes.fromhex(require_hash_hex(answer, "seed_hash", what)),
            next_seed_hash=optional_hash(answer, "next_seed_hash", what),
            hashing_blob_reported=require_hex(answer, "blockhashing_blob", what),
        )

    @reads_answer_of("submit_block")
    async def submit_block(self, blob: bytes) -> None:
        what = "submit_block"
        require_status_ok(require_object(await self.rpc.call(what, [blob.hex()]), what), what)

    @reads_answer_of("get_last_block_header")
    async def get_last_block_header(self) -> BlockHeader:
        return _parse_header(await self.rpc.call("get_last_block_header", {}), "get_last_block_header")

    @reads_answer_of("get_block_header_by_height")
    async def get_block_header_by_height(self, height: int) -> BlockHeader:
        what = "get_block_header_by_height"
        return _parse_header(await self.rpc.call(what, {"height": height}), what)

    @reads_answer_of("get_block_header_by_hash")
    async def get_block_header_by_hash(self, hash_hex: str) -> BlockHeader:
        what = "get_block_header_by_hash"
        return _parse_header(await self.rpc.call(what, {"hash": _check_hash_hex(hash_hex)}), what)

    @reads_answer_of("get_block_count")
    async def get_block_count(self) -> int:
        return _parse_count(await self.rpc.call("get_block_count", {}), "get_block_count")

    @reads_answer_of("get_info")
    async def get_info(self) -> DaemonInfo:
        what = "get_info"
        answer = require_object(await self.rpc.call(what, {}), what)
        require_status_ok(answer, what)
        height = require_int(answer, "height", what)
        # monerod reports target_height 0 once synced (and while it has no peers).
        busy = answer.get("busy_syncing", False) is True
        return DaemonInfo(
            height=height,
            target_height=max(height, require_int(answer, "target_height", what)),
            synced=require_bool(answer, "synchronized", what) and not busy,
            difficulty=_difficulty(answer, what),
        )


_DialectClass = type[TurtleDaemonClient] | type[MoneroDaemonClient]
DAEMON_DIALECTS: MappingProxyType[str, _DialectClass] = MappingProxyType(
    {TurtleDaemonClient.dialect: TurtleDaemonClient, MoneroDaemonClient.dialect: MoneroDaemonClient}
)


def create_daemon_client(dialect: str, rpc: JsonRpcClient) -> DaemonClient:
    """The client for a coin profile's RPC dialect name (`Coin.rpc_dialect.value`: "turtle" or "monero")."""
    try:
        cls = DAEMON_DIALECTS[dialect]
    except KeyError:
        known = ", ".join(sorted(DAEMON_DIALECTS))
        raise ValueError(f"unknown daemon RPC dialect {dialect!r}; known: {known}") from None
    return cls(rpc)
