"""Hashing off the event loop: a thread pool sized to the cores (every hash function releases the GIL)."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from athena_pool.pow.base import PowAlgorithm, SeedPreparer


@dataclass
class HashTimings:
    """Running totals for the metrics endpoint: hashes done and seconds spent, per algorithm."""

    count: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, algo: str, elapsed: float) -> None:
        self.count[algo] = self.count.get(algo, 0) + 1
        self.seconds[algo] = self.seconds.get(algo, 0.0) + elapsed


class PowVerifier:
    """Runs an algorithm's `hash` in worker threads so one slow hash never stalls other miners.

    `prepare_seed` builds a seed's state (RandomX: its cache, or its dataset in full mode) in a thread of its
    own, so a build of seconds, or of a minute for a full dataset, never holds up a hashing thread.
    """

    def __init__(self, algorithm: PowAlgorithm, *, threads: int | None = None) -> None:
        self.algorithm = algorithm
        self.threads = threads or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="pow")
        self._preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pow-prepare")
        self.timings = HashTimings()

    @property
    def prepares_seeds(self) -> bool:
        """True when the algorithm is keyed by a seed whose state is worth building ahead (RandomX)."""
        return self.algorithm.needs_seed and isinstance(self.algorithm, SeedPreparer)

    async def prepare_seed(self, seed: bytes) -> None:
        """Build `seed`'s state ahead of the first share that needs it (a JobManager `on_next_seed` hook)."""
        if not isinstance(self.algorithm, SeedPreparer):
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._preparer, self.algorithm.prepare, seed)

    async def hash(self, blob: bytes, *, height: int = 0, seed: bytes | None = None) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._timed_hash, blob, height, seed)

    def _timed_hash(self, blob: bytes, height: int, seed: bytes | None) -> bytes:
        started = time.perf_counter()
        digest = self.algorithm.hash(blob, height=height, seed=seed)
        self.timings.add(self.algorithm.name, time.perf_counter() - started)
        return digest

    def close(self) -> None:
        self._preparer.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True)
        self.algorithm.close()
