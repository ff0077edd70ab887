"""The pool under test for bench/stratum_load.py, on the REAL job side.

This process runs what every stratum process shares: the devnet daemon (no network blocks, a difficulty no
share reaches) and, with `--sink redis`, a private redis-server. It spawns `--workers` stratum processes
sharing one port with SO_REUSEPORT, as `stratum.cluster_workers` does: each has its own JobManager polling
the devnet, PoolShareJudge hashing cn-lite/1 in a thread per core, its share sink (a counter, or the real
ShareRecorder), and the StratumServer, on uvloop.

It prints one JSON line when ready ({"ready": true, "port": ..., "pids": [...]}) and then answers JSON
commands on stdin, one per line (figures summed over the workers where that makes sense):

    {"cmd": "rss"}           -> {"rss_kb": ..., "connections": ..., "miners": ..., "workers": [...]}
    {"cmd": "new_template"}  -> every worker refreshes at once: {"fired": first, "broadcast_ms": slowest}
    {"cmd": "stats"}         -> stratum stats and hashing counters
    {"cmd": "stop"}          -> {"stopped": true}; the workers stop gracefully and the process exits
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvloop

from athena_pool.coins.addresses import decode_address
from athena_pool.coins.families import get_family
from athena_pool.coins.profiles import get_coin
from athena_pool.devnet.runner import DevnetOptions, start_devnet
from athena_pool.jobs import JobConfig, JobManager, PoolShareJudge, new_instance_id
from athena_pool.pow import PowVerifier, create_algorithm
from athena_pool.rpc import JsonRpcClient, TurtleDaemonClient
from athena_pool.rpc.monerod_regtest import free_loopback_port
from athena_pool.storage import ShareRecorder, Store
from athena_pool.storage.local_server import local_redis
from athena_pool.storage.records import BlockCandidate, ShareRecord
from athena_pool.stratum import (
    ConnectionCaps,
    PortConfig,
    ProtectionSettings,
    Rate,
    RateLimits,
    StratumConfig,
    StratumLimits,
    StratumServer,
    VardiffConfig,
)
from athena_pool.stratum.cluster import reserve_ports
from athena_pool.stratum.server import BroadcastStats

ATHENA = get_coin("athena")
UNREACHABLE_DIFFICULTY = 10**15  # no share of the bench ever makes a block
# The "mixed" profile: the simulated crowd's addresses, standing for many hosts (stratum_load.py).
CROWD_NETWORK = "127.0.128.0/17"


@dataclass(frozen=True)
class WorkerSpec:
    index: int
    daemon_url: str
    pool_address: str
    port: int
    host: str
    profile: str
    difficulty: int
    hash_threads: int
    redis_url: str | None
    data_dir: str


class CountingSink:
    def __init__(self) -> None:
        self.shares = 0

    def submit(self, share: ShareRecord) -> None:
        self.shares += 1

    async def add_block_candidate(self, candidate: BlockCandidate) -> None:
        pass


def raise_open_files() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def protection(profile: str, hash_threads: int) -> ProtectionSettings:
    if profile == "open":
        # Load generators on 127.0.0.0/8: no caps, no rate limits, a hashing slot per thread for every IP.
        return ProtectionSettings(
            caps=ConnectionCaps(per_ip=1_000_000, per_subnet=1_000_000),
            rates=RateLimits(connect=Rate(1e9, 10**9)),
            exempt=("127.0.0.0/8",),
            judging_per_ip=hash_threads,
        )
    if profile == "mixed":
        # The crowd is exempt from per-IP caps and rates (a few addresses for thousands of miners); the
        # honest miner and the flooder (127.0.0.x) get the defaults.
        return ProtectionSettings(exempt=(CROWD_NETWORK,))
    return ProtectionSettings()  # "defended": the defaults a public pool runs with


# --- a stratum worker ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def share_sink(spec: WorkerSpec) -> AsyncIterator[Any]:
    if spec.redis_url is None:
        yield CountingSink()
        return
    import redis.asyncio as aioredis

    client = aioredis.from_url(spec.redis_url)
    spill = Path(spec.data_dir) / f"shares-{spec.index}.spill"
    try:
        async with ShareRecorder(Store(client, "bench"), spill) as recorder:
            yield recorder
    finally:
        await client.aclose()


def worker_main(pipe: Connection, spec: WorkerSpec) -> None:
    """One stratum process (a multiprocessing spawn target). With ATHENA_BENCH_PROFILE=<file> the event
    loop thread is profiled (cProfile) into <file>.<worker index>."""
    raise_open_files()
    profile_to = os.environ.get("ATHENA_BENCH_PROFILE")
    if not profile_to:
        uvloop.run(_worker(pipe, spec))
        return
    import cProfile

    with cProfile.Profile() as profiler:
        uvloop.run(_worker(pipe, spec))
    profiler.dump_stats(f"{profile_to}.{spec.index}")


async def _worker(pipe: Connection, spec: WorkerSpec) -> None:
    algorithm = create_algorithm(ATHENA.pow_algorithm)
    verifier = PowVerifier(algorithm, threads=spec.hash_threads)
    async with JsonRpcClient(spec.daemon_url, timeout=10) as rpc, share_sink(spec) as sink:
        daemon = TurtleDaemonClient(rpc)
        manager = JobManager(
            daemon,
            get_family(ATHENA.blob_family),
            algorithm.name,
            JobConfig(spec.pool_address, refresh_interval=3600, max_template_age=36_000),
            instance_id=new_instance_id(),
        )
        manager.start()
        await manager.wait_for_template()
        vardiff = VardiffConfig(min_difficulty=1, max_difficulty=10**9, retarget_time=36_000)
        port = PortConfig(spec.port, spec.difficulty, fixed_difficulty=spec.difficulty, vardiff=vardiff,
                          host=spec.host)  # fmt: skip
        config = StratumConfig(
            ports=(port,),
            limits=StratumLimits(login_timeout=3600, idle_timeout=36_000, housekeeping_interval=5),
            protection=protection(spec.profile, verifier.threads),
            reuse_port=True,
        )
        server = StratumServer(
            config=config,
            job_source=manager,
            judge=PoolShareJudge(manager, verifier, daemon),
            share_sink=sink,
            validate_address=lambda text: decode_address(text, ATHENA.address_network),
            hash_threads=verifier.threads,
        )
        fired: list[float] = []
        manager.add_template_listener(lambda: fired.append(time.time()))
        await server.start()
        pipe.send({"ready": True, "pid": os.getpid()})
        try:
            await _serve_commands(pipe, server, manager, verifier, fired)
        finally:
            await server.close()
            await manager.stop()
            verifier.close()


async def _serve_commands(
    pipe: Connection, server: StratumServer, manager: JobManager, verifier: PowVerifier, fired: list[float]
) -> None:
    while True:
        command = await asyncio.to_thread(pipe.recv)
        answer: dict[str, Any]
        if command == "rss":
            times = os.times()
            answer = {"rss_kb": rss_kb(), "connections": server.registry.connections(),
                      "miners": server.registry.miners_online(), "open_fds": len(os.listdir("/proc/self/fd")),
                      "cpu_seconds": times.user + times.system}  # fmt: skip
        elif command == "new_template":
            broadcast = await _new_template(server, manager)
            answer = {"fired": fired[-1], "broadcast_ms": broadcast.seconds * 1000,
                      "sessions": broadcast.sessions}  # fmt: skip
        elif command == "stats":
            stats = server.stats()
            answer = {"shares": stats.shares, "rejects": stats.rejects, "drops": stats.drops,
                      "hashes": dict(verifier.timings.count), "connections": stats.connections}  # fmt: skip
        else:
            pipe.send({"stopped": True})
            return
        pipe.send(answer)


async def _new_template(server: StratumServer, manager: JobManager) -> BroadcastStats:
    """A forced refresh, and the broadcast it started (which runs as a task of its own)."""
    previous = server.last_broadcast
    await manager.refresh(force=True)
    while (broadcast := server.last_broadcast) is None or broadcast is previous:
        await asyncio.sleep(0.001)
    return broadcast


# --- the parent ------------------------------------------------------------------------------------------


class Workers:
    def __init__(self, specs: list[WorkerSpec]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes = []
        for spec in specs:
            pipe, child = context.Pipe()
            process = context.Process(target=worker_main, args=(child, spec), name=f"stratum-{spec.index}")
            process.start()
            self._pipes.append(pipe)
            self._processes.append(process)
        self.pids = [self._receive(pipe)["pid"] for pipe in self._pipes]

    @staticmethod
    def _receive(pipe: Connection) -> dict[str, Any]:
        answer: dict[str, Any] = pipe.recv()
        return answer

    async def ask(self, command: str) -> list[dict[str, Any]]:
        for pipe in self._pipes:
            pipe.send(command)
        return [await asyncio.to_thread(self._receive, pipe) for pipe in self._pipes]

    def join(self) -> None:
        for process in self._processes:
            process.join(60)
            if process.is_alive():
                process.kill()


def combine(command: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    if command == "rss":
        return {
            "cpu_seconds": sum(a["cpu_seconds"] for a in answers),
            "rss_kb": sum(a["rss_kb"] for a in answers),
            "connections": sum(a["connections"] for a in answers),
            "open_fds": max(a["open_fds"] for a in answers),
            "miners": sum(a["miners"] for a in answers),
            "workers": answers,
        }
    if command == "new_template":
        return {
            "fired": min(a["fired"] for a in answers),
            "broadcast_ms": max(a["broadcast_ms"] for a in answers),
            "sessions": [a["sessions"] for a in answers],
        }
    if command == "stats":
        total: dict[str, Any] = {
            "shares": Counter(),
            "rejects": Counter(),
            "drops": Counter(),
            "hashes": Counter(),
        }
        for answer in answers:
            for key in total:
                total[key].update(answer[key])
        return {key: dict(value) for key, value in total.items()}
    return answers[0]


@contextlib.asynccontextmanager
async def redis_url(kind: str, data_dir: Path) -> AsyncIterator[str | None]:
    if kind == "null":
        yield None
        return
    async with local_redis(data_dir / "redis", free_loopback_port()) as url:
        yield url


async def serve(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="stratum-bench-"))
    options = DevnetOptions(
        daemon_port=0,
        wallet_port=0,
        data_dir=data_dir / "devnet",
        difficulty=UNREACHABLE_DIFFICULTY,
        network_blocks=False,
        seed=5,
    )
    (port,), held = reserve_ports((PortConfig(0, 1, host=args.host),))
    async with start_devnet(options) as devnet, redis_url(args.sink, data_dir) as redis:
        specs = [
            WorkerSpec(
                i,
                devnet.daemon_url,
                devnet.pool_address,
                port.port,
                args.host,
                args.profile,
                args.difficulty,
                args.hash_threads,
                redis,
                str(data_dir),
            )
            for i in range(args.workers)
        ]
        workers = await asyncio.to_thread(Workers, specs)
        print(json.dumps({"ready": True, "port": port.port, "pid": workers.pids[0], "pids": workers.pids,
                          "open_files": args.open_files}), flush=True)  # fmt: skip
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)["cmd"]
            answers = await workers.ask(command)
            if command == "stop":
                break
            print(json.dumps(combine(command, answers)), flush=True)
        await asyncio.to_thread(workers.join)
        print(json.dumps({"stopped": True}), flush=True)
    for sock in held:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=["open", "defended", "mixed"], default="open")
    parser.add_argument("--sink", choices=["null", "redis"], default="null")
    parser.add_argument("--difficulty", type=int, default=1)
    parser.add_argument("--hash-threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--workers", type=int, default=1, help="stratum processes sharing the port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    args.open_files = raise_open_files()
    uvloop.run(serve(args))


if __name__ == "__main__":
    main()
