"""The Lua scripts in `lua/`, registered once per Redis client.

redis-py runs a registered script with EVALSHA and, on NOSCRIPT (a restarted or flushed Redis), loads it
with SCRIPT LOAD and runs it again, so callers never send the script text on the hot path.
"""

from __future__ import annotations

from importlib import resources

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript


class Scripts:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.record_shares: AsyncScript = redis.register_script(load_lua("record_shares.lua"))
        self.add_block_candidate: AsyncScript = redis.register_script(load_lua("add_block_candidate.lua"))


def load_lua(name: str) -> str:
    return (resources.files(__package__) / "lua" / name).read_text(encoding="utf-8")
