"""Bans shared by every pool process: what stratum decided, what the API lists and lifts.

A ban keys on a scope: `ip` (abuse with no wallet yet: floods, junk, spoofed PROXY headers), `wallet` (one
wallet on one IP sent too many invalid shares: its neighbours behind the same NAT keep mining) or `worker`
(one rig of that wallet on that IP). Each has an id derived from what it keys on, so banning the same thing
again extends the ban instead of adding a second one.

Every change is also appended to a log (a Redis stream) that each stratum process follows, so a ban made by
one process reaches the others within their sync interval, and a ban lifted through the API is lifted
everywhere. See `keys.py`, section "bans".

For the API: `list_bans`, `get_ban`, `remove_ban` (and `add_ban` for a manual ban).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from athena_pool.storage.keys import KeySpace
from athena_pool.storage.scripts import load_lua

BAN_ID_HEX_CHARS = 32
DEFAULT_LOG_ENTRIES = 10_000
SWEEP_PER_ADD = 100
NO_CURSOR = "0-0"


class BanScope(enum.StrEnum):
    IP = "ip"
    WALLET = "wallet"  # this wallet address from this IP
    WORKER = "worker"  # this worker of this wallet from this IP


@dataclass(frozen=True, slots=True)
class BanRecord:
    scope: BanScope
    ip: str
    address: str = ""  # WALLET and WORKER scopes
    worker: str = ""  # WORKER scope
    reason: str = ""
    created_ms: int = 0
    until_ms: int = 0
    source: str = ""  # who banned: a stratum instance, "api", an operator's name

    def __post_init__(self) -> None:
        if not self.ip:
            raise ValueError("a ban needs an IP")
        if self.scope is not BanScope.IP and not self.address:
            raise ValueError(f"a {self.scope.value} ban needs an address")
        if self.scope is BanScope.WORKER and not self.worker:
            raise ValueError("a worker ban needs a worker name")

    @property
    def ban_id(self) -> str:
        return ban_id(self.scope, self.ip, self.address, self.worker)

    def active(self, now_ms: int) -> bool:
        return now_ms < self.until_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.ban_id,
            "scope": self.scope.value,
            "ip": self.ip,
            "address": self.address,
            "worker": self.worker,
            "reason": self.reason,
            "created_ms": self.created_ms,
            "until_ms": self.until_ms,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BanRecord:
        return cls(
            scope=BanScope(data["scope"]),
            ip=str(data["ip"]),
            address=str(data.get("address", "")),
            worker=str(data.get("worker", "")),
            reason=str(data.get("reason", "")),
            created_ms=int(data.get("created_ms", 0)),
            until_ms=int(data["until_ms"]),
            source=str(data.get("source", "")),
        )


def ban_id(scope: BanScope, ip: str, address: str = "", worker: str = "") -> str:
    """32 hex characters naming what a ban keys on; free text (address, worker) cannot make two equal."""
    keyed = json.dumps([scope.value, ip, address, worker], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(keyed.encode()).hexdigest()[:BAN_ID_HEX_CHARS]


@dataclass(frozen=True, slots=True)
class BanChange:
    ban_id: str
    record: BanRecord | None  # None: the ban was lifted


@dataclass(frozen=True, slots=True)
class BanSnapshot:
    records: tuple[BanRecord, ...]
    cursor: str  # follow the log from here with `changes`


@dataclass(frozen=True, slots=True)
class BanChanges:
    changes: tuple[BanChange, ...]
    cursor: str
    reload: bool  # the log no longer holds everything after the cursor: take a new snapshot


class BanStore:
    """The shared bans of one coin. Works with clients created with or without decode_responses."""

    def __init__(
        self, redis: aioredis.Redis, coin_prefix: str, *, log_entries: int = DEFAULT_LOG_ENTRIES
    ) -> None:
        self._redis = redis
        self.keys = KeySpace(coin_prefix)
        self._log_entries = log_entries
        self._add = redis.register_script(load_lua("ban_add.lua"))
        self._remove = redis.register_script(load_lua("ban_remove.lua"))
        self._snapshot = redis.register_script(load_lua("ban_snapshot.lua"))
        self._changes = redis.register_script(load_lua("ban_changes.lua"))

    @property
    def _keys3(self) -> list[str]:
        return [self.keys.ban_records, self.keys.ban_expiry, self.keys.ban_log]

    async def add_ban(self, ban: BanRecord, now_ms: int) -> bool:
        """Stores (or extends) a ban; False when one with the same id already lasts at least as long."""
        record = json.dumps(ban.to_json(), separators=(",", ":"))
        args: list[str | int] = [ban.ban_id, record, ban.until_ms, now_ms, self._log_entries, SWEEP_PER_ADD]
        return bool(await self._add(keys=self._keys3, args=args))

    async def remove_ban(self, ban_id: str) -> bool:
        """Lifts a ban in every process; False when there was no ban with that id."""
        return bool(await self._remove(keys=self._keys3, args=[ban_id, self._log_entries]))

    async def get_ban(self, ban_id: str, now_ms: int) -> BanRecord | None:
        """The ban with that id while it lasts, else None."""
        raw = await self._redis.hget(self.keys.ban_records, ban_id)
        if raw is None:
            return None
        ban = _decode_record(raw)
        return ban if ban is not None and ban.active(now_ms) else None

    async def list_bans(self, now_ms: int, limit: int = 1000, offset: int = 0) -> list[BanRecord]:
        """Live bans, the longest-lasting first."""
        ids = cast(
            "list[bytes | str]",
            await self._redis.zrevrangebyscore(
                self.keys.ban_expiry, "+inf", f"({now_ms}", start=offset, num=limit
            ),
        )
        if not ids:
            return []
        raws = await self._redis.hmget(self.keys.ban_records, ids)
        return [ban for ban in (_decode_record(raw) for raw in raws if raw is not None) if ban is not None]

    async def count_bans(self, now_ms: int) -> int:
        return int(await self._redis.zcount(self.keys.ban_expiry, f"({now_ms}", "+inf"))

    async def snapshot(self, now_ms: int) -> BanSnapshot:
        cursor, raws = await self._snapshot(keys=self._keys3, args=[now_ms])
        records = tuple(ban for ban in (_decode_record(raw) for raw in raws) if ban is not None)
        return BanSnapshot(records, _text(cursor))

    async def changes(self, cursor: str, count: int = 1000) -> BanChanges:
        reload, entries = await self._changes(keys=[self.keys.ban_log], args=[cursor, count])
        if int(reload):
            return BanChanges((), cursor, reload=True)
        changes = tuple(_decode_change(fields) for _, fields in entries)
        last = _text(entries[-1][0]) if entries else cursor
        return BanChanges(tuple(c for c in changes if c is not None), last, reload=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode_record(raw: bytes | str) -> BanRecord | None:
    try:
        return BanRecord.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        return None  # written by a newer version, or damaged by hand: ignored rather than fatal


def _decode_change(fields: Sequence[bytes | str]) -> BanChange | None:
    values = {_text(fields[i]): fields[i + 1] for i in range(0, len(fields) - 1, 2)}
    op, ban = _text(values.get("op", b"")), _text(values.get("id", b""))
    if not ban:
        return None
    if op == "del":
        return BanChange(ban, None)
    record = _decode_record(values.get("record", b""))
    return BanChange(ban, record) if record is not None else None
