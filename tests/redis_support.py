"""A private redis-server for the tests: a child process on a free loopback port (never the shared one on
6379), memory-only or appendonly, which a test may shut down or kill and start again on the same port and
data folder.

The pool's own `athena_pool.storage.local_server.local_redis` does not fit here: it is an async context
manager tied to one event loop (these servers outlive many loops: session fixtures, `asyncio.run` in the
Hypothesis tests, the API's thread), it always fsyncs every write, and it only stops with SHUTDOWN, while the
outage tests need SIGKILL and a restart on the same data folder.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry as SyncRetry

from athena_pool.rpc.monerod_regtest import free_loopback_port

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 20.0


class RedisServer:
    """A redis-server child process on its own port and data folder; `start` again after `shutdown`/`kill`.

    `appendonly=True` fsyncs every write to an append-only file, so what was acknowledged before a kill is
    there again after the restart; without it the server keeps everything in memory only.
    """

    def __init__(self, data_dir: Path, *, appendonly: bool = False) -> None:
        self.port = free_loopback_port()
        self.data_dir = data_dir
        self._appendonly = appendonly
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        """Starts the server (again, on the same port and data) and returns once it answers PING."""
        if self._process is not None:
            raise RuntimeError(f"redis-server on port {self.port} is already running")
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        options = ["--port", str(self.port), "--bind", HOST, "--save", "", "--dir", str(self.data_dir)]
        if self._appendonly:
            options += ["--appendonly", "yes", "--appendfsync", "always"]
        self._process = subprocess.Popen(
            [binary, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until_ready(self._process)

    def shutdown(self) -> None:
        """A clean SHUTDOWN (the append-only file is flushed)."""
        # The server closes the connection as it exits.
        with _sync_client(self.port) as client, contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        self._reap()

    def kill(self) -> None:
        """SIGKILL: nothing is flushed on the way out (appendfsync always already did). Does nothing when the
        server is not running, so a test may kill it and its fixture or `finally` kill it again."""
        if self._process is not None:
            self._process.kill()
        self._reap()

    def client(self, *, decode_responses: bool = False) -> aioredis.Redis:
        """An asyncio client that gives up quickly when the server is away (two retries at most 50 ms apart,
        not redis-py's default backoff), so the outage tests see the failure at once. The read timeout is
        generous: a live server never needs it, and the machine may be busy."""
        return aioredis.Redis(
            host=HOST,
            port=self.port,
            socket_timeout=10,
            socket_connect_timeout=2,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 2),
            decode_responses=decode_responses,
        )

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with _sync_client(self.port) as client:
            while True:
                try:
                    if client.ping():
                        break
                except redis.ConnectionError:  # refused, or BusyLoadingError while it reads its AOF
                    if process.poll() is not None:
                        self._process = None
                        raise RuntimeError(
                            f"redis-server on port {self.port} exited with code {process.returncode}"
                        ) from None
                    if time.monotonic() > deadline:
                        # A fixture whose setup fails is not torn down: do not leave the process behind.
                        self.kill()
                        raise
                time.sleep(0.02)
            # Free ports race with other test runs on this machine: make sure the server that answers is ours.
            if client.info("server")["process_id"] != process.pid:
                self.kill()
                raise RuntimeError(f"port {self.port} was taken by another redis-server meanwhile")

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait(timeout=20)
            self._process = None


def _sync_client(port: int) -> redis.Redis:
    # No retries: redis-py's default (several, with backoff) would spend seconds on a server that is gone.
    return redis.Redis(host=HOST, port=port, socket_connect_timeout=0.5, retry=SyncRetry(NoBackoff(), 0))
