"""The miner: one stratum session at a time, reconnecting with backoff, hashing in threads.

It follows xmrig's habits where a pool could tell the difference: login with id 1 and an `algo` list,
jobs from the login reply and from `job` pushes, an identical job twice means reconnect, shares for a
replaced job are dropped instead of sent, `client.reconnect` moves to the given host and port, and the
error messages xmrig treats as fatal close the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from athena_pool import __version__
from athena_pool.miner.connection import StratumConnection, StratumProtocolError
from athena_pool.miner.hashing import AlgorithmCache, FoundShare, HashWorkers
from athena_pool.miner.job import JobError, MiningJob, parse_job
from athena_pool.miner.stats import HashrateMeter, MinerStats
from athena_pool.pow import algorithm_names

LOGIN_ID = 1
T = TypeVar("T")
# xmrig closes the connection when a reply carries one of these (Client.cpp); a pool must not use them for
# ordinary rejects, and our miner behaves the same so tests catch a pool that does.
FATAL_ERROR_MESSAGES = (
    "Unauthenticated",
    "your IP is banned",
    "IP Address currently banned",
    "Invalid job id",
)
SUBMIT_QUEUE_SIZE = 64


class LoginRefusedError(Exception):
    pass


class _ReconnectRequestedError(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"pool asked to reconnect to {host}:{port}")
        self.host = host
        self.port = port


@dataclass(frozen=True)
class MinerOptions:
    host: str
    port: int
    user: str
    password: str = "x"
    rig_id: str | None = None
    threads: int = 1
    algo: str = "cn-lite/1"
    agent: str = f"athena-pool-miner/{__version__}"
    reconnect_delay: float = 1.0  # first wait after a failed session; doubles up to the maximum
    max_reconnect_delay: float = 30.0
    connect_timeout: float = 10.0
    login_timeout: float = 30.0
    # A pool that says nothing for this long is taken as gone. Generous: on a slow chain with settled
    # vardiff a pool may rightly send no job for many minutes.
    idle_timeout: float = 900.0
    keepalive_interval: float = 60.0  # only when the pool advertises the keepalive extension
    max_line_bytes: int = 64 * 1024
    max_pending_submits: int = 256
    report_interval: float = 10.0


class Miner:
    """Run with `await miner.run()` until `stop()`, or as `async with Miner(...) as miner:`."""

    def __init__(
        self,
        options: MinerOptions,
        *,
        reporter: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        algorithms: AlgorithmCache | None = None,
    ) -> None:
        self.options = options
        self.stats = MinerStats(pool=f"{options.host}:{options.port}")
        self._reporter = reporter
        self._clock = clock
        self._rng = rng or random.Random()
        self._algorithms = algorithms or AlgorithmCache()
        self._target = (options.host, options.port)
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        self._logged_in_since_last_wait = False
        self._meter = HashrateMeter()
        self._connection: StratumConnection | None = None
        self._job: MiningJob | None = None
        self._extensions: frozenset[str] = frozenset()
        self._pending: dict[int, FoundShare] = {}
        self._next_id = LOGIN_ID + 1
        self._shares: asyncio.Queue[FoundShare] = asyncio.Queue(SUBMIT_QUEUE_SIZE)
        self._workers: HashWorkers | None = None
        self._task: asyncio.Task[None] | None = None

    # -- public face -------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._workers = HashWorkers(
            self.options.threads,
            self._algorithms,
            on_share=lambda share: _call_soon(loop, self._share_found, share),
            on_error=lambda message: _call_soon(loop, self._record_error, message),
        )
        self._workers.start()
        reporter = asyncio.create_task(self._report_periodically())
        try:
            await self._connect_loop()
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
            self._workers.set_job(None)
            await asyncio.to_thread(self._workers.stop)
            self._algorithms.close()
            self.stats.hashes = self._workers.hashes

    def stop(self) -> None:
        self._stopping.set()
        if self._connection is not None:
            self._connection.abort()

    async def __aenter__(self) -> Miner:
        self._task = asyncio.create_task(self.run())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if self._task is not None:
            await self._task

    async def wait_for(self, predicate: Callable[[MinerStats], bool]) -> MinerStats:
        """Wait until `predicate(stats)` holds (callers bound the wait with asyncio.timeout)."""
        while not predicate(self.stats):
            await self._changed.wait()
        return self.stats

    def hashrate(self) -> float:
        return self._meter.rate()

    def report_line(self) -> str:
        s = self.stats
        return (
            f"{s.pool} {self.hashrate():.1f} H/s, hashes {s.hashes}, accepted {s.accepted}, "
            f"rejected {s.rejected}, jobs {s.jobs}, logins {s.logins}"
            + (f", last reject: {s.last_reject}" if s.last_reject else "")
        )

    # -- connection lifecycle ----------------------------------------------------------------------

    async def _connect_loop(self) -> None:
        delay = self.options.reconnect_delay
        while not self._stopping.is_set():
            try:
                await self._session(*self._target)
            except _ReconnectRequestedError as request:
                # Followed after the short initial delay, so a pool redirecting in a loop cannot spin us.
                self._target = (request.host, request.port)
                self.stats.pool = f"{request.host}:{request.port}"
                delay = self.options.reconnect_delay
                await self._wait_or_stop(delay)
                continue
            except (OSError, TimeoutError, StratumProtocolError, LoginRefusedError, JobError) as exc:
                self._record_error(f"{type(exc).__name__}: {exc}")
            if self._logged_in_since_last_wait:
                delay = self.options.reconnect_delay
            await self._wait_or_stop(delay)
            delay = min(delay * 2, self.options.max_reconnect_delay)

    async def _wait_or_stop(self, delay: float) -> None:
        self._logged_in_since_last_wait = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()

    async def _session(self, host: str, port: int) -> None:
        connection = await StratumConnection.open(
            host, port, max_line_bytes=self.options.max_line_bytes, timeout=self.options.connect_timeout
        )
        self._connection = connection
        if self._stopping.is_set():
            connection.abort()
        try:
            await self._login(connection)
            await _until_first_ends(
                self._read_loop(connection), self._submit_loop(connection), self._keepalive_loop(connection)
            )
        finally:
            self._connection = None
            self._end_session()
            await connection.close()

    def _end_session(self) -> None:
        self._set_job(None)
        self._pending.clear()
        self.stats.disconnects += 1
        self._notify()

    async def _login(self, connection: StratumConnection) -> None:
        params: dict[str, Any] = {
            "login": self.options.user,
            "pass": self.options.password,
            "agent": self.options.agent,
            "algo": self._offered_algorithms(),
        }
        if self.options.rig_id:
            params["rigid"] = self.options.rig_id
        await connection.send({"id": LOGIN_ID, "jsonrpc": "2.0", "method": "login", "params": params})
        async with asyncio.timeout(self.options.login_timeout):
            reply = await self._await_reply(connection, LOGIN_ID)
        if reply.get("error"):
            raise LoginRefusedError(_error_message(reply["error"]))
        result = reply.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("id"), str):
            raise StratumProtocolError("login reply has no session id")
        self.stats.session_id = result["id"]
        extensions = result.get("extensions")
        self._extensions = (
            frozenset(e for e in extensions if isinstance(e, str))
            if isinstance(extensions, list)
            else frozenset()
        )
        self._take_job(parse_job(result.get("job"), self.options.algo))
        self.stats.logins += 1
        self._logged_in_since_last_wait = True
        self._notify()

    def _offered_algorithms(self) -> list[str]:
        """Like xmrig: every algorithm this miner can hash, the configured one first."""
        return [self.options.algo, *(name for name in algorithm_names() if name != self.options.algo)]

    async def _await_reply(self, connection: StratumConnection, request_id: int) -> dict[str, Any]:
        while True:
            message = await connection.receive()
            if message is None:
                raise StratumProtocolError("pool closed the connection before replying to login")
            if message.get("id") == request_id and "method" not in message:
                return message
            await self._handle_message(message)

    # -- reading -----------------------------------------------------------------------------------

    async def _read_loop(self, connection: StratumConnection) -> None:
        while True:
            async with asyncio.timeout(self.options.idle_timeout):
                message = await connection.receive()
            if message is None:
                return
            await self._handle_message(message)

    async def _handle_message(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method == "job":
            self._take_job(parse_job(message.get("params"), self.options.algo))
        elif method == "client.reconnect":
            raise _reconnect_request(message.get("params"))
        elif method is None and isinstance(message.get("id"), int):
            self._handle_reply(message["id"], message)
        # Anything else (unknown notifications, replies to nothing) is ignored, as xmrig does.

    def _handle_reply(self, request_id: int, reply: dict[str, Any]) -> None:
        share = self._pending.pop(request_id, None)
        if share is None:
            return  # keepalive replies, or replies to submits from a closed session
        error = reply.get("error")
        if error:
            message = _error_message(error)
            self.stats.rejected += 1
            self.stats.last_reject = message
            self._notify()
            if any(fatal in message for fatal in FATAL_ERROR_MESSAGES):
                raise StratumProtocolError(f"pool said {message!r}")
            return
        self.stats.accepted += 1
        self._notify()

    def _take_job(self, job: MiningJob) -> None:
        if self._job is not None and job.same_work(self._job):
            raise StratumProtocolError(f"duplicate job {job.job_id} received")
        self.stats.jobs += 1
        self.stats.job_id = job.job_id
        self._set_job(job)
        self._notify()

    def _set_job(self, job: MiningJob | None) -> None:
        self._job = job
        if self._workers is not None:
            first = self._rng.randrange(job.nonce_space) if job is not None else 0
            self._workers.set_job(job, first)

    # -- submitting --------------------------------------------------------------------------------

    def _share_found(self, share: FoundShare) -> None:
        self.stats.shares_found += 1
        try:
            self._shares.put_nowait(share)
        except asyncio.QueueFull:
            self.stats.queue_dropped += 1
        self._notify()

    async def _submit_loop(self, connection: StratumConnection) -> None:
        while True:
            share = await self._shares.get()
            if share.job is not self._job:
                self.stats.stale_dropped += 1
                self._notify()
                continue
            if len(self._pending) >= self.options.max_pending_submits:
                raise StratumProtocolError("pool stopped answering submits")
            request_id = self._take_id()
            self._pending[request_id] = share
            await connection.send(self._submit_message(request_id, share))
            self.stats.submitted += 1
            self._notify()

    def _submit_message(self, request_id: int, share: FoundShare) -> dict[str, Any]:
        params: dict[str, Any] = {
            "id": self.stats.session_id,
            "job_id": share.job.job_id,
            "nonce": share.nonce.hex(),
            "result": share.pow_hash.hex(),
        }
        if "algo" in self._extensions:
            params["algo"] = share.job.algo
        return {"id": request_id, "jsonrpc": "2.0", "method": "submit", "params": params}

    async def _keepalive_loop(self, connection: StratumConnection) -> None:
        if "keepalive" not in self._extensions:
            await asyncio.Event().wait()  # never: the session ends with the reader
        while True:
            await asyncio.sleep(self.options.keepalive_interval)
            message = {
                "id": self._take_id(),
                "jsonrpc": "2.0",
                "method": "keepalived",
                "params": {"id": self.stats.session_id},
            }
            await connection.send(message)

    def _take_id(self) -> int:
        request_id = self._next_id
        self._next_id += 1
        return request_id

    # -- bookkeeping -------------------------------------------------------------------------------

    def _record_error(self, message: str) -> None:
        self.stats.last_error = message
        self._notify()

    def _notify(self) -> None:
        if self._workers is not None:
            self.stats.hashes = self._workers.hashes
        # Wake every current waiter and give later waiters a fresh event to sleep on.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _report_periodically(self) -> None:
        while True:
            if self._workers is not None:
                self.stats.hashes = self._workers.hashes
            self._meter.add(self._clock(), self.stats.hashes)
            self._notify()
            if self._reporter is not None and self.stats.logins:
                self._reporter(self.report_line())
            await asyncio.sleep(self.options.report_interval)


async def _until_first_ends(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run the coroutines together; when one returns or fails, cancel the others and re-raise its error."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[T], None], argument: T) -> None:
    """Hand a value from a hashing thread to the event loop (no-op once the loop is closed)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, argument)


def _error_message(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error)


def _reconnect_request(params: object) -> _ReconnectRequestedError:
    # xmrig accepts exactly two strings: host and port.
    if not (isinstance(params, list) and len(params) == 2 and all(isinstance(p, str) for p in params)):
        raise StratumProtocolError(f"client.reconnect with bad params {params!r}")
    host, port_text = params
    if not port_text.isdigit() or not 0 < int(port_text) < 65536 or not host or len(host) > 255:
        raise StratumProtocolError(f"client.reconnect to a bad address {host!r}:{port_text!r}")
    return _ReconnectRequestedError(host, int(port_text))
