"""The devnet daemon: Athena's (TurtleCoin-family) RPC over aiohttp, answering from the devnet chain.

Method names, parameter names, result fields, error codes and messages follow athena-network/athena
`src/Rpc/RpcServer.cpp` and TurtleCoin's `CoreRpcServerCommandsDefinitions.h` / `CoreRpcServerErrorCodes.h`:

    POST /json_rpc   getblocktemplate, submitblock, getlastblockheader, getblockheaderbyheight,
                     getblockheaderbyhash, getblockcount, getcurrencyid
    GET  /getinfo, /getheight

Two deliberate differences, both documented at the point they happen: `orphan_status` is true for a
block that is not on the main chain (Athena hard-codes false), and side-chain blocks are kept and
reported (Athena keeps them too). Operator controls live under /devnet/, apart from the real RPC:

    POST /devnet/mine {"count": N}     mine N "other people's" blocks now
    POST /devnet/orphan {"count": N}   replace the last N main-chain blocks by N+1 blocks of someone else
    GET  /devnet/status                chain summary
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from athena_pool.coins.addresses import AddressError, AddressKind, decode_address
from athena_pool.devnet.chain import BlockRejectedError, Chain, ChainBlock
from athena_pool.devnet.jsonrpc import (
    INTERNAL_ERROR,
    METHOD_NOT_FOUND,
    JsonObject,
    ParamError,
    RpcError,
    as_object,
    error_response,
    read_json_object,
    result_response,
    text,
    unsigned,
)
from athena_pool.devnet.network import MAX_BLOCKS_PER_REQUEST, NetworkMiner
from athena_pool.pow import PowVerifier

log = logging.getLogger(__name__)

# CoreRpcServerErrorCodes.h
WRONG_PARAM = -1
TOO_BIG_HEIGHT = -2
TOO_BIG_RESERVE_SIZE = -3
WRONG_WALLET_ADDRESS = -4
INTERNAL = -5
WRONG_BLOCKBLOB = -6
BLOCK_NOT_ACCEPTED = -7
STATUS_OK = "OK"
MAX_REQUEST_BYTES = 256 * 1024  # a devnet block blob is well under 1 KiB
MAX_RESERVE_SIZE = 255
VERSION = "athena-pool devnet"
# Athena's FORK_HEIGHTS and the index this daemon supports, reported by /getinfo.
UPGRADE_HEIGHTS = (320, 4392, 8684, 13176, 17568)


class DevnetDaemon:
    def __init__(
        self,
        chain: Chain,
        network: NetworkMiner,
        verifier: PowVerifier,
        *,
        address_network: str = "athena",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chain = chain
        self.network = network
        self._verifier = verifier
        self._address_network = address_network
        self._start_time = int(clock())
        self._methods: dict[str, Callable[[Any], Awaitable[JsonObject]]] = {
            "getblocktemplate": self._getblocktemplate,
            "submitblock": self._submitblock,
            "getlastblockheader": self._getlastblockheader,
            "getblockheaderbyheight": self._getblockheaderbyheight,
            "getblockheaderbyhash": self._getblockheaderbyhash,
            "getblockcount": self._getblockcount,
            "getcurrencyid": self._getcurrencyid,
        }

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/json_rpc", self._json_rpc)
        for path, handler in (("/getinfo", self._getinfo), ("/getheight", self._getheight)):
            app.router.add_get(path, handler)
            app.router.add_post(path, handler)
        app.router.add_post("/devnet/mine", self._operator_mine)
        app.router.add_post("/devnet/orphan", self._operator_orphan)
        app.router.add_get("/devnet/status", self._operator_status)
        return app

    # -- JSON-RPC ----------------------------------------------------------------------------------

    async def _json_rpc(self, request: web.Request) -> web.Response:
        try:
            body = await read_json_object(request)
        except RpcError as error:
            return error_response(None, error)
        try:
            result = await self._dispatch(body)
        except RpcError as error:
            return error_response(body, error)
        return result_response(body, result)

    async def _dispatch(self, body: Mapping[str, Any]) -> JsonObject:
        method = body.get("method")
        if not isinstance(method, str):
            raise RpcError(-32600, "Invalid request")
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, "Method not found")
        try:
            return await handler(body.get("params"))
        except ParamError as exc:
            # The real daemon's JSON reader throws, and the exception text comes back as an internal error.
            raise RpcError(INTERNAL_ERROR, str(exc)) from None

    async def _getblocktemplate(self, raw_params: object) -> JsonObject:
        params = as_object(raw_params, "params")
        reserve_size = unsigned(params, "reserve_size", default=0)
        address = text(params, "wallet_address", default="")
        if reserve_size > MAX_RESERVE_SIZE:
            raise RpcError(TOO_BIG_RESERVE_SIZE, "To big reserved size, maximum 255")
        if not self._is_standard_address(address):
            raise RpcError(WRONG_WALLET_ADDRESS, "Failed to parse wallet address")
        template = self.chain.template(address, reserve_size)
        return {
            "difficulty": template.difficulty,
            "height": template.height,
            "reserved_offset": template.legacy_reserved_offset,
            "blocktemplate_blob": template.blob.hex(),
            "status": STATUS_OK,
        }

    def _is_standard_address(self, address: str) -> bool:
        # parseAccountAddressString takes only a standard address: an integrated one is longer and fails.
        try:
            decoded = decode_address(address, self._address_network)
        except AddressError:
            return False
        return decoded.kind is AddressKind.STANDARD

    async def _submitblock(self, params: object) -> JsonObject:
        if not (isinstance(params, list) and len(params) == 1 and isinstance(params[0], str)):
            raise RpcError(WRONG_PARAM, "Wrong param")
        try:
            blob = bytes.fromhex(params[0])
        except ValueError:
            raise RpcError(WRONG_BLOCKBLOB, "Wrong block blob") from None
        try:
            candidate = self.chain.check_block(blob)
            pow_hash = await self._verifier.hash(candidate.pow_blob)
            block = self.chain.accept(candidate, pow_hash)
        except BlockRejectedError as exc:
            log.info("submitblock refused: %s", exc)
            raise RpcError(BLOCK_NOT_ACCEPTED, "Block not accepted") from None
        where = "main chain" if self.chain.is_main(block) else "an alternative chain"
        log.info("submitblock accepted %d %s on %s", block.height, block.block_id.hex(), where)
        return {"status": STATUS_OK}

    async def _getlastblockheader(self, params: object) -> JsonObject:
        return self._header_response(self.chain.tip)

    async def _getblockheaderbyheight(self, raw_params: object) -> JsonObject:
        height = unsigned(as_object(raw_params, "params"), "height", default=0)
        top = self.chain.height
        block = self.chain.block_at(height)
        if block is None:
            raise RpcError(TOO_BIG_HEIGHT, f"To big height: {height}, current blockchain height = {top}")
        return self._header_response(block)

    async def _getblockheaderbyhash(self, raw_params: object) -> JsonObject:
        hash_hex = text(as_object(raw_params, "params"), "hash", default="")
        try:
            block_id = bytes.fromhex(hash_hex)
            if len(block_id) != 32:
                raise ValueError
        except ValueError:
            message = f"Failed to parse hex representation of block hash. Hex = {hash_hex}."
            raise RpcError(WRONG_PARAM, message) from None
        block = self.chain.block_by_id(block_id)
        if block is None:
            raise RpcError(INTERNAL, f"Internal error: can't get block by hash. Hash = {hash_hex}.")
        return self._header_response(block)

    async def _getblockcount(self, params: object) -> JsonObject:
        return {"count": self.chain.height + 1, "status": STATUS_OK}

    async def _getcurrencyid(self, params: object) -> JsonObject:
        return {"currency_id_blob": self.chain.genesis.block_id.hex()}

    def _header_response(self, block: ChainBlock) -> JsonObject:
        return {"block_header": self.block_header(block), "status": STATUS_OK}

    def block_header(self, block: ChainBlock) -> JsonObject:
        """TurtleCoin's block_header_response, field for field."""
        return {
            "major_version": block.major_version,
            "minor_version": block.minor_version,
            "timestamp": block.timestamp,
            "prev_hash": block.prev_id.hex(),
            "nonce": block.nonce,
            # Athena hard-codes false here; the devnet tells the truth for side-chain blocks, which only
            # getblockheaderbyhash can return. A pool must compare the id at the height either way.
            "orphan_status": not self.chain.is_main(block),
            "height": block.height,
            "depth": self.chain.height - block.height,
            "hash": block.block_id.hex(),
            "difficulty": block.difficulty,
            "reward": block.reward,
            "num_txes": 1,  # the coinbase: devnet blocks carry no other transactions
            "block_size": block.size,
        }

    # -- plain JSON endpoints ----------------------------------------------------------------------

    async def _getinfo(self, request: web.Request) -> web.Response:
        height = self.chain.height + 1
        difficulty = self.chain.next_difficulty()
        tip = self.chain.tip
        return web.json_response(
            {
                "status": STATUS_OK,
                "height": height,
                "difficulty": difficulty,
                "tx_count": 0,
                "tx_pool_size": 0,
                "alt_blocks_count": self.chain.alternative_block_count,
                "outgoing_connections_count": 0,
                "incoming_connections_count": 0,
                "white_peerlist_size": 0,
                "grey_peerlist_size": 0,
                "last_known_block_index": height - 1,
                "network_height": height,
                "upgrade_heights": list(UPGRADE_HEIGHTS),
                "supported_height": UPGRADE_HEIGHTS[0],
                "hashrate": round(difficulty / self.chain.params.block_time),
                "synced": True,
                "major_version": tip.major_version,
                "minor_version": tip.minor_version,
                "version": VERSION,
                "start_time": self._start_time,
            }
        )

    async def _getheight(self, request: web.Request) -> web.Response:
        height = self.chain.height + 1
        return web.json_response({"height": height, "network_height": height, "status": STATUS_OK})

    # -- operator endpoints ------------------------------------------------------------------------

    async def _operator_mine(self, request: web.Request) -> web.Response:
        return await _operator_call(request, self._mine_blocks)

    async def _operator_orphan(self, request: web.Request) -> web.Response:
        return await _operator_call(request, self._orphan_blocks)

    async def _mine_blocks(self, count: int) -> JsonObject:
        blocks = await self.network.mine(count)
        return {"mined": [self.block_header(block) for block in blocks], "height": self.chain.height}

    async def _orphan_blocks(self, count: int) -> JsonObject:
        report = await self.network.orphan_last(count)
        log.info("operator orphaned %d blocks", len(report.orphaned))
        return {
            "orphaned": [self.block_header(block) for block in report.orphaned],
            "new_blocks": [self.block_header(block) for block in report.new_blocks],
            "height": self.chain.height,
        }

    async def _operator_status(self, request: web.Request) -> web.Response:
        tip = self.chain.tip
        return web.json_response(
            {
                "height": self.chain.height,
                "tip": self.block_header(tip),
                "difficulty": self.chain.next_difficulty(),
                "block_time": self.chain.params.block_time,
                "alternative_blocks": self.chain.alternative_block_count,
                "genesis": self.chain.genesis.block_id.hex(),
            }
        )


async def _operator_call(
    request: web.Request, action: Callable[[int], Awaitable[JsonObject]]
) -> web.Response:
    try:
        body = await request.json() if request.can_read_body else {}
        count = unsigned(as_object(body, "body"), "count", default=1, maximum=MAX_BLOCKS_PER_REQUEST)
        return web.json_response(await action(count))
    except (ValueError, ParamError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
