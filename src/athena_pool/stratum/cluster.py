"""Several stratum processes on one host, sharing the listening ports (the reference pool's `clusterForks`).

Each worker is a whole pool process of its own: its own event loop, its own `JobManager` polling the daemon
(consistent with its siblings because they all poll the same daemon, and the first to see a new block tells
the others through Redis, `jobs.tip_relay`, so none lags a poll interval behind), its own hashing thread
pool (so hash verification spreads over every core even though one event loop runs on one), its own share
recorder (with a spill file of its own). Bans are
shared through Redis (`storage.bans_store`), share statistics are per-process in Redis and summed by the API.

The kernel spreads new connections over the workers: every worker binds the same ports with SO_REUSEPORT.
Ports configured as 0 are resolved once by the parent and held by a bound, never-listening socket, so every
worker binds the same number.

Workers are started with multiprocessing's *spawn* method: a fresh interpreter that imports the pool and
calls `target(index)`, never a fork of a parent that already has threads, an event loop or Redis
connections. The parent only supervises: a worker that dies is started again after `respawn_delay`; on
SIGTERM or SIGINT every worker gets SIGTERM (its graceful stop: no new connections, shares in flight
finished and stored, `client.reconnect` sent), and after `stop_timeout` the stragglers get SIGKILL.

    ports, held = reserve_ports(config.stratum.ports)
    worker_config = replace(config, stratum=replace(config.stratum, ports=ports, reuse_port=True))
    exit_code = run_cluster(partial(serve_worker, worker_config), resolve_worker_count("auto"))
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Literal

from athena_pool.stratum.config import PortConfig

log = logging.getLogger(__name__)

WorkerTarget = Callable[[int], None]  # a picklable callable (module-level function or partial of one)
POLL_S = 0.5


def resolve_worker_count(setting: int | Literal["auto"]) -> int:
    """`cluster_workers`: a number, or "auto" for the cores this process may run on."""
    if setting != "auto":
        return setting
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def reserve_ports(ports: tuple[PortConfig, ...]) -> tuple[tuple[PortConfig, ...], list[socket.socket]]:
    """Every port 0 replaced by a free port number, held by a bound SO_REUSEPORT socket that never listens
    (keep the sockets open while the workers run; they never receive a connection)."""
    resolved: list[PortConfig] = []
    held: list[socket.socket] = []
    try:
        for port in ports:
            if port.port != 0:
                resolved.append(port)
                continue
            family = socket.AF_INET6 if ":" in port.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            held.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((port.host, 0))
            resolved.append(replace(port, port=sock.getsockname()[1]))
    except BaseException:
        for sock in held:
            sock.close()
        raise
    return tuple(resolved), held


@dataclass(frozen=True)
class ClusterSettings:
    respawn_delay: float = 2.0
    stop_timeout: float = 30.0
    # A worker that dies this soon after starting, this many times in a row, stops the cluster (a config
    # or port problem does not heal by restarting every two seconds forever).
    min_uptime: float = 10.0
    max_quick_deaths: int = 5


@dataclass
class _Slot:
    index: int
    process: BaseProcess | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None


class Cluster:
    """The worker processes and their supervision; `run_cluster` adds the signal handling."""

    def __init__(
        self,
        target: WorkerTarget,
        count: int,
        settings: ClusterSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if count < 1:
            raise ValueError("a cluster needs at least one worker")
        self._target = target
        self._settings = settings or ClusterSettings()
        self._clock = clock
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(index) for index in range(count)]
        self.stopping = False
        self.failed = False

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes() if p.pid is not None and p.is_alive()]

    def start(self) -> None:
        for slot in self._slots:
            self._spawn(slot)

    def supervise_once(self, timeout: float = POLL_S) -> None:
        """Wait (at most `timeout`) for a worker to exit, and restart what is due."""
        sentinels = [p.sentinel for p in self._processes() if p.is_alive()]
        if sentinels:
            wait(sentinels, timeout)
        now = self._clock()
        for slot in self._slots:
            self._check(slot, now)

    def stop(self) -> int:
        """SIGTERM to every worker, SIGKILL after the stop timeout; the number of workers that had to be
        killed."""
        self.stopping = True
        for process in self._processes():
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = self._clock() + self._settings.stop_timeout
        killed = 0
        for process in self._processes():
            process.join(max(0.0, deadline - self._clock()))
            if process.is_alive():
                log.error("stratum worker %s did not stop in time: killed", process.pid)
                process.kill()
                process.join()
                killed += 1
        return killed

    def _processes(self) -> Iterator[BaseProcess]:
        return (slot.process for slot in self._slots if slot.process is not None)

    def _spawn(self, slot: _Slot) -> None:
        process = self._context.Process(
            target=self._target, args=(slot.index,), name=f"stratum-{slot.index}", daemon=False
        )
        process.start()
        slot.process, slot.started_at, slot.restart_at = process, self._clock(), None
        log.info("stratum worker %d started (pid %s)", slot.index, process.pid)

    def _check(self, slot: _Slot, now: float) -> None:
        process = slot.process
        if self.stopping or self.failed or process is None:
            return
        if slot.restart_at is not None:
            if now >= slot.restart_at:
                self._spawn(slot)
            return
        if process.is_alive():
            return
        process.join()
        quick = now - slot.started_at < self._settings.min_uptime
        slot.quick_deaths = slot.quick_deaths + 1 if quick else 0
        log.error("stratum worker %d (pid %s) exited with %s", slot.index, process.pid, process.exitcode)
        if slot.quick_deaths >= self._settings.max_quick_deaths:
            log.critical("stratum worker %d keeps dying at start: stopping the cluster", slot.index)
            self.failed = True
            return
        slot.restart_at = now + self._settings.respawn_delay


def run_cluster(target: WorkerTarget, count: int, settings: ClusterSettings | None = None) -> int:
    """Runs `count` workers until SIGTERM/SIGINT (or until one keeps dying at start); the exit code.

    Call it from the main thread of the parent process: it installs the two signal handlers.
    """
    cluster = Cluster(target, count, settings)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping %d stratum workers", signum, count)
        cluster.stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        cluster.start()
        while not cluster.stopping and not cluster.failed:
            cluster.supervise_once()
        killed = cluster.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if cluster.failed or killed else 0
