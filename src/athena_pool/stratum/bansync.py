"""Keeps this process's bans in step with the shared ones in Redis (storage `BanStore`).

Bans made here go to the store from a bounded queue (retried while Redis is away: they hold locally in the
meantime); every `interval` the store's change log is read, so bans made by the other stratum processes, or
lifted through the API, take effect here too. A reader that fell behind the log's trimmed part, or that just
started, loads the full list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from redis.exceptions import RedisError

from athena_pool.aio import wait_event
from athena_pool.storage.bans_store import BanChanges, BanRecord, BanSnapshot
from athena_pool.stratum.guard import Guard

log = logging.getLogger(__name__)

MAX_UNPUBLISHED = 10_000
CHANGES_PER_READ = 1000


class BanBook(Protocol):
    """What the sync needs of the shared ban store (`storage.bans_store.BanStore` fits)."""

    async def add_ban(self, ban: BanRecord, now_ms: int) -> bool: ...

    async def snapshot(self, now_ms: int) -> BanSnapshot: ...

    async def changes(self, cursor: str, count: int = CHANGES_PER_READ) -> BanChanges: ...


class BanSync:
    def __init__(self, book: BanBook, guard: Guard, *, clock: Callable[[], float], interval: float) -> None:
        self._book = book
        self._guard = guard
        self._clock = clock
        self._interval = interval
        self._unpublished: deque[BanRecord] = deque()
        self._cursor: str | None = None  # None: load the full list next time
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one round trip at a time (the loop's and an explicit one)
        self._failing = False

    def publish(self, ban: BanRecord) -> None:
        """Queue a ban made here for the store (the next sync writes it)."""
        if len(self._unpublished) >= MAX_UNPUBLISHED:
            dropped = self._unpublished.popleft()
            log.warning("ban queue full while Redis is away: %s %s stays local", dropped.scope, dropped.ip)
        self._unpublished.append(ban)
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except Exception:  # a bug in one round must not end the sync for good
                log.exception("ban sync failed")
            await wait_event(self._wake, self._interval)
            self._wake.clear()

    async def sync_once(self) -> bool:
        """One round trip; False (logged once per outage) when the store could not be reached."""
        try:
            async with self._lock:
                await self._sync()
        except (RedisError, OSError) as exc:
            if not self._failing:
                log.warning("shared bans unreachable (local bans still apply): %s", exc)
            self._failing = True
            return False
        if self._failing:
            log.info("shared bans reachable again")
        self._failing = False
        return True

    async def flush(self) -> None:
        """Write the bans still queued (at shutdown); failures are logged, not raised."""
        with contextlib.suppress(RedisError, OSError):
            async with self._lock:
                await self._publish()

    async def _sync(self) -> None:
        now_ms = self._now_ms()
        if self._cursor is None:
            snapshot = await self._book.snapshot(now_ms)
            self._guard.replace_shared(snapshot.records)
            for ban in self._unpublished:
                self._guard.bans.apply(ban)
            self._cursor = snapshot.cursor
        await self._publish()
        changes = await self._book.changes(self._cursor, CHANGES_PER_READ)
        if changes.reload:
            self._cursor = None
            return
        for change in changes.changes:
            if change.record is None:
                self._guard.lift(change.ban_id)
            else:
                self._guard.apply(change.record, local=False)
        self._cursor = changes.cursor

    async def _publish(self) -> None:
        while self._unpublished:
            await self._book.add_ban(self._unpublished[0], self._now_ms())
            self._unpublished.popleft()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
