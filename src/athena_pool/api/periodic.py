"""`Periodic`: runs an async step every `interval_s` until closed.

Closing sets an event the loop waits on, so a step in progress finishes (bounded by `close_timeout_s`,
then it is cancelled). Stopping by cancellation alone is not enough: a Redis call cancelled mid-way may
surface as a connection error that a step's error handling swallows, and the loop would go on forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from athena_pool.aio import cancel_until_done

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        name: str,
        interval_s: float,
        step: Callable[[], Awaitable[object]],
        *,
        delay_first: bool = False,
        close_timeout_s: float = 5.0,
    ) -> None:
        self._name = name
        self._interval = interval_s
        self._step = step
        self._delay_first = delay_first
        self._close_timeout = close_timeout_s
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def close(self) -> None:
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._close_timeout)
        except TimeoutError:
            await cancel_until_done(self._task)

    async def _run(self) -> None:
        if self._delay_first and await self._stopped_within(self._interval):
            return
        while not self._stop.is_set():
            try:
                await self._step()
            except Exception:  # a step reports its own trouble; this only keeps the loop alive
                log.exception("%s: step failed", self._name)
            if await self._stopped_within(self._interval):
                return

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        return self._stop.is_set()
