"""Newline framing with bounds: bytes in, complete lines out, one at a time (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

# Consumed bytes are cut off the front once this many have piled up (not on every line: that would copy
# the rest of the buffer once per line).
_COMPACT_AFTER = 4096


@dataclass(frozen=True)
class OversizedLine:
    """Stands in, in order, for a complete line longer than the limit (the line itself is dropped)."""

    length: int


class LineBuffer:
    """Splits a byte stream on b"\\n", dropping a trailing b"\\r" and blank lines.

    `append` takes received bytes; `next_line` hands out one complete line at a time, so a connection that
    sent many lines at once has them handled at the pace the server chooses. A complete line longer than
    `max_line_bytes` comes out as `OversizedLine`. An unterminated tail longer than `max_buffer_bytes` turns
    `overflowing` true: the caller must drop the connection (nothing is buffered after that point).
    """

    __slots__ = ("_max_buffer", "_max_line", "_pending", "_start", "overflowing")

    def __init__(self, max_line_bytes: int, max_buffer_bytes: int) -> None:
        self._max_line = max_line_bytes
        self._max_buffer = max_buffer_bytes
        self._pending = bytearray()
        self._start = 0
        self.overflowing = False

    @property
    def pending_bytes(self) -> int:
        return len(self._pending) - self._start

    def append(self, data: bytes) -> None:
        if self.overflowing:
            return
        self._pending += data
        tail = len(self._pending) - max(self._pending.rfind(b"\n") + 1, self._start)
        if tail > self._max_buffer:
            self.overflowing = True
            self._pending.clear()
            self._start = 0

    def next_line(self) -> bytes | OversizedLine | None:
        """The next complete, non-blank line, or None until more bytes arrive."""
        while True:
            end = self._pending.find(b"\n", self._start)
            if end == -1:
                self._compact()
                return None
            line = self._line(self._start, end)
            self._start = end + 1
            if line is not None:
                if self._start >= _COMPACT_AFTER:
                    self._compact()
                return line

    def feed(self, data: bytes) -> list[bytes | OversizedLine]:
        """`append` then every complete line at once."""
        self.append(data)
        lines: list[bytes | OversizedLine] = []
        while (line := self.next_line()) is not None:
            lines.append(line)
        return lines

    def _compact(self) -> None:
        if self._start:
            del self._pending[: self._start]
            self._start = 0

    def _line(self, start: int, end: int) -> bytes | OversizedLine | None:
        if end > start and self._pending[end - 1] == 0x0D:  # b"\r"
            end -= 1
        if end - start > self._max_line:
            return OversizedLine(end - start)
        line = bytes(self._pending[start:end])
        return line if line.strip() else None
