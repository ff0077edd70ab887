"""How many shares of one client IP are judged (hashed) at once; the rest of that IP waits its turn, in order.

The hashing threads are shared by everyone. Without this, one IP flooding shares from many connections would
fill the thread pool's queue and every honest miner's share would wait behind the flood; with it, a flood
occupies at most `per_key` threads and the others stay free for everybody else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Slots:
    in_use: int = 0
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)


class JudgeSlots:
    def __init__(self, per_key: int) -> None:
        if per_key < 1:
            raise ValueError("at least one judging slot per key is needed")
        self.per_key = per_key
        self._keys: dict[str, _Slots] = {}

    @contextlib.asynccontextmanager
    async def held(self, key: str) -> AsyncIterator[None]:
        await self._acquire(key)
        try:
            yield
        finally:
            self._release(key)

    async def _acquire(self, key: str) -> None:
        slots = self._keys.get(key)
        if slots is None:
            slots = self._keys[key] = _Slots()
        if slots.in_use < self.per_key and not slots.waiting:
            slots.in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        slots.waiting.append(waiter)
        try:
            await waiter  # the releasing holder hands its slot over (in_use stays counted)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(key)  # handed over just as we were cancelled: pass it on
            elif waiter in slots.waiting:
                slots.waiting.remove(waiter)
            raise

    def _release(self, key: str) -> None:
        slots = self._keys[key]
        while slots.waiting:
            waiter = slots.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        slots.in_use -= 1
        if slots.in_use == 0:
            del self._keys[key]

    def in_use(self, key: str) -> int:
        slots = self._keys.get(key)
        return 0 if slots is None else slots.in_use
