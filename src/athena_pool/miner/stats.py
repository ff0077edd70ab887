"""What the miner has done so far, and its hashrate over a sliding window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class MinerStats:
    logins: int = 0  # successful logins, the first included
    disconnects: int = 0
    jobs: int = 0
    shares_found: int = 0
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    stale_dropped: int = 0  # found for a job the pool had already replaced: not sent, as xmrig does
    queue_dropped: int = 0  # found while the submit queue was full
    hashes: int = 0
    session_id: str = ""
    job_id: str = ""
    pool: str = ""
    last_error: str = ""
    last_reject: str = ""


class HashrateMeter:
    """Hashes per second over the last `window` seconds of samples (a bounded deque)."""

    def __init__(self, window: float = 60.0, max_samples: int = 256) -> None:
        self._window = window
        self._samples: deque[tuple[float, int]] = deque(maxlen=max_samples)

    def add(self, now: float, total_hashes: int) -> None:
        self._samples.append((now, total_hashes))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window:
            self._samples.popleft()

    def rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end - start) if end > start else 0.0
