"""New chain tips relayed between pool processes through Redis pub/sub.

Every stratum process (each cluster worker, each host) polls the daemon on its own, so without this a new
block reaches one process's miners up to a poll interval before another's, and a block this process found
reaches the others only at their next poll. With it, the first process to install a template on a new tip
announces it and the others fetch a template at once: every miner of the pool moves to the new block within
one Redis round trip and one daemon call of the first.

The relay is an accelerator, never a dependency: polling goes on regardless, so a Redis that is away, slow or
dropping messages only brings back the poll interval (the relay reconnects in the background).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from athena_pool.aio import cancel_until_done
from athena_pool.jobs.template import Template

log = logging.getLogger(__name__)

RECONNECT_DELAY_S = 2.0
MAX_MESSAGE_BYTES = 256  # instance (hex) + height + 64-hex hash: anything longer is not ours


class TipSource(Protocol):
    """What the relay needs of the job manager (`JobManager` fits)."""

    def current_template(self) -> Template: ...

    def add_template_listener(self, listener: Callable[[], None]) -> None: ...

    async def refresh(self, *, force: bool = False) -> bool: ...


class TipRelay:
    def __init__(self, redis: Redis, channel: str, jobs: TipSource, instance: str) -> None:
        self._redis = redis
        self._channel = channel
        self._jobs = jobs
        self._instance = instance
        self._announced: tuple[int, str] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listener: asyncio.Task[None] | None = None
        self.relayed = 0  # refreshes made because another process announced a tip first

    async def start(self) -> None:
        with contextlib.suppress(Exception):  # no template yet: the first listener call announces it
            self._announced = _tip(self._jobs.current_template())
        self._jobs.add_template_listener(self._on_template)
        self._listener = asyncio.get_running_loop().create_task(self._listen_forever(), name="tip-relay")

    def background_tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The listener task the owner watches."""
        return (self._listener,) if self._listener is not None else ()

    async def close(self) -> None:
        await cancel_until_done(*self._tasks, self._listener)

    # --- announcing ----------------------------------------------------------------------------------------

    def _on_template(self) -> None:
        tip = _tip(self._jobs.current_template())
        if tip == self._announced:
            return  # a refresh of the same tip (new transactions): the others see it at their own poll
        self._announced = tip
        self._spawn(self._announce(tip))

    async def _announce(self, tip: tuple[int, str]) -> None:
        try:
            await self._redis.publish(self._channel, f"{self._instance} {tip[0]} {tip[1]}")
        except RedisError as exc:
            log.debug("could not announce tip %d: %s", tip[0], exc)

    # --- listening -----------------------------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except (RedisError, OSError) as exc:
                log.warning("tip relay: Redis subscription lost (%s); templates still come from polling", exc)
            await asyncio.sleep(RECONNECT_DELAY_S)

    async def _listen(self) -> None:
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self._channel)
            async for message in pubsub.listen():
                tip = self._parse(message.get("data"))
                if tip is not None and self._is_news(tip):
                    self._spawn(self._refresh(tip))

    def _parse(self, data: object) -> tuple[int, str] | None:
        if not isinstance(data, bytes) or len(data) > MAX_MESSAGE_BYTES:
            return None
        parts = data.decode("ascii", "replace").split()
        if len(parts) != 3 or parts[0] == self._instance or not parts[1].isdigit():
            return None
        return int(parts[1]), parts[2]

    def _is_news(self, tip: tuple[int, str]) -> bool:
        try:
            current = _tip(self._jobs.current_template())
        except Exception:  # no template yet: any tip is news
            return True
        return tip != current and tip[0] >= current[0]

    async def _refresh(self, tip: tuple[int, str]) -> None:
        try:
            if await self._jobs.refresh():
                self.relayed += 1
                log.debug("template for height %d fetched on another process's announcement", tip[0])
        except Exception:
            log.exception("refresh after a relayed tip failed")

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _tip(template: Template) -> tuple[int, str]:
    return template.height, template.prev_hash_hex
