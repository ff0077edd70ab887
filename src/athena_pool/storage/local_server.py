"""A private redis-server for the embedded default: appendonly, in the pool's data folder.

The recipe runs Redis with appendonly so that acknowledged shares and balances survive a restart; the
embedded default does the same instead of borrowing whatever Redis happens to run on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from athena_pool.aio import signal_child

log = logging.getLogger("athena_pool.storage")

STARTUP_TIMEOUT_S = 15.0


class LocalRedisError(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def local_redis(data_dir: Path, port: int, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run redis-server on host:port with its data in `data_dir`; yields the URL; stops it on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise LocalRedisError("redis-server is not installed (Debian: apt-get install redis-server)")
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"redis://{host}:{port}/0"
    if await _answers(url):
        raise LocalRedisError(
            f"something already listens on {host}:{port}; set redis.url or redis.local_port"
        )
    process = await asyncio.create_subprocess_exec(
        binary,
        "--port", str(port),
        "--bind", host,
        "--dir", str(data_dir.resolve()),
        "--appendonly", "yes",
        # Balances and acknowledged shares live here: fsync every write. The recorder batches shares,
        # so that is a few fsyncs a second, not one per share.
        "--appendfsync", "always",
        "--save", "",
        "--logfile", "redis.log",
        "--daemonize", "no",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await _wait_until_ready(url, process)
        log.info("local Redis (appendonly) on %s, data in %s", url, data_dir)
        yield url
    finally:
        await _stop(url, process)


async def _answers(url: str) -> bool:
    client = aioredis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def _wait_until_ready(url: str, process: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT_S
    while loop.time() < deadline:
        if process.returncode is not None:
            stderr = (await process.stderr.read()).decode(errors="replace") if process.stderr else ""
            raise LocalRedisError(f"redis-server exited with code {process.returncode}: {stderr.strip()}")
        if await _answers(url):
            return
        await asyncio.sleep(0.1)
    signal_child(process, signal.SIGKILL)
    raise LocalRedisError(f"redis-server did not answer on {url} within {STARTUP_TIMEOUT_S:.0f} s")


async def _stop(url: str, process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        client = aioredis.from_url(url, socket_connect_timeout=1)
        with contextlib.suppress(RedisError, OSError):
            await client.shutdown()
        await client.aclose()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            signal_child(process, signal.SIGKILL)
            await process.wait()
