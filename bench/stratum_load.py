"""Stratum under load, on loopback only: many simulated miners over real TCP against a real pool process.

The pool (bench/stratum_bench_pool.py) is the real job side on the devnet (forknote2 templates, cn-lite/1
hashed by PoolShareJudge in a thread per core) on uvloop. Miners live in "fleet" processes
(bench/stratum_bench_clients.py), since one process may hold only so many sockets. Every figure is printed
as JSON; every mode stops by itself.

    python bench/stratum_load.py --mode idle                # connections held, RSS per connection
    python bench/stratum_load.py --mode login               # logins per second (connect + login)
    python bench/stratum_load.py --mode shares              # verified shares/s vs the bare hash function
    python bench/stratum_load.py --mode push                # a new job to 10,000 miners
    python bench/stratum_load.py --mode flood               # an honest miner's latency, quiet vs flooded
    python bench/stratum_load.py --mode mixed               # all at once: idle, login storm, shares, flood
    python bench/stratum_load.py --mode all                 # all of the above, one JSON document
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from stratum_bench_clients import (
    NONCE_OFFSET,
    BenchMiner,
    addresses,
    fleet_main,
    open_miner,
    precompute,
    raise_open_files,
    sources,
)

from athena_pool.pow import create_algorithm

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
HONEST_SOURCE = "127.0.0.3"
FLOOD_SOURCE = "127.0.0.2"
JOBS_KEPT_PER_SESSION = 8  # StratumLimits.max_jobs_per_session
OPEN_FILES_MARGIN = 8  # files a worker may open while the bench runs (a log rotation, an RPC reconnect)


# --- the pool process ---------------------------------------------------------------------------------------


class PoolProcess:
    def __init__(self, *options: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(HERE / "stratum_bench_pool.py"), *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._read()
        self.port: int = ready["port"]
        self.pid: int = ready["pid"]
        self.open_files: int = ready["open_files"]

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the bench pool exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def command(self, name: str) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"cmd": name}) + "\n")
        self._process.stdin.flush()
        return self._read()

    def stop(self) -> None:
        try:
            self.command("stop")
            self._process.wait(timeout=60)
        finally:
            if self._process.poll() is None:
                self._process.kill()

    def __enter__(self) -> PoolProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FleetProcess:
    """A spawned process holding many miners (its own open-files limit)."""

    def __init__(
        self, port: int, first_source: int, source_count: int = 40, wallets: int = 64, niceness: int = 0
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        fleet_args = (child, HOST, port, first_source, source_count, wallets, niceness)
        self._process = context.Process(target=fleet_main, args=fleet_args)
        self._process.start()
        self.receive()  # ready: its wallets are made

    def send(self, **command: Any) -> None:
        self._pipe.send(command)

    def receive(self, timeout: float = 600) -> dict[str, Any]:
        if not self._pipe.poll(timeout):
            raise TimeoutError("the fleet did not answer")
        answer: dict[str, Any] = self._pipe.recv()
        return answer

    def call(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.receive()

    def close(self) -> None:
        try:
            self.call(cmd="close")
        finally:
            self._process.join(30)
            if self._process.is_alive():
                self._process.kill()


def in_parallel(fleets: list[FleetProcess], **command: Any) -> list[dict[str, Any]]:
    for fleet in fleets:
        fleet.send(**command)
    return [fleet.receive() for fleet in fleets]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# --- idle connections and RSS -------------------------------------------------------------------------------


def mode_idle(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "one_process": idle_connections(args, 1),
        "two_processes": idle_connections(args, 2),
        "note": "one process holds as many as its open-files limit leaves after its own files; two share "
        "the port (SO_REUSEPORT), as stratum.cluster_workers does",
    }


def idle_connections(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    with PoolProcess("--profile", "open", "--workers", str(workers)) as pool:
        fleets = [FleetProcess(pool.port, first_source=10 + 50 * i) for i in range(args.fleets)]
        try:
            base = pool.command("rss")
            # One process cannot hold more sockets than its limit leaves after its own files (listeners,
            # epoll, the RPC and Redis connections, the hashing threads' eventfds...): counted, not guessed.
            # The kernel spreads connections over the workers unevenly, hence the margin with two.
            room = pool.open_files - base["open_fds"] - OPEN_FILES_MARGIN
            wanted = min(args.connections, room if workers == 1 else args.connections)
            shares = [
                wanted // len(fleets) + (1 if i < wanted % len(fleets) else 0) for i in range(len(fleets))
            ]
            for fleet, count in zip(fleets, shares, strict=True):
                fleet.send(cmd="connect", count=count, login=False)
            connected = sum(fleet.receive()["ok"] for fleet in fleets)
            after_connect = pool.command("rss")
            logged_in = sum(answer["ok"] for answer in in_parallel(fleets, cmd="login"))
            after_login = pool.command("rss")
            pool.command("new_template")  # every miner now holds two jobs, as after a block
            time.sleep(2)
            after_push = pool.command("rss")
            for _ in range(JOBS_KEPT_PER_SESSION - 2):  # the most a session keeps
                pool.command("new_template")
            time.sleep(2)
            full_history = pool.command("rss")
        finally:
            for fleet in fleets:
                fleet.close()

    def per_connection(rss: dict[str, Any]) -> float:
        return round(float((rss["rss_kb"] - base["rss_kb"]) * 1024 / max(1, rss["connections"])), 1)

    return {
        "processes": workers,
        "connections_asked": args.connections,
        "open_files_limit": pool.open_files,
        "own_open_files": base["open_fds"],
        "connections_held": after_login["connections"],
        "connected": connected,
        "logged_in": logged_in,
        "wallets_online": after_login["miners"],
        "rss_base_kb": base["rss_kb"],
        "rss_connected_kb": after_connect["rss_kb"],
        "rss_logged_in_kb": after_login["rss_kb"],
        "rss_after_a_new_job_kb": after_push["rss_kb"],
        "bytes_per_connection_connected": per_connection(after_connect),
        "bytes_per_connection_logged_in": per_connection(after_login),
        "bytes_per_connection_after_a_new_job": per_connection(after_push),
        "rss_with_8_jobs_per_miner_kb": full_history["rss_kb"],
        "bytes_per_connection_with_8_jobs_per_miner": per_connection(full_history),
    }


# --- login storm --------------------------------------------------------------------------------------------


def login_storm(args: argparse.Namespace, wallets: int) -> dict[str, Any]:
    count = args.login_connections
    per_fleet = count // args.fleets
    with PoolProcess("--profile", "open") as pool:
        fleets = [
            FleetProcess(pool.port, first_source=10 + 50 * i, wallets=min(wallets, per_fleet))
            for i in range(args.fleets)
        ]
        try:
            answers = in_parallel(fleets, cmd="connect", count=per_fleet, login=True)
        finally:
            for fleet in fleets:
                fleet.close()
    return login_figures(answers)


def login_figures(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Fleets' answers to a `connect` with login: logins per second over the whole storm."""
    ok = sum(a["ok"] for a in answers)
    elapsed = max(a["finished"] for a in answers) - min(a["started"] for a in answers)
    return {
        "logins": ok,
        "failed": sum(a["failed"] for a in answers),
        "seconds": round(elapsed, 3),
        "logins_per_second": round(ok / elapsed, 1),
    }


def mode_login(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "known_wallets": login_storm(args, wallets=64),
        "every_wallet_new": login_storm(args, wallets=args.login_connections),
        "note": "connect + login + the first job, 256 in flight per fleet; a wallet's first login pays "
        "for its address check (~1 ms in Python: curve points), later ones find it remembered",
    }


# --- a new job to every miner -------------------------------------------------------------------------------


def push_rounds(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    count = args.push_miners
    rounds: list[dict[str, Any]] = []
    with PoolProcess("--profile", "open", "--workers", str(workers)) as pool:
        fleets = [
            FleetProcess(pool.port, first_source=10 + 50 * i, niceness=args.fleet_niceness)
            for i in range(args.fleets)
        ]
        try:
            connected = in_parallel(fleets, cmd="connect", count=count // len(fleets), login=True)
            miners = sum(a["ok"] for a in connected)
            for _ in range(args.rounds):
                in_parallel(fleets, cmd="mark")
                time.sleep(0.5)
                pushed = pool.command("new_template")
                arrivals = collect_arrivals(fleets, miners)
                lags = [arrival - pushed["fired"] for arrival in arrivals]
                rounds.append(
                    {
                        "received": len(lags),
                        "last_ms": round(max(lags) * 1000, 1),
                        "median_ms": round(statistics.median(lags) * 1000, 1),
                        "pool_side_ms": round(pushed["broadcast_ms"], 1),
                        "sessions_per_process": pushed["sessions"],
                    }
                )
        finally:
            for fleet in fleets:
                fleet.close()
    last = [r["last_ms"] for r in rounds]
    return {
        "processes": workers,
        "miners": miners,
        "rounds": rounds,
        "last_miner_ms_median_of_rounds": statistics.median(last),
        "last_miner_ms_best_round": min(last),
        "last_miner_ms_worst_round": max(last),
    }


def mode_push(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "one_process": push_rounds(args, 1),
        "two_processes": push_rounds(args, 2),
        "note": "from the new template becoming current to the push read by the last miner (one host "
        "clock); with two processes both refresh at once and the first one's time counts",
    }


def collect_arrivals(fleets: list[FleetProcess], miners: int, timeout: float = 30) -> list[float]:
    deadline = time.time() + timeout
    while True:
        arrivals = [t for a in in_parallel(fleets, cmd="pushes") for t in a["arrivals"]]
        if len(arrivals) >= miners or time.time() > deadline:
            return arrivals
        time.sleep(0.2)


# --- verified shares ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HashRate:
    per_second: float  # wall clock, on `threads` threads
    cpu_seconds_per_hash: float  # the threads' own CPU time: what one hash costs, whatever else runs


def hash_rate_alone(threads: int, seconds: float) -> HashRate:
    """The cn-lite/1 hash function alone on `threads` threads (it releases the GIL)."""
    algorithm = create_algorithm("cn-lite/1")
    counts = [0] * threads
    cpu = [0.0] * threads
    deadline = time.perf_counter() + seconds

    def work(slot: int) -> None:
        data = bytearray(76)
        nonce = slot << 24
        cpu_start = time.thread_time()
        while time.perf_counter() < deadline:
            data[NONCE_OFFSET : NONCE_OFFSET + 4] = nonce.to_bytes(4, "little")
            algorithm.hash(bytes(data), height=1)
            nonce += 1
            counts[slot] += 1
        cpu[slot] = time.thread_time() - cpu_start

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    algorithm.close()
    return HashRate(sum(counts) / elapsed, sum(cpu) / max(1, sum(counts)))


async def login_miners(port: int, count: int, source_list: list[str]) -> list[BenchMiner]:
    wallets = addresses(count, seed=9)
    miners = [
        await open_miner(HOST, port, source_list[i % len(source_list)], wallets[i]) for i in range(count)
    ]
    await asyncio.gather(*(m.login() for m in miners))
    return miners


async def blast(miners: list[BenchMiner], shares: list[list[tuple[str, str]]]) -> dict[str, Any]:
    started = time.perf_counter()
    waiters = [
        m.submit(nonce, result) for m, pairs in zip(miners, shares, strict=True) for nonce, result in pairs
    ]
    replies = await asyncio.gather(*waiters)
    elapsed = time.perf_counter() - started
    accepted = sum(1 for r in replies if r.get("error") is None)
    return {"submitted": len(replies), "accepted": accepted, "seconds": elapsed}


def mode_shares(args: argparse.Namespace) -> dict[str, Any]:
    """Rounds of [the bare hash function, then a blast of valid shares at the pool], so that both figures of
    a round see the same machine. Besides wall-clock rates, CPU time: what the pool process spends per
    verified share against what one bare hash costs, which a busy shared machine does not distort."""
    threads = os.cpu_count() or 1
    rounds: list[dict[str, Any]] = []
    with PoolProcess("--profile", "open", "--sink", args.sink, "--difficulty", "1") as pool:

        async def run() -> None:
            miners = await login_miners(pool.port, args.share_miners, sources(16, first=300))
            for _ in range(args.share_rounds):
                alone = await asyncio.to_thread(hash_rate_alone, threads, args.hash_seconds)
                per_miner = max(1, int(alone.per_second * args.share_seconds / len(miners)))
                for miner in miners:  # a fresh job each round: earlier nonces would be duplicates
                    miner.job = (await miner.request("getjob", {"id": miner.session_id}))["result"]
                shares = await asyncio.to_thread(precompute, [m.job for m in miners], per_miner, threads)
                cpu_before = pool.command("rss")["cpu_seconds"]
                result = await blast(miners, shares)
                cpu = pool.command("rss")["cpu_seconds"] - cpu_before
                rounds.append(round_figures(alone, result, cpu))
            for miner in miners:
                miner.close()

        uvloop.run(run())
        stats = pool.command("stats")
    return {
        "algorithm": "cn-lite/1",
        "hash_threads": threads,
        "miners": args.share_miners,
        "rounds": rounds,
        "verified_shares_per_second_median": statistics.median(
            r["verified_shares_per_second"] for r in rounds
        ),
        "hash_function_alone_per_second_median": statistics.median(
            r["hash_function_alone_per_second"] for r in rounds
        ),
        "ratio_wall_clock_median": statistics.median(r["ratio_wall_clock"] for r in rounds),
        "ratio_cpu_time_median": statistics.median(r["ratio_cpu_time"] for r in rounds),
        "verified_per_second_on_idle_cores": statistics.median(
            r["projected_idle_per_second"] for r in rounds
        ),
        "hashes_done_by_pool": stats["hashes"],
        "rejects": stats["rejects"],
        "share_sink": args.sink,
        "note": "every share hashed (trust off); difficulty 1 so every precomputed hash is a valid share; "
        "ratio_cpu_time = (bare CPU per hash x shares) / pool process CPU over the blast; projected = "
        "threads / bare CPU per hash x ratio_cpu_time",
    }


def round_figures(alone: HashRate, result: dict[str, Any], pool_cpu: float) -> dict[str, Any]:
    verified = result["accepted"] / result["seconds"]
    ratio_cpu = alone.cpu_seconds_per_hash * result["accepted"] / pool_cpu
    threads = os.cpu_count() or 1
    return {
        "hash_function_alone_per_second": round(alone.per_second, 1),
        "shares_accepted": result["accepted"],
        "shares_submitted": result["submitted"],
        "verified_shares_per_second": round(verified, 1),
        "ratio_wall_clock": round(verified / alone.per_second, 3),
        "bare_cpu_ms_per_hash": round(alone.cpu_seconds_per_hash * 1000, 3),
        "pool_cpu_ms_per_share": round(pool_cpu / result["accepted"] * 1000, 3),
        "ratio_cpu_time": round(ratio_cpu, 3),
        "projected_idle_per_second": round(threads / alone.cpu_seconds_per_hash * ratio_cpu, 1),
    }


# --- an honest miner next to a flood ------------------------------------------------------------------------


async def honest_latencies(
    miner: BenchMiner, pairs: list[tuple[str, str]], until: float | None = None
) -> list[float]:
    """One share at a time, each awaited, 10 ms apart; every pair, or those that fit before `until`
    (time.perf_counter())."""
    latencies = []
    for nonce, result in pairs:
        if until is not None and time.perf_counter() >= until:
            break
        started = time.perf_counter()
        reply = await miner.submit(nonce, result)
        latencies.append(time.perf_counter() - started)
        if reply.get("error") is not None:
            raise RuntimeError(f"honest share refused: {reply}")
        await asyncio.sleep(0.01)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


def mode_flood(args: argparse.Namespace) -> dict[str, Any]:
    count = args.honest_shares
    with PoolProcess("--profile", "defended", "--difficulty", "1") as pool:
        fleet = FleetProcess(pool.port, first_source=500, source_count=1)

        async def run() -> tuple[list[float], list[float], dict[str, Any]]:
            (miner,) = await login_miners(pool.port, 1, [HONEST_SOURCE])
            pairs = await asyncio.to_thread(precompute, [miner.job], 2 * count, os.cpu_count() or 1)
            quiet = await honest_latencies(miner, pairs[0][:count])
            await asyncio.to_thread(fleet.call, cmd="flood", source=FLOOD_SOURCE)
            await asyncio.sleep(2)  # the flood is in full swing
            flooded = await honest_latencies(miner, pairs[0][count:])
            flood = await asyncio.to_thread(fleet.call, cmd="stop_flood")
            miner.close()
            return quiet, flooded, flood

        try:
            quiet, flooded, flood = uvloop.run(run())
            stats = pool.command("stats")
        finally:
            fleet.close()
    quiet_summary, flood_summary = summary(quiet), summary(flooded)
    return {
        "honest_shares_each_phase": count,
        "quiet": quiet_summary,
        "flooded": flood_summary,
        "p99_flooded_over_quiet": round(flood_summary["p99_ms"] / quiet_summary["p99_ms"], 2),
        "flood": {**flood, "pool_rejects": stats["rejects"], "pool_drops": stats["drops"]},
        "note": "16 connections of bad submits + 4 of keepalives, as fast as the pool reads them, and a "
        "reconnecting junk sender, all from one other address; default protection",
    }


# --- everything at once -------------------------------------------------------------------------------------

# The simulated crowd (idle miners, the login storm, the share senders) stands for thousands of hosts but
# comes from a few loopback addresses, 127.0.128.0/17 (`stratum_bench_pool.CROWD_NETWORK`): exempt from the
# per-IP caps and rates there. The honest miner and the flooder, 127.0.0.x, get the defaults.
CROWD_FIRST_SOURCE = 128 * 250  # sources(first=...) -> 127.0.128.2 onwards
HONEST_PAUSE_S = 0.01  # honest_latencies' pause between shares


def mode_mixed(args: argparse.Namespace) -> dict[str, Any]:
    """Idle connections held, then at once: a login storm, miners sending valid shares at a share of what
    the hash function does, a flooder, and the honest miner whose latency is compared with a quiet phase."""
    seconds = args.mixed_seconds
    alone = hash_rate_alone(os.cpu_count() or 1, args.hash_seconds)
    rate = args.mixed_share_load * alone.per_second
    per_miner = int(rate * seconds * 1.2 / args.share_miners) + 1
    with PoolProcess("--profile", "mixed", "--difficulty", "1", "--sink", args.sink) as pool:
        crowd = [
            FleetProcess(pool.port, first_source=CROWD_FIRST_SOURCE + 50 * i, source_count=16)
            for i in range(3)
        ]
        idle, storm, senders = crowd
        flooder = FleetProcess(pool.port, first_source=500, source_count=1)
        try:
            held = idle.call(cmd="connect", count=args.mixed_idle, login=True)
            prepared = senders.call(cmd="prepare_shares", miners=args.share_miners, per_miner=per_miner)
            quiet, mixed, storm_answer, shares, flood = uvloop.run(
                mixed_phases(args, pool.port, (storm, senders, flooder), rate)
            )
            stats = pool.command("stats")
            connections = pool.command("rss")["connections"]
        finally:
            for fleet in (*crowd, flooder):
                fleet.close()
    quiet_summary, mixed_summary = summary(quiet), summary(mixed)
    return {
        "seconds": seconds,
        "idle_connections": held["ok"],
        "connections_at_the_end": connections,
        "login_storm": login_figures([storm_answer]),
        "hash_function_alone_per_second": round(alone.per_second, 1),
        "shares": {**shares, "logged_in": prepared["ok"]},
        "verified_shares_per_second": shares["verified_shares_per_second"],
        "honest": {
            "quiet": {**quiet_summary, "shares": len(quiet)},
            "mixed": {**mixed_summary, "shares": len(mixed)},
            "p99_mixed_over_quiet": round(mixed_summary["p99_ms"] / quiet_summary["p99_ms"], 2),
        },
        "flooder_requests": flood["sent"],
        "flood": {**flood, "pool_rejects": stats["rejects"], "pool_drops": stats["drops"]},
        "note": "quiet: the honest miner with only the idle connections; mixed: the login storm, the share "
        "senders (offered_per_second = --mixed-share-load x the bare hash function), the flood (as in "
        "--mode flood) and the honest miner at once, on the same cores as the pool",
    }


async def mixed_phases(
    args: argparse.Namespace, port: int, fleets: tuple[FleetProcess, ...], rate: float
) -> tuple[list[float], list[float], dict[str, Any], dict[str, Any], dict[str, Any]]:
    storm, senders, flooder = fleets
    (miner,) = await login_miners(port, 1, [HONEST_SOURCE])
    mixed_count = int(args.mixed_seconds / HONEST_PAUSE_S) + 1
    pairs = (await asyncio.to_thread(precompute, [miner.job], args.honest_shares + mixed_count, 2))[0]
    quiet = await honest_latencies(miner, pairs[: args.honest_shares])
    await asyncio.to_thread(flooder.call, cmd="flood", source=FLOOD_SOURCE)
    senders.send(cmd="send_shares", rate=rate, seconds=args.mixed_seconds)
    storm.send(cmd="connect", count=args.mixed_logins, login=True)
    until = time.perf_counter() + args.mixed_seconds
    mixed = await honest_latencies(miner, pairs[args.honest_shares :], until=until)
    storm_answer = await asyncio.to_thread(storm.receive)
    shares = await asyncio.to_thread(senders.receive)
    flood = await asyncio.to_thread(flooder.call, cmd="stop_flood")
    miner.close()
    return quiet, mixed, storm_answer, shares, flood


# --- main ---------------------------------------------------------------------------------------------------

MODES = {
    "idle": mode_idle,
    "login": mode_login,
    "push": mode_push,
    "shares": mode_shares,
    "flood": mode_flood,
    "mixed": mode_mixed,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument("--connections", type=int, default=20_000, help="idle: connections asked for")
    parser.add_argument("--login-connections", type=int, default=10_000)
    parser.add_argument("--push-miners", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="push: new templates")
    parser.add_argument("--fleets", type=int, default=2, help="client processes")
    parser.add_argument("--share-miners", type=int, default=64)
    parser.add_argument("--share-seconds", type=float, default=8.0, help="shares: about this long a blast")
    parser.add_argument("--share-rounds", type=int, default=3)
    parser.add_argument("--hash-seconds", type=float, default=5.0)
    parser.add_argument("--sink", choices=["null", "redis"], default="redis")
    parser.add_argument("--honest-shares", type=int, default=300, help="flood, mixed: shares per phase")
    parser.add_argument("--mixed-seconds", type=float, default=30.0, help="mixed: how long all run at once")
    parser.add_argument("--mixed-idle", type=int, default=10_000, help="mixed: idle connections held")
    parser.add_argument("--mixed-logins", type=int, default=5_000, help="mixed: the login storm")
    parser.add_argument(
        "--mixed-share-load",
        type=float,
        default=0.5,
        help="mixed: valid shares offered per second, as a fraction of the bare hash function on all cores",
    )
    parser.add_argument(
        "--fleet-niceness",
        type=int,
        default=0,
        help="push: run the simulated miners at this nice level, so that where they and the pool want the "
        "same core the pool wins, as remote miners never take the pool's CPU (0: plain competition)",
    )
    args = parser.parse_args()
    raise_open_files()
    modes = list(MODES) if args.mode == "all" else [args.mode]
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    for name in modes:
        report[name] = MODES[name](args)
        print(json.dumps({name: report[name]}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
