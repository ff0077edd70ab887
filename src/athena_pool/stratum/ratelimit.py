"""Token buckets per key (the client IP), as GCRA: one number per key, exact waits, FIFO within a key.

`reserve` answers how long the caller must wait before going ahead (0 most of the time), or None when that
wait would pass `max_delay`: the caller then refuses the request instead. A reservation is taken at once, so
requests of one IP are served in order and a burst of them gets evenly spaced waits.
"""

from __future__ import annotations

from athena_pool.stratum.settings import Rate


class RateTable:
    """The buckets of one kind of request, one per key; full buckets are forgotten by `sweep`."""

    def __init__(self, rate: Rate, max_delay: float, max_keys: int = 200_000) -> None:
        self._interval = 1.0 / rate.per_second
        self._tolerance = (rate.burst - 1) * self._interval
        self._max_delay = max_delay
        self._max_keys = max_keys
        self._tat: dict[str, float] = {}  # theoretical arrival time of the next request, per key

    def reserve(self, key: str, now: float) -> float | None:
        tat = max(self._tat.get(key, now), now)
        delay = tat - self._tolerance - now
        if delay > self._max_delay:
            return None
        if key not in self._tat and len(self._tat) >= self._max_keys:
            self.sweep(now)
        self._tat[key] = tat + self._interval
        return max(0.0, delay)

    def charge(self, key: str, now: float) -> None:
        """Takes one token after the fact (the request already went ahead): never refused."""
        if key not in self._tat and len(self._tat) >= self._max_keys:
            self.sweep(now)
        self._tat[key] = max(self._tat.get(key, now), now) + self._interval

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` has a token again (0 when it has one); takes nothing."""
        tat = self._tat.get(key)
        return 0.0 if tat is None else max(0.0, tat - self._tolerance - now)

    def sweep(self, now: float) -> None:
        """Forget keys whose bucket is full again (they would start from a full bucket anyway)."""
        for key in [key for key, tat in self._tat.items() if tat <= now]:
            del self._tat[key]

    def __len__(self) -> int:
        return len(self._tat)
