"""A Redis restart under the running pool, end to end: the whole pool role on the devnet, recording into a
private appendonly redis-server; a miner over real TCP submits real cn-lite/1 shares one at a time while
Redis is SIGKILLed and started again on the same port and data folder. After a clean stop, Redis holds
every share the pool answered "OK", exactly once: no acknowledged share lost, none counted twice.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integration_support import wait_for

from athena_pool.coins.profiles import get_coin
from athena_pool.config import ConsoleSettings, DevnetSettings, PoolConfig, RedisSettings
from athena_pool.devnet.keys import generate_address
from athena_pool.pow import PowAlgorithm, create_algorithm
from athena_pool.storage import RecorderSettings, RewardType, ShareKind, Store
from athena_pool.stratum.config import PortConfig, StratumConfig
from athena_pool.stratum.vardiff import VardiffConfig
from athena_pool.supervisor import run_pool
from athena_pool.targets import achieved_difficulty, job_target_hex
from redis_support import RedisServer

ATHENA = get_coin("athena")
SHARE_DIFFICULTY = 10  # a few dozen real hashes per share
SHARES_PER_PHASE = 15
NONCE_OFFSET = 39  # where xmrig writes the nonce


@dataclass
class ShareClient:
    """A miner over real TCP: it mines real shares for its current job and submits them one at a time,
    counting the ones the pool answers "OK"."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    algorithm: PowAlgorithm
    session_id: str = ""
    job: dict[str, Any] = field(default_factory=dict)
    acknowledged: int = 0
    refused: list[str] = field(default_factory=list)
    _next_nonce: int = 0
    _next_id: int = 0

    @classmethod
    async def login(cls, port: int, address: str, algorithm: PowAlgorithm) -> ShareClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer, algorithm)
        reply = await client._call("login", {"login": address, "pass": "x", "rigid": "rig-1"})
        client.session_id, client.job = reply["result"]["id"], reply["result"]["job"]
        return client

    async def submit_shares(self, count: int) -> None:
        for _ in range(count):
            job = self.job
            assert job["target"] == job_target_hex(SHARE_DIFFICULTY)  # every OK credits exactly this much
            nonce_hex, result_hex = await asyncio.to_thread(self._mine, job)
            params = {
                "id": self.session_id,
                "job_id": job["job_id"],
                "nonce": nonce_hex,
                "result": result_hex,
            }
            reply = await self._call("submit", params)
            if reply.get("result") == {"status": "OK"}:
                self.acknowledged += 1
            else:
                self.refused.append(reply["error"]["message"])

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    def _mine(self, job: dict[str, Any]) -> tuple[str, str]:
        blob = bytearray(bytes.fromhex(job["blob"]))
        while True:
            nonce = (self._next_nonce & 0xFFFFFFFF).to_bytes(4, "little")
            self._next_nonce += 1
            blob[NONCE_OFFSET : NONCE_OFFSET + 4] = nonce
            digest = self.algorithm.hash(bytes(blob), height=job["height"])
            if achieved_difficulty(digest) >= SHARE_DIFFICULTY:
                return nonce.hex(), digest.hex()

    async def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        request = {"id": self._next_id, "jsonrpc": "2.0", "method": method, "params": params}
        self.writer.write(json.dumps(request).encode() + b"\n")
        await self.writer.drain()
        while True:
            async with asyncio.timeout(30):
                line = await self.reader.readline()
            assert line, "the pool closed the connection"
            message: dict[str, Any] = json.loads(line)
            if message.get("method") == "job":  # a new template (somebody else's block): mine on it
                self.job = message["params"]
                continue
            assert message["id"] == self._next_id
            return message


def pool_config(data_dir: Path, redis_url: str) -> PoolConfig:
    # Blocks are out of reach (network difficulty 10^9), so every share stays in the open PROP round.
    fixed = VardiffConfig(min_difficulty=1, retarget_time=3600)
    return PoolConfig(
        coin="athena",
        data_dir=data_dir,
        redis=RedisSettings(url=redis_url),
        stratum=StratumConfig(
            ports=(PortConfig(port=0, difficulty=SHARE_DIFFICULTY, vardiff=fixed, host="127.0.0.1"),)
        ),
        # The recorder retries soon after Redis is back, so the stop below has little left to write.
        recorder=RecorderSettings(batch_interval_s=0.2, retry_max_s=0.5),
        devnet=DevnetSettings(enabled=True, daemon_port=0, wallet_port=0, difficulty=10**9, block_time=3600),
        console=ConsoleSettings(interval=0),
    )


async def test_every_acknowledged_share_counts_once_when_redis_restarts_under_the_pool(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path / "redis", appendonly=True)
    redis.start()
    address = generate_address(random.Random(21), ATHENA.address_network)
    algorithm = create_algorithm(ATHENA.pow_algorithm)
    try:
        async with run_pool(pool_config(tmp_path / "data", redis.url), roles=("pool",)) as pool:
            client = await ShareClient.login(pool.stratum_ports[0], address, algorithm)
            await client.submit_shares(SHARES_PER_PHASE)

            redis.kill()
            await client.submit_shares(SHARES_PER_PHASE)  # acknowledged while Redis is away

            async def recorder_saw_the_outage() -> bool:
                return not pool.recorder.stats.redis_available

            await wait_for(recorder_saw_the_outage, 30, "the recorder to find Redis gone")
            redis.start()
            await client.submit_shares(SHARES_PER_PHASE)
            await client.close()

            async def recorder_reconnected() -> bool:
                return pool.recorder.stats.redis_available

            await wait_for(recorder_reconnected, 30, "the recorder to write to Redis again")
            assert not pool.failed.is_set()
            pool_counts = pool.stratum.stats().shares
        # The pool has stopped cleanly: its recorder wrote the last batch on the way out.
        assert client.refused == []
        assert client.acknowledged == 3 * SHARES_PER_PHASE
        assert sum(pool_counts.get(k, 0) for k in ("accepted", "stale", "block")) == client.acknowledged

        redis_client = redis.client()
        store = Store(redis_client, ATHENA.name)
        miner = await store.miner_stats(address)
        assert miner is not None
        assert miner.counts[ShareKind.VALID] + miner.counts[ShareKind.STALE] == client.acknowledged
        assert miner.counts.rejected == 0
        assert await store.round_shares(RewardType.PROP) == {address: client.acknowledged * SHARE_DIFFICULTY}
        assert (await store.pool_stats()).counts.accepted == client.acknowledged
        await redis_client.aclose()
    finally:
        redis.kill()
        algorithm.close()
