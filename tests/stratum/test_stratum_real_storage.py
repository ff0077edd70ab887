"""The real job side recording into the real storage: a miner over TCP on the devnet, the real judge, the
`ShareRecorder` writing to a `Store` on a private redis-server. Every kind of rejected share is answered
with its message and counted per kind in Redis, for the miner, its worker and the pool; a block whose
confirmation is inconclusive is stored as a candidate all the same."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from stratum_fakes import StratumClient
from test_stratum_real_jobs import (
    ATHENA,
    SHARE_DIFFICULTY,
    RealPool,
    devnet_options,
    is_block,
    is_share_not_block,
    mine,
    serve_real_pool,
    submit,
)

from athena_pool.devnet.keys import generate_address
from athena_pool.devnet.runner import start_devnet
from athena_pool.storage import RecorderSettings, ShareKind, ShareRecorder, Store
from redis_support import RedisServer

KEEP_TEMPLATES = 2  # two new tips and the first template's jobs are expired


@dataclass
class DaemonProxy:
    """A real HTTP hop in front of the devnet daemon that answers the methods in `refused` with an error,
    as a struggling daemon does, and forwards everything else."""

    target: str
    session: aiohttp.ClientSession
    refused: set[str] = field(default_factory=set)
    refusals: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/json_rpc", self._json_rpc)
        return app

    async def _json_rpc(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        if body.get("method") in self.refused:
            self.refusals += 1
            error = {"code": -1, "message": "Internal error: could not read the block header"}
            return web.json_response({"jsonrpc": "2.0", "id": body.get("id"), "error": error})
        async with self.session.post(f"{self.target}/json_rpc", json=body) as reply:
            return web.Response(body=await reply.read(), status=reply.status, content_type="application/json")


@dataclass
class StoredPool:
    pool: RealPool[ShareRecorder]
    store: Store
    judge_daemon: DaemonProxy


@pytest.fixture
async def store(redis_server: RedisServer, coin_prefix: str) -> AsyncIterator[Store]:
    client = redis_server.client()
    yield Store(client, coin_prefix)
    async for key in client.scan_iter(match=f"{coin_prefix}:*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture
async def stored_pool(tmp_path: Path, store: Store) -> AsyncIterator[StoredPool]:
    settings = RecorderSettings(batch_interval_s=0.05)
    async with (
        start_devnet(devnet_options(tmp_path)) as devnet,
        ShareRecorder(store, tmp_path / "shares.spill", settings) as recorder,
        aiohttp.ClientSession() as session,
    ):
        proxy = DaemonProxy(devnet.daemon_url, session)
        async with TestServer(proxy.app(), host="127.0.0.1") as server:
            judge_daemon_url = str(server.make_url("")).rstrip("/")
            async with serve_real_pool(
                devnet, recorder, judge_daemon_url=judge_daemon_url, keep_templates=KEEP_TEMPLATES
            ) as pool:
                yield StoredPool(pool, store, proxy)


async def push_at_height(client: StratumClient, height: int) -> dict[str, Any]:
    """The job push for `height` (pushes for other templates are skipped)."""
    while True:
        push = await client.next_push()
        if push["params"]["height"] == height:
            return push


async def test_each_rejected_share_is_answered_and_counted_per_kind_in_redis(stored_pool: StoredPool) -> None:
    address = generate_address(random.Random(11), ATHENA.address_network)
    client = await StratumClient.connect(stored_pool.pool.port)
    result = (await client.login(address, rigid="rig-1"))["result"]
    session_id, job = result["id"], result["job"]
    algorithm = stored_pool.pool.algorithm

    nonce, digest, _ = await mine(algorithm, job, 0, is_share_not_block)
    late_nonce, late_digest, _ = await mine(algorithm, job, 30_000, is_share_not_block)
    low_nonce, low_digest, _ = await mine(algorithm, job, 10_000, lambda d: d < SHARE_DIFFICULTY)

    async def error_of(job_id: str, nonce_hex: str, result_hex: str) -> str:
        reply = await submit(client, session_id, {**job, "job_id": job_id}, nonce_hex, result_hex)
        message: str = reply["error"]["message"]
        return message

    assert (await submit(client, session_id, job, nonce, digest))["result"] == {"status": "OK"}
    assert await error_of(job["job_id"], nonce, digest) == "Duplicate share"
    assert await error_of(job["job_id"], low_nonce, low_digest) == "Low difficulty share"
    assert await error_of(job["job_id"], "ffffffff", "00" * 32) == "Rejected share: invalid result"
    assert await error_of("never-issued", late_nonce, late_digest) == "Invalid job id"
    # Other people find blocks: the first template leaves the job manager's window, so a share for its job,
    # real as it is, comes too late.
    for _ in range(KEEP_TEMPLATES):
        [block] = await stored_pool.pool.devnet.network.mine(1)
        await push_at_height(client, block.height + 1)
    assert await error_of(job["job_id"], late_nonce, late_digest) == "Block expired"
    await client.close()

    assert await stored_pool.pool.sink.flush(10)
    expected = {
        ShareKind.VALID: 1,
        ShareKind.DUPLICATE: 1,
        ShareKind.LOW_DIFF: 1,
        ShareKind.INVALID: 2,  # the bad hash and the unknown job
        ShareKind.EXPIRED: 1,
    }
    miner = await stored_pool.store.miner_stats(address)
    assert miner is not None
    assert dict(miner.counts.by_kind) == expected
    assert miner.hashes == SHARE_DIFFICULTY  # only the valid share is credited
    workers = await stored_pool.store.worker_stats(address)
    assert list(workers) == ["rig-1"]
    assert dict(workers["rig-1"].counts.by_kind) == expected
    pool = await stored_pool.store.pool_stats()
    assert dict(pool.counts.by_kind) == expected


async def test_a_block_whose_header_cannot_be_read_is_stored_as_a_candidate(stored_pool: StoredPool) -> None:
    """submitblock succeeds but the daemon cannot show the header at that height while the judge looks:
    the block is stored all the same (the unlocker's orphan check decides later)."""
    stored_pool.judge_daemon.refused.add("getblockheaderbyheight")
    address = generate_address(random.Random(12), ATHENA.address_network)
    client = await StratumClient.connect(stored_pool.pool.port)
    result = (await client.login(address, rigid="rig-2"))["result"]
    session_id, job = result["id"], result["job"]

    nonce, digest, _ = await mine(stored_pool.pool.algorithm, job, 0, is_block)
    assert (await submit(client, session_id, job, nonce, digest))["result"] == {"status": "OK"}
    await client.close()
    assert stored_pool.judge_daemon.refusals == 5  # every confirmation attempt was inconclusive

    assert await stored_pool.pool.sink.flush(10)
    [stored] = await stored_pool.store.block_candidates()
    candidate = stored.candidate
    assert (candidate.height, candidate.finder_address, candidate.finder_worker) == (
        job["height"],
        address,
        "rig-2",
    )
    on_chain = stored_pool.pool.devnet.chain.block_at(candidate.height)
    assert on_chain is not None and on_chain.block_id.hex() == candidate.hash_hex
    assert await stored_pool.store.block_round_shares(candidate.height, candidate.hash_hex) == {
        address: SHARE_DIFFICULTY
    }
