"""The spill file: the on-disk tail of the share recorder's queue.

An append-only file of JSON lines (`ops.encode_op`), each append flushed and fsync'd before it counts.
Ops are consumed from the front; once all are consumed the file is emptied. Nothing marks an op as
applied on disk: after a crash the next recorder replays the whole file, and Redis skips what it already
has (batch ids, block keys). A file locked by a lock file next to it belongs to one recorder at a time.

Blocking I/O: call the methods from a worker thread (`asyncio.to_thread`), one call at a time.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from athena_pool.storage.ops import Op, decode_op, encode_op, share_count

_READ_CHUNK_OPS = 64


class SpillFileLockedError(RuntimeError):
    """Another recorder holds this spill file."""


class SpillFile:
    def __init__(self, path: Path, logger: logging.Logger) -> None:
        self.path = path
        self._log = logger
        self._lock: BinaryIO | None = None
        self._append_fd: int | None = None  # unbuffered, O_APPEND: a failed write leaves nothing behind
        self._reader: BinaryIO | None = None
        self._consumed_to = 0  # byte offset after the last consumed op
        self._read_to = 0  # byte offset after the last op read into the buffer
        self._buffer: deque[tuple[Op, int]] = deque()  # read, not consumed: (op, byte offset after it)
        self.pending_ops = 0
        self.pending_shares = 0

    def open(self) -> None:
        self._lock = self._acquire_lock()
        self.path.touch()
        self._drop_partial_last_line()
        self._open_handles()
        self._count_pending()

    def close(self) -> None:
        self._close_handles()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def append(self, ops: Sequence[Op]) -> None:
        fd = self._fd()
        size_before = os.fstat(fd).st_size
        try:
            _write_all(fd, b"".join(encode_op(op) for op in ops))
            os.fsync(fd)
        except OSError:
            # A half-written line would swallow the next append when read back: cut it off.
            os.ftruncate(fd, size_before)
            raise
        self.pending_ops += len(ops)
        self.pending_shares += sum(share_count(op) for op in ops)

    def head(self) -> Op | None:
        """The oldest op not yet consumed, or None when the file holds none."""
        if not self._buffer:
            self._read_more()
        return self._buffer[0][0] if self._buffer else None

    def consume_head(self) -> None:
        op, end = self._buffer.popleft()
        self._consumed_to = end
        self.pending_ops -= 1
        self.pending_shares -= share_count(op)
        if not self._buffer and self._consumed_to >= os.fstat(self._fd()).st_size:
            self._empty()

    def rewrite_with_head(self, head: Sequence[Op]) -> None:
        """Puts `head` (ops older than everything in the file) in front of the unconsumed ops, atomically."""
        if not head:
            return
        reader = self._require(self._reader)
        reader.seek(self._consumed_to)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("wb") as out:
            out.write(b"".join(encode_op(op) for op in head))
            shutil.copyfileobj(reader, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        _fsync_directory(self.path.parent)
        self._reopen()
        self.pending_ops += len(head)
        self.pending_shares += sum(share_count(op) for op in head)

    def _read_more(self) -> None:
        reader = self._require(self._reader)
        reader.seek(self._read_to)
        while len(self._buffer) < _READ_CHUNK_OPS:
            line = reader.readline()
            if not line.endswith(b"\n"):
                break  # end of file (appends are whole lines)
            self._read_to += len(line)
            op = self._decode(line)
            if op is not None:
                self._buffer.append((op, self._read_to))
            elif not self._buffer:
                self._consumed_to = self._read_to  # a skipped line right at the front counts as consumed

    def _decode(self, line: bytes) -> Op | None:
        try:
            return decode_op(line)
        except (ValueError, KeyError, TypeError) as exc:
            # Only a bug or a hand-edited file gets here; the line is skipped rather than blocking the rest.
            self._log.error("skipping an unreadable line of %s: %s: %r", self.path, exc, line[:200])
            return None

    def _count_pending(self) -> None:
        reader = self._require(self._reader)
        reader.seek(0)
        for line in reader:
            op = self._decode(line)
            if op is not None:
                self.pending_ops += 1
                self.pending_shares += share_count(op)
        if self.pending_ops == 0:
            self._empty()

    def _empty(self) -> None:
        fd = self._fd()
        os.ftruncate(fd, 0)
        os.fsync(fd)
        self._consumed_to = self._read_to = 0
        self._buffer.clear()

    def _reopen(self) -> None:
        self._close_handles()
        self._open_handles()
        self._consumed_to = self._read_to = 0
        self._buffer.clear()

    def _open_handles(self) -> None:
        self._append_fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._reader = self.path.open("rb")

    def _close_handles(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._append_fd is not None:
            os.close(self._append_fd)
            self._append_fd = None

    def _fd(self) -> int:
        if self._append_fd is None:
            raise RuntimeError("spill file is not open")
        return self._append_fd

    def _drop_partial_last_line(self) -> None:
        """A crash in the middle of an append leaves a line without its newline: that op was never
        reported spilled, so it is cut off."""
        with self.path.open("r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            keep = _end_of_last_line(handle, size)
            if keep < size:
                self._log.warning("cutting a partial line (%d bytes) off %s", size - keep, self.path)
                handle.truncate(keep)
                os.fsync(handle.fileno())

    def _acquire_lock(self) -> BinaryIO:
        lock = self.path.with_name(self.path.name + ".lock").open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise SpillFileLockedError(f"{self.path} is in use by another share recorder") from None
        return lock

    @staticmethod
    def _require(handle: BinaryIO | None) -> BinaryIO:
        if handle is None:
            raise RuntimeError("spill file is not open")
        return handle


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _end_of_last_line(handle: BinaryIO, size: int) -> int:
    """Offset just after the last newline of the file (0 if it has none)."""
    position = size
    while position > 0:
        start = max(0, position - 4096)
        handle.seek(start)
        chunk = handle.read(position - start)
        if position == size and chunk.endswith(b"\n"):
            return size
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0
