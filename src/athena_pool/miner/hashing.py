"""Hashing threads. The pool's hash functions release the GIL, so N threads use N cores.

Threads take nonces in small batches from one counter per job, so no two threads try the same nonce and a
new job reaches every thread within one batch. A thread that finds a share hands it to `on_share`, which
must be thread-safe (the Miner passes a `call_soon_threadsafe` wrapper).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from athena_pool.miner.job import MiningJob
from athena_pool.pow import PowAlgorithm, create_algorithm

BATCH_SIZE = 8


@dataclass(frozen=True)
class FoundShare:
    job: MiningJob
    nonce: bytes
    pow_hash: bytes


@dataclass(frozen=True)
class _Batch:
    job: MiningJob
    first_counter: int
    count: int


class AlgorithmCache:
    """One hasher per algorithm name, created on first use and shared by the threads (hash is thread-safe)."""

    def __init__(self, factory: Callable[[str], PowAlgorithm] = create_algorithm) -> None:
        self._factory = factory
        self._algorithms: dict[str, PowAlgorithm] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> PowAlgorithm:
        with self._lock:
            algorithm = self._algorithms.get(name)
            if algorithm is None:
                algorithm = self._algorithms[name] = self._factory(name)
            return algorithm

    def close(self) -> None:
        with self._lock:
            for algorithm in self._algorithms.values():
                algorithm.close()
            self._algorithms.clear()


class HashWorkers:
    def __init__(
        self,
        threads: int,
        algorithms: AlgorithmCache,
        on_share: Callable[[FoundShare], None],
        on_error: Callable[[str], None],
    ) -> None:
        if threads < 1:
            raise ValueError(f"need at least one hashing thread, got {threads}")
        self._thread_count = threads
        self._algorithms = algorithms
        self._on_share = on_share
        self._on_error = on_error
        self._condition = threading.Condition()
        self._job: MiningJob | None = None
        self._first_counter = 0
        self._next_counter = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._hashes = 0

    @property
    def hashes(self) -> int:
        with self._condition:
            return self._hashes

    def start(self) -> None:
        for index in range(self._thread_count):
            thread = threading.Thread(target=self._work, name=f"miner-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def set_job(self, job: MiningJob | None, first_counter: int = 0) -> None:
        """Switch every thread to `job` (None pauses them); `first_counter` spreads miners over the space."""
        with self._condition:
            self._job = job
            self._first_counter = first_counter
            self._next_counter = first_counter
            self._condition.notify_all()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _take_batch(self) -> _Batch | None:
        with self._condition:
            while not self._stopping and self._job is None:
                self._condition.wait()
            if self._stopping or self._job is None:
                return None
            job = self._job
            first = self._next_counter
            self._next_counter += BATCH_SIZE
            if self._next_counter - self._first_counter >= job.nonce_space:
                self._job = None  # nonce space exhausted: wait for the next job
            return _Batch(job, first, BATCH_SIZE)

    def _is_current(self, job: MiningJob) -> bool:
        with self._condition:
            return self._job is job and not self._stopping

    def _work(self) -> None:
        while (batch := self._take_batch()) is not None:
            try:
                self._hash_batch(batch)
            except ValueError as exc:  # PowError, or an algorithm name the pool knows and we do not
                self._on_error(f"cannot hash job {batch.job.job_id}: {exc}")
                self._drop_job(batch.job)

    def _drop_job(self, job: MiningJob) -> None:
        with self._condition:
            if self._job is job:
                self._job = None

    def _hash_batch(self, batch: _Batch) -> None:
        job = batch.job
        algorithm = self._algorithms.get(job.algo)
        done = 0
        for counter in range(batch.first_counter, batch.first_counter + batch.count):
            if not self._is_current(job):
                break
            nonce = job.nonce_bytes(counter)
            pow_hash = algorithm.hash(job.blob_with_nonce(nonce), height=job.height, seed=job.seed)
            done += 1
            if job.meets_target(pow_hash):
                self._on_share(FoundShare(job, nonce, pow_hash))
        with self._condition:
            self._hashes += done
