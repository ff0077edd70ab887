"""`RingLogHandler`: the newest log lines in a bounded buffer, for the admin page.

Attach it to the `athena_pool` logger. The `LiveStatsPublisher` copies new lines to Redis (`log-lines`,
capped), so the admin API can show them even when it runs in another process.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

MAX_MESSAGE_CHARS = 2_000


class RingLogHandler(logging.Handler):
    def __init__(
        self, capacity: int = 500, level: int = logging.INFO, *, mask: Callable[[str], str] | None = None
    ) -> None:
        """`mask` replaces secrets in each stored line (the composition root passes `SecretMasker.mask`)."""
        super().__init__(level)
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._mask = mask
        self._lines: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._seq = 0
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            if self._mask is not None:
                message = self._mask(message)
            line = {
                "t": int(record.created * 1000),
                "level": record.levelname,
                "logger": record.name,
                "message": message[:MAX_MESSAGE_CHARS],
            }
        except Exception:  # logging must never raise into the caller
            self.handleError(record)
            return
        with self._guard:
            self._seq += 1
            self._lines.append({"seq": self._seq, **line})

    def lines_after(self, seq: int) -> list[dict[str, Any]]:
        """Lines with a sequence number above `seq`, oldest first."""
        with self._guard:
            return [dict(line) for line in self._lines if line["seq"] > seq]

    def newest(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` lines, newest first."""
        with self._guard:
            return [dict(line) for line in reversed(self._lines)][:limit]
