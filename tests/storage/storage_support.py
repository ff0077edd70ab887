"""Helpers for the storage tests: a redis-server child process and a share factory."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry as SyncRetry

from athena_pool.storage import RewardType, ShareKind, ShareRecord, Store

T0_MS = 1_700_000_000_000  # a fixed share time; tests that read hashrate pass now_ms explicitly


class RedisServer:
    """A redis-server child process on its own port and data directory, which tests may stop and restart."""

    def __init__(self, data_dir: Path, *, appendonly: bool) -> None:
        self.port = _free_port()
        self.data_dir = data_dir
        self._appendonly = appendonly
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self._appendonly else []
        self._process = subprocess.Popen(
            [
                _redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.data_dir),
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_until_ready()

    def shutdown(self) -> None:
        """A clean SHUTDOWN (the AOF is flushed)."""
        # The server closes the connection as it exits.
        with _sync_client(self.port) as client, contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        self._reap()

    def kill(self) -> None:
        """SIGKILL: nothing is flushed on the way out (appendfsync always already did)."""
        if self._process is not None:
            self._process.kill()
        self._reap()

    def client(self, *, decode_responses: bool = False) -> aioredis.Redis:
        """A client that gives up quickly (two fast retries), so outages surface to the recorder."""
        return aioredis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_timeout=2,
            socket_connect_timeout=1,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 2),
            decode_responses=decode_responses,
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 20
        with _sync_client(self.port) as client:
            while True:
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.exceptions.BusyLoadingError):
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.02)

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait(timeout=20)
            self._process = None


def _sync_client(port: int) -> redis.Redis:
    # No retries: redis-py's default (ten, with backoff) would spend seconds on a server that is gone.
    return redis.Redis(port=port, socket_connect_timeout=0.5, retry=SyncRetry(NoBackoff(), 0))


def _redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip("redis-server is not installed")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def share(
    address: str = "miner-a",
    worker: str = "rig1",
    difficulty: int = 1000,
    kind: ShareKind = ShareKind.VALID,
    solo: bool = False,
    time_ms: int = T0_MS,
    height: int = 100,
    ip: str | None = None,
) -> ShareRecord:
    return ShareRecord(address, worker, difficulty, kind, solo, time_ms, height, ip)


def share_stream(count: int, seed: int) -> list[ShareRecord]:
    """A reproducible mix of miners (colons in names included), workers, kinds and solo shares."""
    rng = random.Random(seed)
    miners = [("alice", False), ("bob:x", False), ("carol.0123", False), ("dave", True), ("e:v:e", True)]
    kinds = [ShareKind.VALID] * 5 + list(ShareKind)
    shares = []
    for i in range(count):
        address, solo = rng.choice(miners)
        shares.append(
            share(
                address,
                worker=rng.choice(["rig1", "rig:2", ""]),
                difficulty=rng.randrange(1, 1_000_000),
                kind=rng.choice(kinds),
                solo=solo,
                time_ms=T0_MS + i,
                ip=f"10.0.0.{rng.randrange(4)}",
            )
        )
    return shares


@dataclass
class Expected:
    """What a list of shares must add up to in Redis, computed independently of the store."""

    prop_round: dict[str, int] = field(default_factory=dict)
    solo_rounds: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, Counter[ShareKind]] = field(default_factory=dict)
    pplns_entries: int = 0

    @classmethod
    def of(cls, shares: Iterable[ShareRecord]) -> Expected:
        expected = cls()
        for s in shares:
            expected.counts.setdefault(s.address, Counter())[s.kind] += 1
            if not s.kind.credited:
                continue
            if s.solo:
                solo = expected.solo_rounds.setdefault(s.address, {s.address: 0})
                solo[s.address] += s.difficulty
            else:
                expected.prop_round[s.address] = expected.prop_round.get(s.address, 0) + s.difficulty
                expected.pplns_entries += 1
        return expected

    async def check(self, store: Store) -> None:
        assert await store.round_shares(RewardType.PROP) == self.prop_round
        for address, round_ in self.solo_rounds.items():
            assert await store.round_shares(RewardType.SOLO, address) == round_
        for address, counts in self.counts.items():
            stats = await store.miner_stats(address)
            assert stats is not None
            assert [stats.counts[kind] for kind in ShareKind] == [counts[kind] for kind in ShareKind], address
        assert len(await store.pplns_window(2**62)) == self.pplns_entries


async def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Polls for a state the test needs before its next step (not an assertion about timing)."""
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None
