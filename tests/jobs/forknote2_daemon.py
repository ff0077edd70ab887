"""A small TurtleCoin-dialect daemon for the job tests, built on a real forknote2 template.

It serves templates derived from a real TurtleCoin template (vectors/blocks.json, height 1457937, 19
transactions): the coinbase is rebuilt for the requested reserve size at the current height on the current
tip, exactly as a Bytecoin-family daemon builds it, and `reserved_offset` carries those daemons' off-by-one.
`submitblock` checks what TurtleCoin's consensus checks (it builds on the tip, the merge-mining tag commits
to the child, the PoW meets the difficulty) with the real hash, and only then extends the chain.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from athena_pool.coins.block import Block
from athena_pool.coins.extra import find_merge_mining_tag, find_tx_public_key, nonce_field, pubkey_field
from athena_pool.coins.families import get_family
from athena_pool.coins.families.forknote2 import aux_header_hash
from athena_pool.pow import create_algorithm
from athena_pool.targets import meets

FAMILY = get_family("forknote2")


@dataclass
class ChainBlock:
    height: int
    hash_hex: str
    prev_hash_hex: str
    timestamp: int


@dataclass
class Forknote2Daemon:
    """State of the simulated chain plus an aiohttp server speaking the legacy TurtleCoin JSON-RPC."""

    base_blob: bytes  # a real template: layout, parent, outputs and tx hashes come from it
    algo: str
    difficulty: int
    chain: list[ChainBlock] = field(default_factory=list)
    submitted: list[bytes] = field(default_factory=list)
    broken_answer: dict[str, Any] | None = None  # when set, getblocktemplate answers this instead
    headers_unreadable: bool = False  # when set, getblockheaderbyheight answers an error (daemon trouble)
    # When set, submitblock answers OK as monerod does for a side-chain block, while somebody else's block
    # takes the height in the main chain.
    side_chain_submits: bool = False
    url: str = ""
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        base = FAMILY.parse(self.base_blob)
        self._base = base
        self._pow = create_algorithm(self.algo)
        self.chain.append(ChainBlock(base.height - 1, base.prev_id.hex(), "00" * 32, base.timestamp - 30))

    # --- the chain -------------------------------------------------------------------------------------

    @property
    def tip(self) -> ChainBlock:
        return self.chain[-1]

    def mine_foreign_block(self) -> ChainBlock:
        """Somebody else found the next block: the tip moves and our templates go stale."""
        block = ChainBlock(
            self.tip.height + 1, secrets.token_hex(32), self.tip.hash_hex, self.tip.timestamp + 30
        )
        self.chain.append(block)
        return block

    def template_blob(self, reserve_size: int) -> bytes:
        base = self._base
        pubkey = find_tx_public_key(base.miner_tx.extra_fields)
        assert pubkey is not None
        extra = pubkey_field(pubkey) + (nonce_field(reserve_size) if reserve_size else b"")
        coinbase = replace(base.miner_tx, input_heights=(self.tip.height + 1,), extra=extra)
        block = replace(
            base,
            prev_id=bytes.fromhex(self.tip.hash_hex),
            timestamp=self.tip.timestamp + 30,
            miner_tx=coinbase,
        )
        return FAMILY.serialize(block)

    def accept(self, blob: bytes) -> str | None:
        """None when the block extends the chain, else why it is refused."""
        try:
            block = FAMILY.parse(blob)
        except ValueError as exc:
            return f"Wrong block blob: {exc}"
        if block.prev_id.hex() != self.tip.hash_hex or block.height != self.tip.height + 1:
            return "Block not accepted: not on the tip"
        if not self._merge_mining_root_ok(block):
            return "Block not accepted: merge-mining root mismatch"
        if not meets(self._pow.hash(FAMILY.pow_blob(blob)), self.difficulty):
            return "Block not accepted: proof of work too weak"
        self.chain.append(
            ChainBlock(block.height, FAMILY.block_id(blob).hex(), self.tip.hash_hex, block.timestamp)
        )
        return None

    @staticmethod
    def _merge_mining_root_ok(block: Block) -> bool:
        assert block.parent is not None
        tag = find_merge_mining_tag(block.parent.miner_tx.extra_fields)
        return tag is not None and tag.depth == 0 and tag.merkle_root == aux_header_hash(block)

    # --- the server ------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/json_rpc", self._json_rpc)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _json_rpc(self, request: web.Request) -> web.Response:
        body = await request.json()
        params = body.get("params") or {}
        try:
            result = await self._dispatch(body["method"], params)
        except LookupError as exc:
            reply: dict[str, Any] = {
                "jsonrpc": "2.0",
                "id": body["id"],
                "error": {"code": -7, "message": str(exc)},
            }
        else:
            reply = {"jsonrpc": "2.0", "id": body["id"], "result": result}
        return web.Response(body=json.dumps(reply), content_type="application/json")

    async def _dispatch(self, method: str, params: Any) -> dict[str, Any]:
        if method == "getblocktemplate":
            return self.broken_answer if self.broken_answer is not None else self._template_answer(params)
        if method == "submitblock":
            blob = bytes.fromhex(params[0])
            self.submitted.append(blob)
            refusal = await asyncio.to_thread(self.accept, blob)
            if refusal is not None:
                raise LookupError(refusal)
            if self.side_chain_submits:
                self.chain[-1] = replace(self.chain[-1], hash_hex=secrets.token_hex(32))
            return {"status": "OK"}
        if method == "getlastblockheader":
            return self._header(self.tip)
        if method == "getblockheaderbyheight":
            if self.headers_unreadable:
                raise LookupError("Internal error: could not read the block header")
            return self._header(self._at_height(params["height"]))
        if method == "getblockheaderbyhash":
            return self._header(self._with_hash(params["hash"]))
        if method == "getblockcount":
            return {"count": self.tip.height + 1, "status": "OK"}
        raise LookupError(f"unknown method {method}")

    def _template_answer(self, params: dict[str, Any]) -> dict[str, Any]:
        blob = self.template_blob(params["reserve_size"])
        payload = FAMILY.reserved_space(blob).offset
        return {
            "blocktemplate_blob": blob.hex(),
            "difficulty": self.difficulty,
            "height": self.tip.height + 1,
            "reserved_offset": payload + 1,  # the legacy Bytecoin-family off-by-one
            "status": "OK",
        }

    def _at_height(self, height: int) -> ChainBlock:
        for block in self.chain:
            if block.height == height:
                return block
        raise LookupError(f"To big height: {height}")

    def _with_hash(self, hash_hex: str) -> ChainBlock:
        for block in self.chain:
            if block.hash_hex == hash_hex:
                return block
        raise LookupError(f"Internal error: can't get block by hash. Hash = {hash_hex}.")

    def _header(self, block: ChainBlock) -> dict[str, Any]:
        header = {
            "major_version": 5,
            "minor_version": 0,
            "timestamp": block.timestamp,
            "prev_hash": block.prev_hash_hex,
            "nonce": 0,
            "orphan_status": False,
            "height": block.height,
            "depth": self.tip.height - block.height,
            "hash": block.hash_hex,
            "difficulty": self.difficulty,
            "reward": 2_900_000,
            "num_txes": 1,
            "block_size": 400,
        }
        return {"block_header": header, "status": "OK"}
