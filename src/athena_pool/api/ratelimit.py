"""A sliding-window limiter per key (client IP), bounded in memory: at most `max_keys` keys are tracked,
the least recently used are forgotten first, and each key keeps at most `limit` timestamps."""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_s: float, max_keys: int, clock: Callable[[], float]) -> None:
        if limit < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("limiter: limit >= 1, window_s > 0 and max_keys >= 1")
        self._limit = limit
        self._window = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may act again; 0 if it may act now."""
        hits = self._recent(key)
        if len(hits) < self._limit:
            return 0
        return max(1, math.ceil(hits[0] + self._window - self._clock()))

    def hit(self, key: str) -> int:
        """Counts one action; returns retry_after as it was before counting (0: allowed)."""
        wait = self.retry_after(key)
        if wait:
            return wait
        hits = self._hits.setdefault(key, deque(maxlen=self._limit))
        hits.append(self._clock())
        self._hits.move_to_end(key)
        while len(self._hits) > self._max_keys:
            self._hits.popitem(last=False)
        return 0

    def _recent(self, key: str) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        horizon = self._clock() - self._window
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits
