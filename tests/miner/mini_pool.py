"""A small stratum server in xmrig's dialect, for testing the miner without the real pool.

Its jobs come from real devnet templates (real forknote2 hashing blobs with an extra nonce written in the
reserved space), and every submitted share is hashed again with cn-lite/1 and checked against the job
difficulty, so a share counts only if the miner really found it. Switches make it misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from athena_pool.coins.families import get_family
from athena_pool.devnet.chain import Chain, ChainParams
from athena_pool.devnet.keys import generate_address
from athena_pool.pow import create_algorithm
from athena_pool.targets import compact_target_hex, meets, wide_target_hex

FAMILY = get_family("forknote2")
ALGO = "cn-lite/1"
NONCE_OFFSET = 39


@dataclass(frozen=True)
class IssuedJob:
    job_id: str
    hashing_blob: bytes
    difficulty: int

    def wire(self, wide_target: bool) -> dict[str, Any]:
        target = wide_target_hex(self.difficulty) if wide_target else compact_target_hex(self.difficulty)
        return {
            "blob": self.hashing_blob.hex(),
            "job_id": self.job_id,
            "target": target,
            "algo": ALGO,
            "height": 1,
        }


@dataclass(frozen=True)
class Share:
    job_id: str
    nonce: bytes
    pow_hash: bytes


@dataclass
class Behaviour:
    refuse_login: str | None = None
    reject_with: str | None = None
    drop_after_shares: int | None = None  # close the connection after this many accepted shares
    reconnect_to: tuple[str, int] | None = None  # send client.reconnect right after login
    wide_target: bool = False
    extensions: tuple[str, ...] = ("algo", "keepalive")


@dataclass
class MiniPool:
    difficulty: int = 4
    behaviour: Behaviour = field(default_factory=Behaviour)
    accepted: list[Share] = field(default_factory=list)
    rejected: list[Share] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)  # protocol breaches by the miner
    login_attempts: int = 0
    logins: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        rng = random.Random(99)
        self._chain = Chain(
            ChainParams(difficulty=1000), genesis_address=generate_address(rng), clock=time.time, rng=rng
        )
        self._address = generate_address(rng)
        self._algorithm = create_algorithm(ALGO)
        self._jobs: dict[str, IssuedJob] = {}
        self._counter = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()

    async def start(self) -> MiniPool:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._algorithm.close()

    async def __aenter__(self) -> MiniPool:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_until(self, predicate: Any) -> None:
        while not predicate(self):
            changed = self._changed
            await changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def new_job(self) -> IssuedJob:
        self._counter += 1
        template = self._chain.template(self._address, 8)
        blob = FAMILY.with_extra_nonce(template.blob, 0, self._counter.to_bytes(4, "big"))
        job = IssuedJob(str(self._counter), FAMILY.hashing_blob(blob), self.difficulty)
        self._jobs[job.job_id] = job
        return job

    async def push(self, job: IssuedJob) -> None:
        message = {"jsonrpc": "2.0", "method": "job", "params": job.wire(self.behaviour.wide_target)}
        for writer in self._writers:
            await _send(writer, message)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while line := await reader.readline():
                if not await self._answer(json.loads(line), writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.remove(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, message: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        method, request_id, params = message.get("method"), message.get("id"), message.get("params") or {}
        if method == "login":
            return await self._login(request_id, params, writer)
        if method == "submit":
            return await self._submit(request_id, params, writer)
        if method == "keepalived":
            await _send(
                writer,
                {"id": request_id, "jsonrpc": "2.0", "error": None, "result": {"status": "KEEPALIVED"}},
            )
        return True

    async def _login(self, request_id: Any, params: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        self.login_attempts += 1
        self._notify()
        if request_id != 1 or not params.get("algo") or not params.get("login"):
            self.violations.append(f"login as xmrig does it: id 1, login and algo list, got {params}")
        if self.behaviour.refuse_login:
            await _send(
                writer,
                {
                    "id": request_id,
                    "jsonrpc": "2.0",
                    "error": {"code": -1, "message": self.behaviour.refuse_login},
                },
            )
            return False
        job = self.new_job()
        result = {
            "id": f"session-{self.login_attempts}",
            "job": job.wire(self.behaviour.wide_target),
            "extensions": list(self.behaviour.extensions),
            "status": "OK",
        }
        await _send(writer, {"id": request_id, "jsonrpc": "2.0", "error": None, "result": result})
        self.logins += 1
        self._notify()
        if self.behaviour.reconnect_to is not None:
            host, port = self.behaviour.reconnect_to
            await _send(writer, {"jsonrpc": "2.0", "method": "client.reconnect", "params": [host, str(port)]})
        return True

    async def _submit(self, request_id: Any, params: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        job = self._jobs.get(params.get("job_id", ""))
        if job is None or params.get("algo") != ALGO:  # we advertised the algo extension
            self.violations.append(f"submit for an unknown job or without algo: {params}")
            return False
        nonce, claimed = bytes.fromhex(params["nonce"]), bytes.fromhex(params["result"])
        blob = job.hashing_blob[:NONCE_OFFSET] + nonce + job.hashing_blob[NONCE_OFFSET + 4 :]
        actual = await asyncio.to_thread(self._algorithm.hash, blob)
        share = Share(job.job_id, nonce, actual)
        if actual != claimed:
            self.violations.append(f"result {claimed.hex()} is not the hash of nonce {nonce.hex()}")
        if self.behaviour.reject_with or actual != claimed or not meets(actual, job.difficulty):
            self.rejected.append(share)
            message = self.behaviour.reject_with or "Low difficulty share"
            await _send(
                writer, {"id": request_id, "jsonrpc": "2.0", "error": {"code": -1, "message": message}}
            )
        else:
            self.accepted.append(share)
            await _send(
                writer, {"id": request_id, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}}
            )
        self._notify()
        drop_after = self.behaviour.drop_after_shares
        return drop_after is None or len(self.accepted) % drop_after != 0


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(json.dumps(message).encode() + b"\n")
    with contextlib.suppress(ConnectionError):
        await writer.drain()
