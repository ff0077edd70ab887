"""Recent log lines for the admin: what every pool process published to Redis (`LiveStatsPublisher`) and
this API process's own `RingLogHandler`, newest first; and the reference pool's view of them, one log
"file" per instance (`/admin_monitoring` lists them, `/admin_log?file=` shows one)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from athena_pool.api.context import ApiContext

LOCAL_INSTANCE = "api"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


async def recent_lines(ctx: ApiContext) -> list[dict[str, Any]]:
    """Up to `log_lines` lines from Redis and as many from this process, newest first."""
    keep = ctx.settings.log_lines
    lines = await ctx.api_store.log_lines(keep)
    if ctx.log_ring is not None:
        lines += [{**line, "instance": LOCAL_INSTANCE} for line in ctx.log_ring.newest(keep)]
    lines.sort(key=lambda line: int(line.get("t", 0)), reverse=True)
    return lines


def file_name(line: Mapping[str, Any]) -> str:
    """`<instance>.log`, in characters safe in a URL and a file name."""
    instance = _UNSAFE.sub("_", str(line.get("instance") or "pool"))[:64]
    return f"{instance}.log"


def text_line(line: Mapping[str, Any]) -> str:
    """One line as a log file writes it: `2024-05-01 12:00:00.123 WARNING athena_pool.x: message`."""
    when = datetime.fromtimestamp(int(line.get("t", 0)) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{when} {line.get('level', 'INFO')} {line.get('logger', '')}: {line.get('message', '')}"


def log_files(lines: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """The reference's `logs` object: name -> {size (bytes of its text), changed (newest line, unix s)}."""
    files: dict[str, dict[str, int]] = {}
    for line in lines:
        entry = files.setdefault(file_name(line), {"size": 0, "changed": 0})
        entry["size"] += len(text_line(line).encode()) + 1
        entry["changed"] = max(entry["changed"], int(line.get("t", 0)) // 1000)
    return files


def file_lines(lines: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    """One file's lines, oldest first (as a file reads), from lines given newest first."""
    return [text_line(line) for line in reversed(lines) if file_name(line) == name]
