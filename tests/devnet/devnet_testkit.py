"""Test helpers: talk to a running devnet over real HTTP, and solve blocks with the real cn-lite/1 hash."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from athena_pool.coins.block import Block
from athena_pool.coins.families import get_family
from athena_pool.devnet.runner import RunningDevnet
from athena_pool.pow import create_algorithm
from athena_pool.targets import meets

FAMILY = get_family("forknote2")
POW = create_algorithm("cn-lite/1")
NONCE_OFFSET = 39
MAX_TRIES = 200_000


@dataclass
class Rpc:
    session: aiohttp.ClientSession
    devnet: RunningDevnet

    async def daemon(self, method: str, params: Any = None) -> dict[str, Any]:
        return await self._call(self.devnet.daemon_url, {"method": method, "params": params})

    async def daemon_result(self, method: str, params: Any = None) -> dict[str, Any]:
        reply = await self.daemon(method, params)
        assert "error" not in reply, reply
        result: dict[str, Any] = reply["result"]
        return result

    async def wallet(
        self, method: str, params: Any = None, *, password: str | None = "devnet"
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"method": method, "params": params if params is not None else {}}
        if password is not None:
            body["password"] = password
        return await self._call(self.devnet.wallet_url, body)

    async def wallet_result(self, method: str, params: Any = None) -> dict[str, Any]:
        reply = await self.wallet(method, params)
        assert "error" not in reply, reply
        result: dict[str, Any] = reply["result"]
        return result

    async def _call(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"{url}/json_rpc", json={"jsonrpc": "2.0", "id": 7, **body}) as response:
            assert response.status == 200
            reply: dict[str, Any] = await response.json()
        assert reply["jsonrpc"] == "2.0"
        return reply

    async def operator(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"{self.devnet.daemon_url}/devnet/{path}", json=body) as response:
            reply: dict[str, Any] = await response.json()
            assert response.status == 200, reply
            return reply

    async def template(self, address: str | None = None, reserve_size: int = 17) -> dict[str, Any]:
        params = {"reserve_size": reserve_size, "wallet_address": address or self.devnet.pool_address}
        return await self.daemon_result("getblocktemplate", params)

    async def mine_block(self, address: str | None = None) -> bytes:
        """Template → real PoW → submitblock; returns the block blob that was accepted."""
        template = await self.template(address)
        blob = await asyncio.to_thread(
            solve_template, bytes.fromhex(template["blocktemplate_blob"]), template["difficulty"]
        )
        reply = await self.daemon("submitblock", [blob.hex()])
        assert reply.get("result") == {"status": "OK"}, reply
        return blob


def solve_template(template_blob: bytes, difficulty: int, *, extra_nonce: bytes = b"") -> bytes:
    """What a pool does: write an extra nonce, convert, grind the nonce, reassemble the block."""
    job = FAMILY.with_extra_nonce(template_blob, 0, extra_nonce) if extra_nonce else template_blob
    hashing_blob = FAMILY.hashing_blob(job)
    nonce = grind(hashing_blob, difficulty, want_valid=True)
    return FAMILY.assemble_block(job, nonce)


def grind(hashing_blob: bytes, difficulty: int, *, want_valid: bool) -> bytes:
    """The first nonce whose PoW does (or, with want_valid=False, does not) meet `difficulty`."""
    for counter in range(MAX_TRIES):
        nonce = counter.to_bytes(4, "little")
        pow_hash = POW.hash(hashing_blob[:NONCE_OFFSET] + nonce + hashing_blob[NONCE_OFFSET + 4 :])
        if meets(pow_hash, difficulty) == want_valid:
            return nonce
    raise AssertionError("no nonce found")


def solve_block(block: Block, difficulty: int) -> bytes:
    """Grind the nonce of an already-built block (its parent kept as it is) and serialize it."""
    for counter in range(MAX_TRIES):
        candidate = replace(block, nonce=counter.to_bytes(4, "little"))
        blob = FAMILY.serialize(candidate)
        if meets(POW.hash(FAMILY.pow_blob(blob)), difficulty):
            return blob
    raise AssertionError("no nonce found")
