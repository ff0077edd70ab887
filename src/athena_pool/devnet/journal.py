"""An append-only JSON-lines file that survives crashes: every record is flushed and fsynced before it counts.

A process killed in the middle of a write leaves at most one torn last line; reading skips it (it was never
acknowledged, because `append` had not returned). Any other unreadable line is corruption and stops the load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class JournalCorruptError(RuntimeError):
    pass


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_bytes().split(b"\n")
        records: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            is_last = number == len(lines) or all(not rest.strip() for rest in lines[number:])
            record = _parse_line(line)
            if record is None:
                if is_last:
                    break  # a torn final write: never acknowledged
                raise JournalCorruptError(f"{self.path}: line {number} is not a JSON object")
            records.append(record)
        return records

    def append(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not created:
            _drop_torn_tail(self.path)
        with self.path.open("ab") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _fsync_directory(self.path.parent)


def _parse_line(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _drop_torn_tail(path: Path) -> None:
    """Cut a final line without its newline: a write that never completed (and was never acknowledged)."""
    with path.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        handle.seek(0)
        handle.truncate(handle.read().rfind(b"\n") + 1)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the new file's directory entry durable too (a fresh file can vanish after a crash otherwise)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
