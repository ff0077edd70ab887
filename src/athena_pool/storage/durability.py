"""Is an operator's Redis durable? The recipe runs Redis with appendonly: without it, a Redis restart loses
every acknowledged share, round and balance written since the last snapshot.

The pool's own local redis-server always runs with appendonly; an external one (`redis.url`) is only checked
and warned about, never reconfigured. Managed Redis services often forbid or rename CONFIG: that is logged
as "could not be checked", not as a failure.
"""

from __future__ import annotations

import enum
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("athena_pool.storage")


class Appendonly(enum.Enum):
    ON = "on"
    OFF = "off"
    UNKNOWN = "unknown"  # CONFIG refused (NOPERM, renamed or disabled command) or Redis not reachable


async def check_appendonly(redis: aioredis.Redis) -> Appendonly:
    """Asks `CONFIG GET appendonly` and logs one warning when it is off."""
    where = server_name(redis)
    try:
        reply = await redis.config_get("appendonly")
    except (RedisError, OSError) as exc:
        log.info("could not check whether Redis at %s runs with appendonly: %s", where, exc)
        return Appendonly.UNKNOWN
    state = _parse(reply)
    if state is Appendonly.OFF:
        log.warning(
            "Redis at %s runs with appendonly off: a Redis restart loses acknowledged shares and balances "
            "written since its last snapshot; set `appendonly yes` (and `appendfsync everysec` or `always`)",
            where,
        )
    elif state is Appendonly.UNKNOWN:
        log.info("could not check whether Redis at %s runs with appendonly: CONFIG GET gave %r", where, reply)
    return state


def server_name(redis: aioredis.Redis) -> str:
    """host:port (or the socket path) of the client's server, for logs: never the URL's credentials."""
    options = redis.connection_pool.connection_kwargs
    if "path" in options:
        return str(options["path"])
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def _parse(reply: object) -> Appendonly:
    if not isinstance(reply, dict):
        return Appendonly.UNKNOWN
    for name, value in reply.items():
        if _text(name).lower() == "appendonly":
            return {"yes": Appendonly.ON, "no": Appendonly.OFF}.get(_text(value).lower(), Appendonly.UNKNOWN)
    return Appendonly.UNKNOWN


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
