"""Simulated miners for bench/stratum_load.py: a lean asyncio Protocol per connection, and "fleets" (separate
processes, each under its own open-files limit) that hold thousands of them or run a flood.

A fleet is driven through a multiprocessing pipe with small dict commands:

    {"cmd": "connect", "count": n, "login": bool}  -> {"ok", "failed", "started", "finished"} (time.time())
    {"cmd": "login"}                                -> logs in every connected miner, same answer
    {"cmd": "mark"}                                 -> forget the pushes seen so far
    {"cmd": "pushes"}                               -> {"arrivals": [time.time() of each miner's last push]}
    {"cmd": "flood"} / {"cmd": "stop_flood"}        -> start / stop the flooders (see `Flood`)
    {"cmd": "prepare_shares", "miners": m, "per_miner": k}
                                                    -> logs in m miners, hashes k valid shares for each
    {"cmd": "send_shares", "rate": r, "seconds": s} -> they submit them, r/s in all, for s seconds; the
                                                       figures (see `ShareSenders`)
    {"cmd": "close"}                                -> closes everything; the process ends
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from typing import Any, cast

import uvloop

from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.keys import generate_address
from athena_pool.pow import create_algorithm

ATHENA = get_coin("athena")
NONCE_OFFSET = 39
JOB_MARK = b'"method":"job"'
LOW_WATER = 64 * 1024


def raise_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def addresses(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [generate_address(rng, ATHENA.address_network) for _ in range(count)]


def sources(count: int, first: int = 10) -> list[str]:
    """Loopback source addresses 127.0.x.y, so no single (source, destination) pair runs out of ports."""
    return [f"127.0.{(first + i) // 250}.{(first + i) % 250 + 2}" for i in range(count)]


class BenchMiner(asyncio.Protocol):
    """One connection: replies are matched to requests by id; job pushes are only timed (not parsed)
    unless `keep_jobs`; with `count_only` replies are counted, never parsed (flooders)."""

    def __init__(self, address: str, *, keep_jobs: bool = False, count_only: bool = False) -> None:
        self.address = address
        self.keep_jobs = keep_jobs
        self.count_only = count_only
        self.transport: asyncio.Transport | None = None
        self.session_id = ""
        self.job: dict[str, Any] = {}
        self.pushes = 0
        self.last_push = 0.0
        self.replies = 0
        self.closed = False
        self._buffer = bytearray()
        self._next_id = 1
        self._waiters: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=4 * LOW_WATER, low=LOW_WATER)

    def data_received(self, data: bytes) -> None:
        if self.count_only:
            self.replies += data.count(b"\n")
            return
        self._buffer += data
        start = 0
        while (end := self._buffer.find(b"\n", start)) != -1:
            self._line(bytes(self._buffer[start:end]))
            start = end + 1
        del self._buffer[:start]

    def _line(self, line: bytes) -> None:
        if JOB_MARK in line:
            self.pushes += 1
            self.last_push = time.time()
            if self.keep_jobs:
                self.job = json.loads(line)["params"]
            return
        message = json.loads(line)
        self.replies += 1
        waiter = self._waiters.pop(message.get("id"), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._writable.set()
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("connection lost"))
        self._waiters.clear()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def writable(self) -> None:
        await self._writable.wait()

    def request(self, method: str, params: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        """Send a request now; the future holds its reply."""
        request_id = self._next_id
        self._next_id += 1
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = waiter
        self.write({"id": request_id, "jsonrpc": "2.0", "method": method, "params": params})
        return waiter

    def write(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    async def login(self, agent: str = "XMRig/6.26.0 bench") -> None:
        reply = await self.request("login", {"login": self.address, "pass": "x", "agent": agent})
        if reply.get("error"):
            raise ConnectionError(f"login refused: {reply['error']}")
        self.session_id = reply["result"]["id"]
        self.job = reply["result"]["job"]

    def submit(
        self, nonce: str, result: str, job: dict[str, Any] | None = None
    ) -> asyncio.Future[dict[str, Any]]:
        job = job or self.job
        params = {"id": self.session_id, "job_id": job["job_id"], "nonce": nonce, "result": result}
        return self.request("submit", params)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_miner(host: str, port: int, source: str | None, address: str, **options: Any) -> BenchMiner:
    loop = asyncio.get_running_loop()
    local = (source, 0) if source else None
    _, miner = await loop.create_connection(
        lambda: BenchMiner(address, **options), host, port, local_addr=local
    )
    return miner


@dataclass
class Fleet:
    host: str
    port: int
    source_addresses: Sequence[str]
    wallets: Sequence[str]
    miners: list[BenchMiner] = field(default_factory=list)
    concurrency: int = 256

    async def connect(self, count: int, login: bool) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.concurrency)
        failed = 0
        started = time.time()

        async def one(index: int) -> None:
            nonlocal failed
            async with gate:
                try:
                    miner = await open_miner(
                        self.host,
                        self.port,
                        self.source_addresses[index % len(self.source_addresses)],
                        self.wallets[index % len(self.wallets)],
                    )
                    if login:
                        await asyncio.wait_for(miner.login(), 60)
                except (OSError, ConnectionError, TimeoutError):
                    failed += 1
                    return
                self.miners.append(miner)

        await asyncio.gather(*(one(i) for i in range(count)))
        return {"ok": count - failed, "failed": failed, "started": started, "finished": time.time()}

    async def login_all(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.concurrency)
        failed = 0
        started = time.time()

        async def one(miner: BenchMiner) -> None:
            nonlocal failed
            async with gate:
                try:
                    await asyncio.wait_for(miner.login(), 60)
                except (OSError, ConnectionError, TimeoutError):
                    failed += 1

        await asyncio.gather(*(one(m) for m in self.miners))
        return {
            "ok": len(self.miners) - failed,
            "failed": failed,
            "started": started,
            "finished": time.time(),
        }

    def close(self) -> None:
        for miner in self.miners:
            miner.close()
        self.miners.clear()


class Flood:
    """Another client hammering the pool from its own addresses while an honest miner works:
    connections logged in as one wallet writing bad submits as fast as the pool takes them, connections
    writing keepalives as fast, and a loop reconnecting to send junk lines. Replies are only counted."""

    def __init__(self, host: str, port: int, source: str, wallet: str) -> None:
        self._host, self._port, self._source, self._wallet = host, port, source, wallet
        self._tasks: list[asyncio.Task[None]] = []
        self.sent = 0
        self.junk_connections = 0

    def start(self, submitters: int = 16, keepalivers: int = 4) -> None:
        loop = asyncio.get_running_loop()
        self._tasks += [loop.create_task(self._submits()) for _ in range(submitters)]
        self._tasks += [loop.create_task(self._keepalives()) for _ in range(keepalivers)]
        self._tasks.append(loop.create_task(self._junk()))

    async def stop(self) -> dict[str, Any]:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return {"sent": self.sent, "junk_connections": self.junk_connections}

    async def _logged_in(self) -> BenchMiner:
        miner = await open_miner(self._host, self._port, self._source, self._wallet)
        await miner.login("flooder/1.0")
        miner.count_only = True
        return miner

    async def _blast(self, miner: BenchMiner, make: Any) -> None:
        try:
            counter = random.randrange(2**31)
            while not miner.closed:
                chunk = b"".join(make(counter + i) for i in range(100))
                counter += 100
                assert miner.transport is not None
                miner.transport.write(chunk)
                self.sent += 100
                await miner.writable()
                await asyncio.sleep(0)
        finally:
            miner.close()

    async def _submits(self) -> None:
        while True:
            with contextlib.suppress(OSError, ConnectionError):
                miner = await self._logged_in()
                await self._blast(miner, partial(_bad_submit, miner.session_id, miner.job["job_id"]))
            await asyncio.sleep(0.05)

    async def _keepalives(self) -> None:
        while True:
            with contextlib.suppress(OSError, ConnectionError):
                miner = await self._logged_in()
                await self._blast(miner, partial(_keepalive, miner.session_id))
            await asyncio.sleep(0.05)

    async def _junk(self) -> None:
        while True:
            with contextlib.suppress(OSError, ConnectionError):
                miner = await open_miner(self._host, self._port, self._source, self._wallet, count_only=True)
                self.junk_connections += 1
                assert miner.transport is not None
                miner.transport.write(b"\x00junk\n" * 10)
                for _ in range(100):
                    if miner.closed:
                        break
                    await asyncio.sleep(0.01)
                miner.close()
            await asyncio.sleep(0.001)


def precompute(jobs: list[dict[str, Any]], per_job: int, threads: int) -> list[list[tuple[str, str]]]:
    """Valid (nonce, result) pairs for each job at difficulty 1 (every hash is a share then)."""
    algorithm = create_algorithm("cn-lite/1")

    def results(job: dict[str, Any]) -> list[tuple[str, str]]:
        blob = bytearray(bytes.fromhex(job["blob"]))
        pairs = []
        for nonce in range(per_job):
            blob[NONCE_OFFSET : NONCE_OFFSET + 4] = nonce.to_bytes(4, "little")
            pairs.append(
                (nonce.to_bytes(4, "little").hex(), algorithm.hash(bytes(blob), height=job["height"]).hex())
            )
        return pairs

    with ThreadPoolExecutor(threads) as pool:
        answer = list(pool.map(results, jobs))
    algorithm.close()
    return answer


class ShareSenders:
    """Miners submitting real, valid shares at a steady rate in all, each on its own schedule (staggered),
    never waiting for a reply before the next share: a pool that falls behind shows as fewer verified
    shares per second, not as a slower sender."""

    def __init__(self, miners: list[BenchMiner], pairs: list[list[tuple[str, str]]]) -> None:
        self._miners = miners
        self._pairs = pairs

    async def run(self, rate: float, seconds: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        interval = len(self._miners) / rate
        schedules = [
            self._one(miner, pairs, interval, started + interval * i / len(self._miners), started + seconds)
            for i, (miner, pairs) in enumerate(zip(self._miners, self._pairs, strict=True))
        ]
        replies = [reply for replies in await asyncio.gather(*schedules) for reply in replies]
        elapsed = loop.time() - started
        accepted = sum(1 for reply in replies if reply is not None and reply.get("error") is None)
        return {
            "miners": len(self._miners),
            "offered_per_second": round(rate, 1),
            "submitted": len(replies),
            "accepted": accepted,
            "rejected": sum(1 for reply in replies if reply is not None and reply.get("error") is not None),
            "unanswered": sum(1 for reply in replies if reply is None),
            "seconds": round(elapsed, 3),
            "verified_shares_per_second": round(accepted / elapsed, 1),
        }

    @staticmethod
    async def _one(
        miner: BenchMiner, pairs: list[tuple[str, str]], interval: float, first_at: float, deadline: float
    ) -> list[dict[str, Any] | None]:
        loop = asyncio.get_running_loop()
        waiters = []
        at = first_at
        for nonce, result in pairs:
            await asyncio.sleep(max(0.0, at - loop.time()))
            if loop.time() >= deadline or miner.closed:
                break
            waiters.append(miner.submit(nonce, result))
            at += interval
        replies = await asyncio.gather(*waiters, return_exceptions=True)
        return [reply if isinstance(reply, dict) else None for reply in replies]


def _bad_submit(session: str, job_id: str, n: int) -> bytes:
    # Formatted by hand: the flooder shares the machine with the pool, so it should cost little CPU.
    return (
        f'{{"id":{n},"method":"submit","params":{{"id":"{session}","job_id":"{job_id}",'
        f'"nonce":"{n % 2**32:08x}","result":"{"ee" * 32}"}}}}\n'
    ).encode()


def _keepalive(session: str, n: int) -> bytes:
    return f'{{"id":{n},"method":"keepalived","params":{{"id":"{session}"}}}}\n'.encode()


def fleet_main(
    pipe: Connection,
    host: str,
    port: int,
    first_source: int,
    source_count: int,
    wallets: int = 64,
    niceness: int = 0,
) -> None:
    """The fleet process (a multiprocessing spawn target); `wallets` distinct wallets, used in turn.
    `niceness` > 0 lets the pool win a core the two compete for (see `--fleet-niceness`)."""
    raise_open_files()
    if niceness:
        os.nice(niceness)
    fleet = Fleet(host, port, sources(source_count, first_source), addresses(wallets, seed=first_source))
    pipe.send({"ready": True})
    uvloop.run(_fleet(pipe, fleet))


async def _fleet(pipe: Connection, fleet: Fleet) -> None:
    flood: Flood | None = None
    senders: ShareSenders | None = None
    while True:
        command = await asyncio.to_thread(pipe.recv)
        name = command["cmd"]
        answer: dict[str, Any] = {}
        if name == "connect":
            answer = await fleet.connect(command["count"], command["login"])
        elif name == "login":
            answer = await fleet.login_all()
        elif name == "mark":
            for miner in fleet.miners:
                miner.pushes = 0
        elif name == "pushes":
            answer = {
                "arrivals": [m.last_push for m in fleet.miners if m.pushes],
                "miners": len(fleet.miners),
            }
        elif name == "flood":
            flood = Flood(fleet.host, fleet.port, command["source"], fleet.wallets[0])
            flood.start()
        elif name == "stop_flood" and flood is not None:
            answer = await flood.stop()
        elif name == "prepare_shares":
            answer = await fleet.connect(command["miners"], login=True)
            jobs, threads = [m.job for m in fleet.miners], os.cpu_count() or 1
            senders = ShareSenders(
                fleet.miners, await asyncio.to_thread(precompute, jobs, command["per_miner"], threads)
            )
        elif name == "send_shares" and senders is not None:
            answer = await senders.run(command["rate"], command["seconds"])
        elif name == "close":
            fleet.close()
            pipe.send({"closed": True})
            return
        pipe.send(answer)
