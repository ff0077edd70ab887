"""`StatsCache`: the current `PoolSnapshot`, rebuilt every `update_interval_s`; long polls wait for the next.

Every rebuild replaces the snapshot whole and wakes the waiters; a failed rebuild (Redis away) keeps the
last good snapshot, which `age_s` then shows growing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from athena_pool.api.errors import unavailable
from athena_pool.api.periodic import Periodic
from athena_pool.api.snapshot import PoolSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")


class StatsCache:
    def __init__(
        self,
        build: Callable[[], Awaitable[PoolSnapshot]],
        interval_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._build = build
        self._interval = interval_s
        self._clock = clock
        self._snapshot: PoolSnapshot | None = None
        self._next = asyncio.Event()
        self._loop = Periodic("stats-cache", interval_s, self.refresh, delay_first=True)
        self._failing = False
        self._derived: dict[str, Any] = {}
        self.generation = 0

    @property
    def snapshot(self) -> PoolSnapshot | None:
        return self._snapshot

    def current(self) -> PoolSnapshot:
        if self._snapshot is None:
            raise unavailable("pool statistics are not available yet (is Redis reachable?)")
        return self._snapshot

    def age_s(self) -> float | None:
        if self._snapshot is None:
            return None
        return max(0.0, self._clock() - self._snapshot.taken_ms / 1000)

    def memo(self, name: str, build: Callable[[], T]) -> T:
        """`build()` computed once per snapshot (payloads every visitor gets the same)."""
        if name not in self._derived:
            self._derived[name] = build()
        return cast(T, self._derived[name])

    async def refresh(self) -> bool:
        try:
            snapshot = await self._build()
        except Exception as exc:  # keep serving the last snapshot; say so once per outage
            if not self._failing:
                log.warning(
                    "cannot update pool statistics: %s: %s",
                    type(exc).__name__,
                    exc,
                    exc_info=not isinstance(exc, OSError | ConnectionError),
                )
            self._failing = True
            return False
        if self._failing:
            log.info("pool statistics updated again")
        self._failing = False
        self._snapshot = snapshot
        self._derived = {}
        self.generation += 1
        woken, self._next = self._next, asyncio.Event()
        woken.set()
        return True

    async def wait_next(self, timeout_s: float) -> None:
        """Returns at the next update, or after `timeout_s` at the latest."""
        event = self._next
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await event.wait()

    async def start(self) -> None:
        await self.refresh()
        self._loop.start()

    async def close(self) -> None:
        await self._loop.close()
