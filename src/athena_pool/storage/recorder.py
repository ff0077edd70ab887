"""`ShareRecorder`: batches the shares the stratum server acknowledges and writes them to Redis, losing none
while Redis is away (refused connections, restarts, loading, timeouts).

The queue, oldest first, is: the in-memory part, then the spill file, then the inbox of newly sealed work.
Order matters (a block candidate freezes the round that the shares before it were credited to), so an op
goes to memory only while the spill file is empty and memory is under its bound; otherwise it is appended
to the spill file. The writer always applies the oldest op and keeps it until Redis has taken it, retrying
with exponential backoff. Every op is idempotent in Redis (batch ids, block keys), so retrying an op whose
reply was lost, or replaying a spill file after a crash, counts nothing twice.

A block candidate, and the batch holding the shares before it, always go through the spill file: the call
returns once they are fsync'd, so a found block survives a crash of the process as well as of Redis. A
crash of the process loses only the ordinary shares still in memory (normally one batch); `close()`
writes those to the spill file too, and the next recorder on the same file replays them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from redis.exceptions import RedisError

from athena_pool.aio import cancel_until_done
from athena_pool.storage.ops import CandidateOp, Op, ShareBatch, share_count
from athena_pool.storage.records import BlockCandidate, ShareRecord
from athena_pool.storage.spill import SpillFile

LOGGER_NAME = "athena_pool.storage"


class ShareSink(Protocol):
    """What the recorder writes to; `Store` is the real one."""

    async def record_shares(self, batch_id: str, shares: Sequence[ShareRecord]) -> bool: ...

    async def add_block_candidate(self, candidate: BlockCandidate) -> bool: ...


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    batch_max_shares: int = 200
    batch_interval_s: float = 0.5
    # Shares held in memory while Redis is away; past this, new work is spilled to the file.
    memory_limit_shares: int = 100_000
    retry_initial_s: float = 0.1
    retry_max_s: float = 5.0
    # One write attempt, including redis-py's own retries; then it counts as failed and is retried.
    write_timeout_s: float = 15.0


@dataclass(frozen=True, slots=True)
class RecorderStats:
    pending_shares: int  # acknowledged and not yet in Redis (open batch, memory, inbox, spill file)
    spilled_ops: int  # batches and candidates waiting in the spill file
    failures: int  # failed write attempts since start
    redis_available: bool  # False from a failed write until the next successful one
    ops_written: int


@dataclass(slots=True)
class _Entry:
    op: Op
    durable: bool  # must be fsync'd to the spill file before its caller is released
    on_safe: asyncio.Future[None] | None = None

    def mark_safe(self) -> None:
        if self.on_safe is not None and not self.on_safe.done():
            self.on_safe.set_result(None)


class ShareRecorder:
    def __init__(
        self,
        sink: ShareSink,
        spill_path: Path,
        settings: RecorderSettings | None = None,
        *,
        logger: logging.Logger | None = None,
    ) -> None:
        self._sink = sink
        self._settings = settings or RecorderSettings()
        self._log = logger or logging.getLogger(LOGGER_NAME)
        self._spill = SpillFile(spill_path, self._log)
        self._open_batch: list[ShareRecord] = []
        self._inbox: deque[_Entry] = deque()
        self._memory: deque[_Entry] = deque()
        self._memory_shares = 0
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._closing = False
        self._stopping = False
        self._failures = 0
        self._ops_written = 0
        self._outage_failures = 0
        self._outage_started: float | None = None
        self._capacity_spill_logged = False
        self._disk_error_logged = False

    # Lifecycle

    async def start(self) -> None:
        """Opens (and locks) the spill file; ops left in it by an earlier run are written first."""
        await asyncio.to_thread(self._spill.open)
        if self._spill.pending_ops:
            self._log.info(
                "replaying %d batches/candidates (%d shares) from %s",
                self._spill.pending_ops,
                self._spill.pending_shares,
                self._spill.path,
            )
        self._writer = asyncio.create_task(self._run_writer(), name="share-recorder-writer")
        self._ticker = asyncio.create_task(self._run_ticker(), name="share-recorder-ticker")

    def background_tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The writer and ticker tasks the owner watches: if one dies, shares stop reaching Redis."""
        return tuple(task for task in (self._writer, self._ticker) if task is not None)

    async def close(self, timeout_s: float = 5.0) -> bool:
        """Writes what it can within `timeout_s`, then saves the rest to the spill file for the next run.

        A write attempt already under way is waited for (up to `write_timeout_s` more). True if everything
        reached Redis.
        """
        if self._writer is None or self._ticker is None:
            raise RuntimeError("share recorder was not started")
        self._closing = True
        drained = await self.flush(timeout_s)
        self._stopping = True
        self._wakeup.set()
        await cancel_until_done(self._ticker)
        # The writer stops after its current attempt (at most write_timeout_s); cancelling it instead could
        # interrupt a spill-file write running in its thread.
        await asyncio.gather(self._writer, return_exceptions=True)
        await asyncio.to_thread(self._save_leftovers)
        for entry in (*self._memory, *self._inbox):
            entry.mark_safe()
        self._memory.clear()
        self._inbox.clear()
        self._memory_shares = 0
        await asyncio.to_thread(self._spill.close)
        return drained

    async def __aenter__(self) -> ShareRecorder:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # What the pool calls

    def submit(self, share: ShareRecord) -> None:
        """Queues one share (accepted or rejected). Never blocks; the share is batched within
        `batch_interval_s` or `batch_max_shares`."""
        if self._closing:
            raise RuntimeError("share recorder is closed")
        self._open_batch.append(share)
        if len(self._open_batch) >= self._settings.batch_max_shares:
            self._seal_batch()

    async def add_block_candidate(self, candidate: BlockCandidate) -> None:
        """Queues a block candidate behind every share submitted before it (the finder's share included)
        and returns once it is on disk or in Redis."""
        if self._closing:
            raise RuntimeError("share recorder is closed")
        self._seal_batch(durable=True)
        safe = asyncio.get_running_loop().create_future()
        self._push(_Entry(CandidateOp(candidate), durable=True, on_safe=safe))
        # Shielded: a cancelled caller must not cancel the future the writer will resolve.
        await asyncio.shield(safe)

    async def flush(self, timeout_s: float | None = None) -> bool:
        """Seals the open batch and waits until everything is in Redis. False if `timeout_s` ran out."""
        self._seal_batch()
        try:
            async with asyncio.timeout(timeout_s):
                await self._drained.wait()
        except TimeoutError:
            return False
        return True

    @property
    def stats(self) -> RecorderStats:
        return RecorderStats(
            pending_shares=len(self._open_batch)
            + sum(share_count(e.op) for e in self._inbox)
            + self._memory_shares
            + self._spill.pending_shares,
            spilled_ops=self._spill.pending_ops,
            failures=self._failures,
            redis_available=self._outage_started is None,
            ops_written=self._ops_written,
        )

    # Queueing

    def _seal_batch(self, durable: bool = False) -> None:
        if self._open_batch:
            batch = ShareBatch(batch_id=uuid.uuid4().hex, shares=tuple(self._open_batch))
            self._open_batch = []
            self._push(_Entry(batch, durable))

    def _push(self, entry: _Entry) -> None:
        self._inbox.append(entry)
        self._drained.clear()
        self._wakeup.set()

    async def _absorb_inbox(self) -> None:
        """Moves sealed work from the inbox to memory, or to the spill file when order or bounds say so."""
        to_spill: list[_Entry] = []
        while self._inbox:
            entry = self._inbox.popleft()
            size = share_count(entry.op)
            over_bound = self._memory_shares + size > self._settings.memory_limit_shares
            if to_spill or self._spill.pending_ops or entry.durable or over_bound:
                to_spill.append(entry)
            else:
                self._memory.append(entry)
                self._memory_shares += size
        if to_spill:
            await self._spill_entries(to_spill)

    async def _spill_entries(self, entries: list[_Entry]) -> None:
        if not any(e.durable for e in entries) and not self._capacity_spill_logged:
            self._capacity_spill_logged = True
            self._log.warning(
                "more than %d shares waiting for Redis; spilling to %s",
                self._settings.memory_limit_shares,
                self._spill.path,
            )
        try:
            await asyncio.to_thread(self._spill.append, [e.op for e in entries])
        except OSError as exc:
            self._keep_unspilled(entries, exc)
            return
        self._disk_error_logged = False
        for entry in entries:
            entry.mark_safe()

    def _keep_unspilled(self, entries: list[_Entry], exc: OSError) -> None:
        """The disk failed: keep the entries in memory, past the bound, rather than drop them. If the file
        still holds older work they wait in the inbox, to stay behind it."""
        if not self._disk_error_logged:
            self._disk_error_logged = True
            self._log.error("cannot write %s (%s); holding shares in memory", self._spill.path, exc)
        if self._spill.pending_ops:
            self._inbox.extendleft(reversed(entries))
            return
        self._memory.extend(entries)
        self._memory_shares += sum(share_count(e.op) for e in entries)

    # Writing

    async def _run_ticker(self) -> None:
        while True:
            await asyncio.sleep(self._settings.batch_interval_s)
            self._seal_batch()

    async def _run_writer(self) -> None:
        while not self._stopping:
            try:
                await self._write_step()
            except Exception:  # the writer must outlive any error (spill file I/O): the data stays queued
                self._log.exception("share recorder error; retrying in %.1f s", self._settings.retry_max_s)
                await self._back_off(self._settings.retry_max_s)

    async def _write_step(self) -> None:
        await self._absorb_inbox()
        op = await self._oldest_op()
        if op is None:
            if not self._inbox:
                self._drained.set()
                self._capacity_spill_logged = False
            await self._wait_for_wakeup()
        elif await self._write(op):
            await self._consume_oldest()
        else:
            await self._back_off()

    async def _oldest_op(self) -> Op | None:
        if self._memory:
            return self._memory[0].op
        if self._spill.pending_ops:
            return await asyncio.to_thread(self._spill.head)
        return None

    async def _consume_oldest(self) -> None:
        # Nothing but this task changes memory or the spill file, so the oldest op is still where it was.
        if self._memory:
            entry = self._memory.popleft()
            self._memory_shares -= share_count(entry.op)
            entry.mark_safe()
        else:
            await asyncio.to_thread(self._spill.consume_head)
        self._ops_written += 1

    async def _write(self, op: Op) -> bool:
        try:
            async with asyncio.timeout(self._settings.write_timeout_s):
                if isinstance(op, ShareBatch):
                    await self._sink.record_shares(op.batch_id, op.shares)
                else:
                    await self._sink.add_block_candidate(op.candidate)
        except Exception as exc:  # whatever went wrong, the op stays first in line and is retried
            self._note_failure(exc)
            return False
        self._note_success()
        return True

    async def _back_off(self, delay: float | None = None) -> None:
        """Sleeps before the next attempt, still moving new work out of the inbox meanwhile."""
        if delay is None:
            exponent = min(max(self._outage_failures - 1, 0), 30)
            delay = min(self._settings.retry_max_s, self._settings.retry_initial_s * 2**exponent)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while not self._stopping and (remaining := deadline - loop.time()) > 0:
            await self._wait_for_wakeup(remaining)
            await self._absorb_inbox()

    async def _wait_for_wakeup(self, timeout_s: float | None = None) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await self._wakeup.wait()
        except TimeoutError:
            pass
        self._wakeup.clear()

    # Outage bookkeeping: one log line when writes start failing, one when they work again.

    def _note_failure(self, exc: BaseException) -> None:
        self._failures += 1
        self._outage_failures += 1
        if self._outage_started is None:
            self._outage_started = asyncio.get_running_loop().time()
            self._log.warning(
                "Redis unavailable (%s: %s); keeping %d shares and retrying",
                type(exc).__name__,
                exc,
                self.stats.pending_shares,
                # A failure that is not a Redis or network error is a bug: show where it comes from.
                exc_info=not isinstance(exc, RedisError | OSError | TimeoutError),
            )

    def _note_success(self) -> None:
        if self._outage_started is not None:
            downtime = asyncio.get_running_loop().time() - self._outage_started
            self._log.info(
                "Redis available again after %.1f s and %d failed writes; %d shares still to write",
                downtime,
                self._outage_failures,
                self.stats.pending_shares,
            )
        self._outage_started = None
        self._outage_failures = 0

    def _save_leftovers(self) -> None:
        """Runs after the writer stopped: memory is older than the file, the inbox newer."""
        self._spill.rewrite_with_head([e.op for e in self._memory])
        if self._inbox:
            self._spill.append([e.op for e in self._inbox])
